// A literal loop cardinality is at most the multi-instance budget (the server's setting when the page gives it,
// else the table's default); sizes that come from data are checked when the process runs.
const { is } = require('bpmnlint-utils');
const known = require('../known');
const { rule, strip, stripBraces } = require('../util');

module.exports = rule('multi-instance-size', function (node, say, data) {
  if (!is(node, 'bpmn:MultiInstanceLoopCharacteristics') || !node.loopCardinality) return;
  const text = strip(node.loopCardinality.body);
  const body = stripBraces(text) || text;
  const limit = (known.budgets && known.budgets.max_multi_instance) || data.max;
  if (/^[0-9]+$/.test(body) && Number(body) > limit) say(node.loopCardinality, 'too_many', { value: body, limit });
});
