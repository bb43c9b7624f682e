// No Java delegates or external scripts: camunda:class, camunda:expression, ... on any element.
const { BPMN, attr, rule, xmlName } = require('../util');

module.exports = rule('delegate-attributes', function (node, say, data) {
  const { uri, local } = xmlName(node);
  if (data.allowed_on.includes(local)) return;
  for (const name of data.attributes) {
    // A camunda element's own attributes (a listener's class="...") are not camunda:-prefixed in the XML.
    const value = uri === BPMN ? attr(node, `camunda:${name}`) : (node.$attrs || {})[`camunda:${name}`];
    if (value !== undefined && value !== null) say(node, 'refused', { attribute: name });
  }
});
