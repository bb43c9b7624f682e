// loader.py: a timer has a non-empty timeDate, timeDuration or timeCycle that parses (ISO 8601 or ${...}).
const { is } = require('bpmnlint-utils');
const { rule } = require('../util');

const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const CYCLE = /^R\d*\/.+/;
const LABELS = { timeDate: '定时日期', timeDuration: '定时时长', timeCycle: '循环定时' };

function valid(kind, text) {
  if (/^\$\{.*\}$/s.test(text)) return true;
  if (kind === 'timeDuration') return DURATION.test(text);
  if (kind === 'timeCycle') return CYCLE.test(text);
  return /^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(Date.parse(text));
}

module.exports = rule(function (node, reporter) {
  if (!is(node, 'bpmn:TimerEventDefinition')) return;
  const owner = node.$parent && node.$parent.id ? node.$parent.id : node.id;
  for (const kind of ['timeDate', 'timeDuration', 'timeCycle']) {
    const expr = node[kind];
    if (!expr) continue;
    const text = (expr.body || '').trim();
    if (!text) reporter.report(owner, `${LABELS[kind]}为空`);
    else if (!valid(kind, text)) reporter.report(owner, `${LABELS[kind]}“${text}”不是有效的 ISO 8601 值`);
    return;
  }
  reporter.report(owner, '定时事件缺少 timeDate、timeDuration 或 timeCycle');
});
