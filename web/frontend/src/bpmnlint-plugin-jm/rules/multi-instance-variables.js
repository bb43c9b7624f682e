// A multi-instance collection and element variable are variable names (the table's message keys).
const { is } = require('bpmnlint-utils');
const table = require('../table');
const { attr, matches, rule } = require('../util');

module.exports = rule('multi-instance-variables', function (node, say, data, messages) {
  if (!is(node, 'bpmn:MultiInstanceLoopCharacteristics')) return;
  for (const name of Object.keys(messages)) {
    const value = attr(node, `camunda:${name}`);
    if (value !== undefined && value !== null && !matches(table.identifier_pattern, value)) {
      say(node, name, { value });
    }
  }
});
