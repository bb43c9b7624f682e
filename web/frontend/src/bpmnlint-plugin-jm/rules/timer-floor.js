// A literal timer duration or cycle period is at least the timer floor (the server's setting when the page gives
// it, else the table's default); values from ${...} expressions are raised to the floor at run time.
const { is } = require('bpmnlint-utils');
const known = require('../known');
const { periodSeconds } = require('../iso');
const { isTemplate, rule, strip } = require('../util');

module.exports = rule('timer-floor', function (node, say, data) {
  if (!is(node, 'bpmn:TimerEventDefinition')) return;
  const kind = ['timeDate', 'timeDuration', 'timeCycle'].find((k) => node[k]);
  if (!kind || !(kind in data.labels)) return;
  const text = strip(node[kind].body);
  if (!text || isTemplate(text)) return;
  const floor = (known.budgets && known.budgets.min_timer_seconds) || data.min_seconds;
  const seconds = periodSeconds(kind, text);
  if (seconds !== null && seconds < floor) say(node, 'too_short', { what: data.labels[kind], text, floor });
});
