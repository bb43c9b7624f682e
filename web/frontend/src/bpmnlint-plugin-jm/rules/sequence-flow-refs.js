// Both ends of a sequence flow are elements of the flow's own process.
const { is } = require('bpmnlint-utils');
const { rule } = require('../util');

function processOf(node) {
  let n = node;
  while (n && !is(n, 'bpmn:Process')) n = n.$parent;
  return n;
}

module.exports = rule('sequence-flow-refs', function (node, say, data) {
  if (!is(node, 'bpmn:SequenceFlow')) return;
  for (const [ref, end] of Object.entries(data.ends)) {
    const target = node[ref];
    // An id that names nothing is dropped by the XML reader, so it cannot be shown here.
    if (!target || processOf(target) !== processOf(node)) say(node, 'missing', { end, ref: target && target.id });
  }
});
