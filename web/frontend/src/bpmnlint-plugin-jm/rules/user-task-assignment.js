// Every user task names an assignee, candidate groups or candidate users.
const { is } = require('bpmnlint-utils');
const { attr, rule } = require('../util');

module.exports = rule('user-task-assignment', function (node, say, data) {
  if (!is(node, 'bpmn:UserTask')) return;
  if (data.attributes.some((name) => attr(node, `camunda:${name}`))) return;
  say(node, 'missing', { name: node.name || node.id });
});
