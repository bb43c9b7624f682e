// A multi-instance loop cardinality and completion condition are not empty; the server also compiles them.
const { is } = require('bpmnlint-utils');
const { rule, strip, stripBraces } = require('../util');

module.exports = rule('multi-instance-expressions', function (node, say, data) {
  if (!is(node, 'bpmn:MultiInstanceLoopCharacteristics')) return;
  for (const [name, what] of Object.entries(data.labels)) {
    const expr = node[name];
    if (!expr) continue;
    const text = strip(expr.body);
    if (!strip(stripBraces(text) || text)) say.expr(expr, 'empty', { what });
  }
});
