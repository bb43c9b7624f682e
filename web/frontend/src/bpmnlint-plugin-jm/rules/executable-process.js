// A file has at least one process with isExecutable="true".
const { is } = require('bpmnlint-utils');
const { rule } = require('../util');

module.exports = rule('executable-process', function (node, say) {
  if (!is(node, 'bpmn:Definitions')) return;
  const processes = (node.rootElements || []).filter((e) => is(e, 'bpmn:Process'));
  if (!processes.some((p) => p.isExecutable === true)) say(node, 'none');
});
