// loader.py: a service task is camunda:type="external" with camunda:topic naming a registered action.
const { is } = require('bpmnlint-utils');
const known = require('../known');
const { attr, rule } = require('../util');

module.exports = rule(function (node, reporter) {
  if (!is(node, 'bpmn:ServiceTask')) return;
  const topic = attr(node, 'camunda:topic');
  if (attr(node, 'camunda:type') !== 'external' || !topic) {
    reporter.report(node.id, '服务任务须选择一个已登记的动作（camunda:type="external" 与 camunda:topic）');
  } else if (known.actions && !known.actions.includes(topic)) {
    reporter.report(node.id, `动作“${topic}”未登记`);
  }
});
