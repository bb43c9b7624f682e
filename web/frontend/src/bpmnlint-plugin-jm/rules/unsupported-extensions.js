// Camunda extension elements the engine refuses (the table's message keys), wherever they appear.
const { CAMUNDA, rule, xmlName } = require('../util');

module.exports = rule('unsupported-extensions', function (node, say, data, messages) {
  const { uri, local } = xmlName(node);
  if (uri === CAMUNDA && local in messages) say(node, local);
});
