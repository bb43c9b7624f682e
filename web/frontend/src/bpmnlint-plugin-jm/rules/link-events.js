// A link throw event names a link catch event of the same name in its own scope; one catch event per name.
const { is } = require('bpmnlint-utils');
const { rule, strip } = require('../util');

function linkName(event) {
  const link = (event.eventDefinitions || []).find((d) => is(d, 'bpmn:LinkEventDefinition'));
  return link ? strip(link.name) : null;
}

module.exports = rule('link-events', function (node, say) {
  if (!is(node, 'bpmn:LinkEventDefinition')) return;
  const event = node.$parent;
  const name = strip(node.name);
  if (!name) {
    say(node, 'no_name');
    return;
  }
  const scope = event.$parent || {};
  const catches = (scope.flowElements || []).filter(
    (e) => is(e, 'bpmn:IntermediateCatchEvent') && linkName(e) === name);
  if (is(event, 'bpmn:IntermediateThrowEvent') && catches.length === 0) {
    say(node, 'no_catch', { name });
  } else if (is(event, 'bpmn:IntermediateCatchEvent') && catches.indexOf(event) > 0) {
    say(node, 'duplicate_catch', { name });
  }
});
