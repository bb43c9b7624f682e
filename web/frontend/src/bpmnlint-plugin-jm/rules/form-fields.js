// loader.py: form field ids are identifiers, not reserved, unique within the task; enum fields have values.
const { is } = require('bpmnlint-utils');
const known = require('../known');
const { extensions, rule } = require('../util');

const IDENT = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const RESERVED = ['typename', 'initiator', 'initiator_unit'];

module.exports = rule(function (node, reporter) {
  if (!is(node, 'bpmn:UserTask')) return;
  const seen = new Set();
  for (const formData of extensions(node, 'camunda:FormData')) {
    for (const field of formData.fields || []) {
      const id = (field.id || '').trim();
      if (!IDENT.test(id) || RESERVED.includes(id)) {
        reporter.report(node.id, `表单字段标识“${id}”无效：须以字母开头，只含字母、数字、下划线，且不能是保留名`);
        continue;
      }
      if (seen.has(id)) reporter.report(node.id, `表单字段标识“${id}”重复`);
      seen.add(id);
      const type = field.type || 'string';
      if (known.fieldTypes && !known.fieldTypes.includes(type)) reporter.report(node.id, `表单字段“${id}”的类型“${type}”不受支持`);
      if (type === 'enum' && !(field.values || []).length) reporter.report(node.id, `枚举字段“${id}”没有可选值`);
    }
  }
});

