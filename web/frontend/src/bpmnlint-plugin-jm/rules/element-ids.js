// Every flow node has an id (Camunda 7 requires one; flows without one get a generated id on the server), and a
// process id fits the engine's key column.
const { BPMN, rule, xmlName } = require('../util');

module.exports = rule('element-ids', function (node, say, data) {
  const { uri, local } = xmlName(node);
  if (uri !== BPMN) return;
  if (data.flow_nodes.includes(local) && !node.id) say(node, 'missing', { kind: local });
  if (local === 'process' && [...(node.id || '')].length > data.max_process_id) {
    say(node, 'too_long', { id: node.id, max: data.max_process_id });
  }
});
