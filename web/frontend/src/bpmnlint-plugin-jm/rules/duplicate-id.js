// No two BPMN elements of a file share an id (checked once, from the definitions). On import the XML reader
// already drops a second element with a used id (with a warning); this covers models changed in the editor.
const { is } = require('bpmnlint-utils');
const { BPMN, children, rule, xmlName } = require('../util');

module.exports = rule('duplicate-id', function (node, say) {
  if (!is(node, 'bpmn:Definitions')) return;
  const seen = new Set();
  const visit = (el) => {
    if (el.id !== undefined && xmlName(el).uri === BPMN) {
      if (seen.has(el.id)) say(el, 'duplicate', { id: el.id });
      seen.add(el.id);
    }
    children(el).forEach(visit);
  };
  visit(node);
});
