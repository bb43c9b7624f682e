// A sequence flow's condition is one whole ${...} expression (Camunda reads a bare one as text); the server
// also compiles it.
const { is } = require('bpmnlint-utils');
const { isTemplate, rule, strip, stripBraces } = require('../util');

module.exports = rule('condition-expression', function (node, say, data) {
  if (!is(node, 'bpmn:SequenceFlow') || !node.conditionExpression) return;
  const text = strip(node.conditionExpression.body);
  if (isTemplate(text) && stripBraces(text) === null) {
    say.expr(node, 'not_whole', { what: data.label, text });
  } else if (text && !isTemplate(text)) {
    say(node, 'bare', { text: [...text].slice(0, 80).join('') });
  } else if (!strip(stripBraces(text) || text)) {
    say.expr(node, 'empty', { what: data.label });
  }
});
