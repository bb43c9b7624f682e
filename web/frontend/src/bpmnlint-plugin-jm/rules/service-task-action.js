// A service task is camunda:type="external" with a camunda:topic naming a registered action.
const { is } = require('bpmnlint-utils');
const known = require('../known');
const { attr, rule } = require('../util');

module.exports = rule('service-task-action', function (node, say) {
  if (!is(node, 'bpmn:ServiceTask')) return;
  const topic = attr(node, 'camunda:topic');
  if (attr(node, 'camunda:type') !== 'external' || !topic) {
    say(node, 'not_external');
  } else if (known.actions && !known.actions.includes(topic)) {
    say(node, 'unregistered', { topic });
  }
});
