const { is, isAny } = require('bpmnlint-utils');
const table = require('./table');

const BPMN = 'http://www.omg.org/spec/BPMN/20100524/MODEL';
const CAMUNDA = 'http://camunda.org/schema/1.0/bpmn';

/** An attribute such as 'camunda:assignee' as written, whether or not the camunda moddle extension is loaded. */
function attr(node, name) {
  let value;
  try {
    value = node.get(name);
  } catch (err) {
    value = undefined;
  }
  if (value === undefined && node.$attrs) value = node.$attrs[name];
  return value;
}

/** The extension elements of `node` of the given type, e.g. 'camunda:FormData'. */
function extensions(node, type) {
  const ext = node.extensionElements;
  const values = (ext && ext.values) || [];
  return values.filter((v) => is(v, type) || (v.$type || '').toLowerCase() === type.toLowerCase());
}

/** The camunda:property elements named `name` of a node's camunda:properties. */
function properties(node, name) {
  return extensions(node, 'camunda:Properties').flatMap((p) => p.values || []).filter((p) => p.name === name);
}

/** The namespace and the local name the element has in the XML, e.g. { uri: BPMN, local: 'scriptTask' }. */
function xmlName(node) {
  const d = node.$descriptor || {};
  const ns = d.ns || {};
  if (d.isGeneric) return { uri: ns.uri, local: ns.localName };
  const pkg = node.$model && ns.prefix ? node.$model.getPackage(ns.prefix) : null;
  const lower = pkg && pkg.xml && pkg.xml.tagAlias === 'lowerCase';
  const local = lower && ns.localName ? ns.localName[0].toLowerCase() + ns.localName.slice(1) : ns.localName;
  return { uri: pkg && pkg.uri, local };
}

/** The children the model contains (not references, not attributes), as bpmnlint's traversal walks them. */
function children(node) {
  const d = node.$descriptor;
  if (!d || d.isGeneric) return [];
  const simple = ['String', 'Boolean', 'Integer', 'Real'];
  return d.properties
    .filter((p) => !p.isAttr && !p.isReference && !simple.includes(p.type) && p.name in node)
    .flatMap((p) => (p.isMany ? node[p.name] : [node[p.name]]))
    .filter((c) => c && c.$descriptor);
}

/** Where a problem on `node` is shown: the nearest flow element, process or definitions, else any id. */
function owner(node) {
  for (let n = node; n; n = n.$parent) {
    if (n.id && isAny(n, ['bpmn:FlowElement', 'bpmn:Process', 'bpmn:Definitions'])) return n.id;
  }
  for (let n = node; n; n = n.$parent) if (n.id) return n.id;
  return undefined;
}

// Python's str.strip(), str(None) and re.match(pattern) of the server's lint, so messages come out identical.
const SPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const STRIP = new RegExp(`^${SPACE}+|${SPACE}+$`, 'g');

function strip(text) {
  return (text || '').replace(STRIP, '');
}

function show(value) {
  return value === undefined || value === null ? 'None' : String(value);
}

/** Python's re.match of a table pattern written ^...$: its $ also matches before one final newline. */
function matches(pattern, text) {
  const re = new RegExp(pattern, 'u');
  return re.test(text) || (text.endsWith('\n') && re.test(text.slice(0, -1)));
}

/** A template of the table: {name} takes a value, nothing else is special, so ${...} stays as it is. */
function fill(template, values) {
  return template.replace(/\{([A-Za-z_]+)\}/g, (whole, key) => {
    if (!(key in values)) throw new Error(`message template needs {${key}}`);
    return show(values[key]);
  });
}

// engine/expressions.py is_template, _spans and strip_braces: ${...} and #{...}, braces in quotes skipped
function isTemplate(text) {
  return text.includes('${') || text.includes('#{');
}

function spans(text) {
  const found = [];
  const opening = /[$#]\{/g;
  let m;
  while ((m = opening.exec(text)) !== null) {
    let j = m.index + 2;
    let quote = null;
    while (j < text.length && (quote || text[j] !== '}')) {
      if (quote && text[j] === '\\') j += 1;
      else if (text[j] === "'" || text[j] === '"') quote = quote === text[j] ? null : (quote || text[j]);
      j += 1;
    }
    if (j >= text.length) return null;
    found.push([m.index, j + 1]);
    opening.lastIndex = j + 1;
  }
  return found;
}

function stripBraces(text) {
  const t = strip(text);
  const s = spans(t);
  if (s && s.length === 1 && s[0][0] === 0 && s[0][1] === t.length) return t.slice(2, -1);
  return null;
}

/**
 * The bpmnlint rule for the table's rule `id`. check(node, say, data, messages) gets the rule's data and message
 * templates, and reports with say(el, messageKey, values), or say.expr(el, key, values) for the table's shared
 * expression messages, on the element the designer sees (owner).
 */
function rule(id, check) {
  const def = table.rules.find((r) => r.id === id);
  if (!def) throw new Error(`rule ${id} is not in engine/lint_rules.json`);
  const data = def.data || {};
  function factory() {
    return {
      check(node, reporter) {
        const say = (el, key, values = {}) => reporter.report(owner(el), fill(def.messages[key], values));
        say.expr = (el, key, values = {}) => reporter.report(owner(el), fill(table.expression_messages[key], values));
        check(node, say, data, def.messages);
      },
    };
  }
  factory.ruleId = id;
  return factory;
}

module.exports = {
  BPMN, CAMUNDA, attr, children, extensions, isTemplate, matches, properties, rule, strip, stripBraces, xmlName,
};
