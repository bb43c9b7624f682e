// bpmnlint plugin "jm": the server lint's rules (engine/loader.py) in the modeler, one rules/<id>.js per rule of
// the shared table engine/lint_rules.json, with its messages. The server check (POST /designer/check) stays
// authoritative; these give the designer early markers, and never refuse what the server accepts.
// Bundled by src/bpmnlintrc-plugin.mjs (compile-config at build time); CommonJS so bpmnlint can load it in Node.
const table = require('./table');

module.exports = {
  configs: {
    recommended: {
      rules: Object.fromEntries(table.rules.map((r) => [r.id, r.severity])),
    },
  },
};
