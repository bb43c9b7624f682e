const { is } = require('bpmnlint-utils');

/** An attribute such as 'camunda:assignee', whether or not the camunda moddle extension is loaded. */
function attr(node, name) {
  let value;
  try {
    value = node.get(name);
  } catch (err) {
    value = undefined;
  }
  if (value === undefined && node.$attrs) value = node.$attrs[name];
  return typeof value === 'string' ? value.trim() : value;
}

/** The extension elements of `node` of the given type, e.g. 'camunda:FormData'. */
function extensions(node, type) {
  const ext = node.extensionElements;
  const values = (ext && ext.values) || [];
  return values.filter((v) => is(v, type) || (v.$type || '').toLowerCase() === type.toLowerCase());
}

function rule(check) {
  return function () {
    return { check };
  };
}

module.exports = { attr, extensions, rule };
