// A call activity names an executable process, deployed already or in the same file.
const { is } = require('bpmnlint-utils');
const known = require('../known');
const { rule } = require('../util');

function executableProcesses(node) {
  let defs = node;
  while (defs && !is(defs, 'bpmn:Definitions')) defs = defs.$parent;
  return ((defs && defs.rootElements) || []).filter((e) => is(e, 'bpmn:Process') && e.isExecutable === true);
}

module.exports = rule('call-activity-target', function (node, say) {
  if (!is(node, 'bpmn:CallActivity')) return;
  const called = node.calledElement;
  if (!called) {
    say(node, 'missing');
  } else if (known.processes && !known.processes.includes(called)
             && !executableProcesses(node).some((p) => p.id === called)) {
    say(node, 'unknown', { called });
  }
});
