// No external forms: camunda:formKey and camunda:formRef are refused (generated forms from camunda:formData only).
const { BPMN, attr, rule, xmlName } = require('../util');

module.exports = rule('form-key', function (node, say, data) {
  if (xmlName(node).uri !== BPMN) return;
  for (const name of data.attributes) {
    const value = attr(node, `camunda:${name}`);
    if (value !== undefined && value !== null) say(node, 'refused', { attribute: name });
  }
});
