// A timer has a timeDate, timeDuration or timeCycle (the first one present counts): one whole ${...} expression
// (the server also compiles it) or an ISO 8601 literal the engine reads.
const { is } = require('bpmnlint-utils');
const { timerLiteral } = require('../iso');
const { isTemplate, rule, strip, stripBraces } = require('../util');

// Quartz cron as Camunda's timeCycle takes it (engine/loader.py is_cron): five to seven fields.
const CRON = /^(\S+\s+){4,6}\S+$/;

module.exports = rule('timer-definition', function (node, say, data) {
  if (!is(node, 'bpmn:TimerEventDefinition')) return;
  for (const [kind, what] of Object.entries(data.labels)) {
    const expr = node[kind];
    if (!expr) continue;
    const text = strip(expr.body);
    if (!text) say.expr(node, 'empty', { what });
    else if (isTemplate(text) && stripBraces(text) === null) say.expr(node, 'not_whole', { what, text });
    else if (!isTemplate(text) && !timerLiteral(kind, text)) {
      say(node, kind === 'timeCycle' && CRON.test(text) ? 'cron' : 'not_iso', { what, text });
    }
    return;
  }
  say(node, 'missing');
});
