// A receive task and every catching message event reference a declared, named bpmn:message; a throwing message
// event has no external implementation. (A messageRef naming nothing is dropped by the XML reader: server only.)
const { is } = require('bpmnlint-utils');
const { attr, rule, strip, xmlName } = require('../util');

function messageRef(node, say) {
  const message = node.messageRef;
  if (!message) say(node, 'no_message');
  else if (!strip(message.name)) say(node, 'unknown_message', { ref: message.id });
}

module.exports = rule('message-events', function (node, say, data) {
  if (is(node, 'bpmn:ReceiveTask')) {
    if (!node.messageRef) say(node, 'receive_without_message', { name: node.name || node.id });
    else messageRef(node, say);
  } else if (is(node, 'bpmn:MessageEventDefinition')) {
    const parent = node.$parent ? xmlName(node.$parent).local : '';
    if (data.catching.includes(parent)) {
      messageRef(node, say);
    } else {
      for (const name of data.implementation) {
        const value = attr(node, `camunda:${name}`);
        if (value !== undefined && value !== null) say(node, 'throw_implementation', { attribute: name });
      }
    }
  }
});
