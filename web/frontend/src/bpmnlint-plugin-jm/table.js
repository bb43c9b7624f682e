// The rule table shared with the server's lint (engine/loader.py): ids, severities, Chinese message templates and
// the data the rules need. esbuild bundles the JSON; Node (bpmnlint's compile-config at build time) requires it.
module.exports = require('../../../../engine/lint_rules.json');
