// loader.py: a call activity names a process that exists (deployed, or in the same file).
const { is } = require('bpmnlint-utils');
const known = require('../known');
const { rule } = require('../util');

function processesOf(node) {
  let defs = node;
  while (defs && !is(defs, 'bpmn:Definitions')) defs = defs.$parent;
  return ((defs && defs.rootElements) || []).filter((e) => is(e, 'bpmn:Process')).map((p) => p.id);
}

module.exports = rule(function (node, reporter) {
  if (!is(node, 'bpmn:CallActivity')) return;
  const called = (node.calledElement || '').trim();
  if (!called) {
    reporter.report(node.id, '调用活动缺少 calledElement（被调用的流程标识）');
  } else if (known.processes && !known.processes.includes(called) && !processesOf(node).includes(called)) {
    reporter.report(node.id, `调用活动的目标流程“${called}”不存在`);
  }
});
