// Events the engine cannot run as Camunda 7 does: compensation, conditional and cancel events, signal throws,
// event subprocesses started by an error or an escalation.
const { BPMN, rule, xmlName } = require('../util');

module.exports = rule('unsupported-events', function (node, say, data, messages) {
  const { uri, local } = xmlName(node);
  if (uri !== BPMN) return;
  if (local in messages) say(node, local);
  if (node.isForCompensation === true) say(node, 'isForCompensation');
  const parent = node.$parent;
  const owner = parent ? xmlName(parent).local : '';
  if (local === 'signalEventDefinition' && ['intermediateThrowEvent', 'endEvent'].includes(owner)) {
    say(node, 'signal_throw');
  }
  if (['errorEventDefinition', 'escalationEventDefinition'].includes(local) && owner === 'startEvent'
      && parent.$parent && parent.$parent.triggeredByEvent === true) {
    say(node, 'event_subprocess');
  }
});
