// A user task's onComplete property names a registered action.
const { is } = require('bpmnlint-utils');
const known = require('../known');
const { properties, rule } = require('../util');

module.exports = rule('on-complete-action', function (node, say, data) {
  if (!is(node, 'bpmn:UserTask') || !known.actions) return;
  for (const p of properties(node, data.property)) {
    if (!known.actions.includes(p.value || '')) say(p, 'unregistered', { action: p.value });
  }
});
