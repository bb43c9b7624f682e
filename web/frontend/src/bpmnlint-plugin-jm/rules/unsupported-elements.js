// BPMN element types the engine refuses (the table's message keys), e.g. script tasks.
const { BPMN, rule, xmlName } = require('../util');

module.exports = rule('unsupported-elements', function (node, say, data, messages) {
  const { uri, local } = xmlName(node);
  if (uri === BPMN && local in messages) say(node, local);
});
