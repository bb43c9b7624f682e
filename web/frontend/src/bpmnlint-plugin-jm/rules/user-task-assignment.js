// loader.py: every user task has an assignee, candidate groups or candidate users.
const { is } = require('bpmnlint-utils');
const { attr, rule } = require('../util');

module.exports = rule(function (node, reporter) {
  if (!is(node, 'bpmn:UserTask')) return;
  if (attr(node, 'camunda:assignee') || attr(node, 'camunda:candidateGroups') || attr(node, 'camunda:candidateUsers')) {
    return;
  }
  reporter.report(node.id, '用户任务没有指定办理人或候选组（camunda:assignee / candidateGroups）');
});
