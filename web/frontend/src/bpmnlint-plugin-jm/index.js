// bpmnlint plugin "jm": the rules of engine/loader.py that can run in the browser on the modeler's model.
// The server check (POST /designer/check) stays authoritative; these give the designer early markers.
// Bundled by src/bpmnlintrc-plugin.mjs (compile-config at build time); CommonJS so bpmnlint can load it in Node.
module.exports = {
  configs: {
    recommended: {
      rules: {
        'user-task-assignment': 'error',
        'service-task-action': 'error',
        'form-fields': 'error',
        'timer-definition': 'error',
        'call-activity-target': 'error',
        'unsupported-elements': 'error',
      },
    },
  },
};
