// A start event's starterGroups property is not empty.
const { is } = require('bpmnlint-utils');
const { properties, rule, strip } = require('../util');

module.exports = rule('starter-groups', function (node, say, data) {
  if (!is(node, 'bpmn:StartEvent')) return;
  for (const p of properties(node, data.property)) {
    if (!strip(p.value)) say(p, 'empty');
  }
});
