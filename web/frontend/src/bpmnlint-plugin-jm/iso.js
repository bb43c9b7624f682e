// The literals the server reads (engine/loader.py), ported so the modeler flags what the server refuses and never
// more: Python 3.11's date/datetime.fromisoformat as its C implementation parses (ASCII digits, exact widths, its
// leniencies included), SpiffWorkflow 3.2's TimerEventDefinition.parse_iso_duration and
// parse_iso_recurring_interval, and int(). Each check returns true when the server accepts the text;
// tests/test_lint_rules.py compares them with Python on a list of samples.

class Invalid extends Error {}

function fail() {
  throw new Invalid('invalid');
}

/** Exactly `n` ASCII digits at `pos`, as C's parse_digits. */
function ascii(text, pos, n) {
  const part = text.slice(pos, pos + n);
  if (part.length !== n || !/^[0-9]*$/.test(part)) fail();
  return n ? Number(part) : 0;
}

const DIGITS = /^\p{Nd}+$/u; // str.isdigit() for the strings int() and float() accept
const SPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PY_INT = new RegExp(`^${SPACE}*[+-]?\\p{Nd}+(_\\p{Nd}+)*${SPACE}*$`, 'u');

function pyInt(text) {
  if (!PY_INT.test(text)) fail();
}

function leap(year) {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function checkDate(year, month, day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12) fail();
  const days = [31, leap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (day < 1 || day > days) fail();
}

// datetime._isoweek_to_gregorian, then the date constructor's year check
function isoWeek(year, week, day) {
  if (year < 1 || year > 9999) fail();
  const jan1 = new Date(Date.UTC(2000, 0, 1));
  jan1.setUTCFullYear(year);
  const sundayBased = jan1.getUTCDay(); // Python's _ymd2ord(year, 1, 1) % 7
  if (week < 1 || week > 53) fail();
  if (week === 53 && !(sundayBased === 4 || (sundayBased === 3 && leap(year)))) fail();
  if (day < 1 || day > 7) fail();
  const mondayBased = (sundayBased + 6) % 7;
  const week1Monday = -mondayBased + (mondayBased > 3 ? 7 : 0); // days from 1 January
  const result = new Date(jan1.getTime() + (week1Monday + (week - 1) * 7 + (day - 1)) * 864e5);
  if (result.getUTCFullYear() < 1 || result.getUTCFullYear() > 9999) fail();
}

// datetime._find_isoformat_datetime_separator
function separator(text) {
  const n = text.length;
  if (n === 7) return 7;
  const isDigit = (c) => c >= '0' && c <= '9';
  if (text[4] === '-') {
    if (text[5] !== 'W') return 10;
    if (n > 8 && text[8] === '-') {
      if (n === 9) fail();
      return n > 10 && isDigit(text[10]) ? 8 : 10;
    }
    return 8;
  }
  if (text[4] !== 'W') return 8;
  let idx = 7;
  while (idx < n && isDigit(text[idx])) idx += 1;
  if (idx < 9) return idx;
  return idx % 2 === 0 ? 7 : 8;
}

// datetime._parse_isoformat_date (as _datetimemodule.c parse_isoformat_date), then the date constructor's checks
function parseDate(text) {
  const year = ascii(text, 0, 4);
  const sep = text[4] === '-' ? 1 : 0;
  let pos = 4 + sep;
  if (text[pos] === 'W') {
    pos += 1;
    const week = ascii(text, pos, 2);
    pos += 2;
    let day = 1;
    if (text.length > pos) {
      if ((text[pos] === '-') !== Boolean(sep)) fail();
      pos += sep;
      day = ascii(text, pos, 1);
    }
    isoWeek(year, week, day);
    return;
  }
  const month = ascii(text, pos, 2);
  pos += 2;
  if ((text[pos] === '-') !== Boolean(sep)) fail();
  pos += sep;
  checkDate(year, month, ascii(text, pos, 2));
}

// _datetimemodule.c parse_hh_mm_ss_ff on text[start, end): the components, and whether text goes on after them
// (C reads on past `end` into the rest of the string, and so does this).
function parseClock(text, start, end) {
  const at = (i) => (i < text.length ? text[i] : '\0');
  const comps = [0, 0, 0, 0];
  let p = start;
  let sep = true;
  for (let i = 0; i < 3; i += 1) {
    comps[i] = ascii(text, p, 2);
    p += 2;
    const c = at(p);
    p += 1;
    if (i === 0) sep = c === ':';
    if (p >= end) return { comps, more: c !== '\0' };
    if (sep && c === ':') continue;
    if (c === '.' || c === ',') break;
    if (sep) fail();
    p -= 1;
  }
  const take = Math.min(end - p, 6);
  comps[3] = ascii(text, p, take) * 10 ** (6 - take);
  p += take;
  while (/[0-9]/.test(at(p))) p += 1;
  return { comps, more: at(p) !== '\0' };
}

// _datetimemodule.c parse_isoformat_time, then the time and timezone constructors' checks
function parseTime(text) {
  let tz = 0;
  do {
    if ('Z+-'.includes(text[tz])) break;
    tz += 1;
  } while (tz < text.length);
  const time = parseClock(text, 0, tz);
  const [h, m, s, us] = time.comps;
  if (h > 23 || m > 59 || s > 59 || us > 999999) fail();
  if (tz >= text.length) {
    if (time.more) fail();
    return;
  }
  if (text[tz] === 'Z') {
    if (tz + 1 !== text.length) fail();
    return;
  }
  const zone = parseClock(text, tz + 1, text.length);
  if (zone.more) fail();
  const [zh, zm, zs, zus] = zone.comps;
  if (((zh * 60 + zm) * 60 + zs) * 1e6 + zus >= 24 * 3600 * 1e6) fail();
}

function dateOnly(text) {
  if (![7, 8, 10].includes(text.length)) fail();
  parseDate(text);
}

function dateTime(text) {
  if (text.length < 7) fail();
  const at = separator(text);
  parseDate(text.slice(0, at));
  // A separator with no time after it is refused (Python's C implementation; its pure-Python twin accepts it).
  if (text.length > at) parseTime(text.slice(at + 1));
}

// SpiffWorkflow TimerEventDefinition.parse_iso_duration
function duration(expression) {
  const parsed = new Set();
  let withT = false;
  let current = expression.toLowerCase().replace(/^p+|p+$/g, '').replaceAll(',', '.');
  for (const designator of ['years', 'months', 'weeks', 'days', 't', 'hours', 'minutes', 'seconds']) {
    const at = current.indexOf(designator[0]);
    if (at < 0) continue;
    const [value, remainder] = [current.slice(0, at), current.slice(at + 1)];
    if (DIGITS.test(value)) {
      parsed.add(designator);
    } else if (/^[\p{Nd}.]+$/u.test(value) && /\p{Nd}/u.test(value) && !remainder) {
      if (value.split('.').length > 2) fail(); // float() refuses a second dot
      parsed.add(designator);
    }
    if (parsed.has(designator) || designator === 't') current = remainder;
    if (designator === 't') withT = true;
  }
  const timeParsed = ['hours', 'minutes', 'seconds'].some((d) => parsed.has(d));
  const dateParsed = ['years', 'months', 'days'].some((d) => parsed.has(d));
  if (current.length || timeParsed !== withT || (parsed.has('weeks') && dateParsed)) fail();
  return parsed;
}

// SpiffWorkflow TimerEventDefinition.parse_iso_week and parse_time_or_duration; 'date' or 'duration'
function timeOrDuration(text) {
  const upper = text.toUpperCase();
  if (upper.startsWith('P')) {
    // a number before T ("P2T1H") passes the parse but not the timedelta(**parsed) a cycle builds from it
    if (duration(text).has('t')) fail();
    return 'duration';
  }
  if (upper.includes('W')) {
    const m = /^(\p{Nd}{4})W(\p{Nd}{2})(\p{Nd})(T[^\n]+)?/u.exec(upper.replaceAll('-', ''));
    if (!m) fail();
    const value = (s) => Number([...s].map(digitValue).join(''));
    isoWeek(value(m[1]), value(m[2]), value(m[3]));
    dateTime(`2000-01-01${m[4] || ''}`); // the calendar date is valid; what follows it must be a time
    return 'date';
  }
  dateTime(text);
  return 'date';
}

/** The value of a decimal digit of any script: Unicode encodes each script's digits as one run 0 to 9. */
function digitValue(c) {
  const cp = c.codePointAt(0);
  let before = 0;
  while (DIGITS.test(String.fromCodePoint(cp - before - 1))) before += 1;
  return before % 10;
}

// SpiffWorkflow TimerEventDefinition.parse_iso_recurring_interval
function cycle(expression) {
  const parts = expression.toUpperCase().replaceAll('--', '/').replace(/^R+|R+$/g, '').split('/');
  if (parts[0]) pyInt(parts[0]);
  if (parts.length < 2) fail();
  const start = timeOrDuration(parts[1]);
  const end = parts.length === 3 ? timeOrDuration(parts[2]) : null;
  if (start === 'date' && end !== 'duration') fail();
  if (start === 'duration' && end === 'duration') fail();
}

function accepted(check, text) {
  try {
    check(text);
    return true;
  } catch (err) {
    if (err instanceof Invalid) return false;
    throw err;
  }
}

/** engine/loader.py _parse_timer_literal: kind is timeDate, timeDuration or timeCycle. */
function timerLiteral(kind, text) {
  if (kind === 'timeDate') return accepted(dateTime, text);
  if (kind === 'timeDuration') return accepted(duration, text);
  return accepted(cycle, text);
}

/** engine/loader.py _parse_assignment_literal: dueDate, followUpDate or priority, stripped. */
function assignmentLiteral(attr, text) {
  if (attr === 'priority') return accepted(pyInt, text);
  if (text.startsWith('P')) return accepted(duration, text);
  return accepted(text.length === 10 ? dateOnly : dateTime, text);
}

const SECONDS = {
  years: 365 * 86400, months: 30 * 86400, weeks: 7 * 86400, days: 86400, hours: 3600, minutes: 60, seconds: 1,
};

/** A number as Python's int() or float() reads the digits of any script (and one dot). */
function pyNumber(text) {
  return Number([...text].map((c) => (c === '.' ? '.' : String(digitValue(c)))).join(''));
}

// The values of SpiffWorkflow's parse_iso_duration (run only on text `duration` accepted)
function durationValues(expression) {
  const values = {};
  let current = expression.toLowerCase().replace(/^p+|p+$/g, '').replaceAll(',', '.');
  for (const designator of ['years', 'months', 'weeks', 'days', 't', 'hours', 'minutes', 'seconds']) {
    const at = current.indexOf(designator[0]);
    if (at < 0) continue;
    const [value, remainder] = [current.slice(0, at), current.slice(at + 1)];
    if (DIGITS.test(value) || (/^[\p{Nd}.]+$/u.test(value) && /\p{Nd}/u.test(value) && !remainder)) {
      values[designator] = pyNumber(value);
    }
    if (designator in values || designator === 't') current = remainder;
  }
  return values;
}

/**
 * engine/loader.py literal_period_seconds: the length of a literal timeDuration or of a literal timeCycle's
 * period in seconds (months as 30 days, years as 365), or null when the server would not read the literal.
 */
function periodSeconds(kind, text) {
  if (!timerLiteral(kind, text)) return null;
  let period = text;
  if (kind === 'timeCycle') {
    const parts = text.toUpperCase().replaceAll('--', '/').replace(/^R+|R+$/g, '').split('/').slice(1);
    period = parts.find((p) => p.startsWith('P')) || '';
  }
  if (!period || !accepted(duration, period)) return null;
  const values = durationValues(period);
  if (!Object.keys(values).length) return null;
  return Object.entries(values).reduce((sum, [k, v]) => sum + (SECONDS[k] ? v * SECONDS[k] : 0), 0);
}

module.exports = { assignmentLiteral, periodSeconds, timerLiteral };
