// A user task's assignment attributes are not blank, and the literal ones (not ${...}) are readable; the
// server also compiles the ${...} parts.
const { is } = require('bpmnlint-utils');
const { assignmentLiteral } = require('../iso');
const { attr, isTemplate, rule, strip } = require('../util');

module.exports = rule('assignment-attributes', function (node, say, data) {
  if (!is(node, 'bpmn:UserTask')) return;
  for (const name of data.attributes) {
    const value = attr(node, `camunda:${name}`);
    if (!value) continue;
    if (!strip(value)) say.expr(node, 'empty', { what: `camunda:${name}` });
    const kind = data.literal_kinds[name];
    if (kind && !isTemplate(value) && !assignmentLiteral(name, strip(value))) {
      say(node, 'bad_literal', { attribute: name, value, kind });
    }
  }
});
