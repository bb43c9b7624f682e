// Form fields: unique identifier ids that are not reserved, a known type, values for enums, known constraints
// with a number where one is needed.
const { is } = require('bpmnlint-utils');
const known = require('../known');
const table = require('../table');
const { extensions, matches, rule, strip } = require('../util');

// Python's float(): what a numeric constraint's config may be
const FLOAT = /^[+-]?((\p{Nd}(_?\p{Nd})*)(\.(\p{Nd}(_?\p{Nd})*)?)?|\.\p{Nd}(_?\p{Nd})*)([eE][+-]?\p{Nd}(_?\p{Nd})*)?$/u;
const SPECIAL = /^[+-]?(inf|infinity|nan)$/i;

function fieldType(field, say, data) {
  const type = field.type || data.default_type;
  if (known.fieldTypes && !known.fieldTypes.includes(type)) {
    say(field, 'bad_type', { field: field.id, type, available: [...known.fieldTypes].sort().join(', ') });
  }
  if (type === 'enum' && !(field.values || []).length) say(field, 'enum_without_values', { field: field.id });
}

function constraints(field, say, data) {
  for (const c of (field.validation && field.validation.constraints) || []) {
    const name = c.name || '';
    const config = strip(c.config);
    if (!data.constraints.includes(name)) {
      say(c, 'unknown_constraint', { field: field.id, constraint: name });
    } else if (data.numeric_constraints.includes(name) && !FLOAT.test(config) && !SPECIAL.test(config)) {
      say(c, 'constraint_not_number', { field: field.id, constraint: name });
    }
  }
}

module.exports = rule('form-fields', function (node, say, data) {
  if (!is(node, 'bpmn:UserTask') && !is(node, 'bpmn:StartEvent')) return;  // task forms and start forms
  const seen = new Set();
  for (const formData of extensions(node, 'camunda:FormData')) {
    for (const field of formData.fields || []) {
      const id = field.id || '';
      if (!matches(table.identifier_pattern, id) || data.reserved_ids.includes(id)) {
        say(field, 'bad_id', { field: id });
        continue;
      }
      if (seen.has(id)) say(field, 'duplicate_id', { field: id });
      seen.add(id);
      fieldType(field, say, data);
      constraints(field, say, data);
    }
  }
});
