// Resolution-item table editor (议定事项编辑表).
//
// Markup the page renders (no inline script; data-units / data-topics / data-initial name a JSON block by id,
// "units-json" or "#units-json", or hold the JSON itself):
//
//   <table class="table" data-items-editor data-field="items"
//          data-units="#units-json" data-topics="#topics-json" data-initial="[{…}]">
//     <thead>…optional, one header per column…</thead><tbody></tbody>
//   </table>
//   <script type="application/json" id="units-json">[["成员单位", [["minzheng", "区民政局"], …]], …]</script>
//   <script type="application/json" id="topics-json">[["3", "议题标题"], …]</script>            (optional)
//
// Options may be [value, label] pairs or {code|value|id, name|label|title} objects; [groupLabel, [options]]
// or {label, options} entries become <optgroup>s.
//
// Each row has content (textarea), lead_unit (select), co_units (multi-select), deadline (date, or a number of
// 工作日 in deadline_workdays), co_deadline (date, optional), topic_id (a select when data-topics is given, else a
// number input) and key_item (checkbox, 重点事项); inputs carry data-item-key="<key>" and no name,
// so only the hidden input is posted. The rows are serialized as JSON into
// <input type="hidden" name="<data-field>"> in the enclosing form (created when missing) on every change and on
// submit: [{"content": str, "lead_unit": str, "co_units": [str], "deadline": "YYYY-MM-DD" | "",
// "deadline_workdays": "N" | "", "co_deadline": "YYYY-MM-DD" | "", "topic_id": int | null, "key_item": bool}], one object per row on the screen (blank rows too; the server skips them and
// numbers its "第 n 行" messages the same way). An existing button [data-items-add="<field>"] adds rows (one
// is created after the table when the page has none). When the hidden input already
// holds JSON (the server re-rendered the form after a validation error), the rows start from it; otherwise
// from data-initial; otherwise one empty row.

const COLUMNS = [
  { key: 'content', label: '事项内容' },
  { key: 'lead_unit', label: '牵头单位' },
  { key: 'co_units', label: '配合单位' },
  { key: 'deadline', label: '办理时限' },
  { key: 'co_deadline', label: '配合时限' },
  { key: 'topic_id', label: '关联议题' },
  { key: 'key_item', label: '重点事项' },
];

/**
 * JSON named by a data-* attribute: the id of a `<script type="application/json">` block ("units-json" or
 * "#units-json"), or the JSON itself ("[…]" / "{…}"). null when absent or invalid.
 */
export function readJsonBlock(ref) {
  if (!ref) return null;
  const text = ref.trim();
  let source = text;
  if (!text.startsWith('[') && !text.startsWith('{')) {
    const el = document.getElementById(text.startsWith('#') ? text.slice(1) : text);
    if (!el) return null;
    source = el.textContent || 'null';
  }
  try {
    return JSON.parse(source);
  } catch (err) {
    console.error(`invalid JSON in ${text.slice(0, 40)}`, err);
    return null;
  }
}

function option(o) {
  if (Array.isArray(o)) return { value: String(o[0]), label: String(o[1] ?? o[0]) };
  if (o && typeof o === 'object') {
    const value = o.code ?? o.value ?? o.id;
    const label = o.name ?? o.label ?? o.title ?? value;
    return { value: String(value), label: String(label) };
  }
  return { value: String(o), label: String(o) };
}

/**
 * Options: [{code,name}] | [{value,label}] | [{id,title}] | [[value,label]], and groups as
 * [[groupLabel, [options…]]] or [{label, options: […]}] -> [{value,label} | {group, options}]
 */
function normalizeOptions(list) {
  if (!Array.isArray(list)) return [];
  return list.map((o) => {
    if (Array.isArray(o) && Array.isArray(o[1])) return { group: String(o[0]), options: o[1].map(option) };
    if (o && typeof o === 'object' && !Array.isArray(o) && Array.isArray(o.options)) {
      return { group: String(o.label ?? o.name ?? ''), options: o.options.map(option) };
    }
    return option(o);
  });
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children) node.append(child);
  return node;
}

function select(options, { multiple = false, placeholder = null, selected = [] } = {}) {
  const chosen = new Set((Array.isArray(selected) ? selected : [selected]).filter((v) => v != null).map(String));
  const s = el('select', { class: 'form-select form-select-sm', multiple });
  if (placeholder != null) s.append(el('option', { value: '', text: placeholder }));
  const addOption = (parent, o) => {
    const opt = el('option', { value: o.value, text: o.label });
    opt.selected = chosen.has(o.value);
    parent.append(opt);
  };
  let count = 0;
  for (const o of options) {
    if (o.group !== undefined) {
      const g = el('optgroup', { label: o.group });
      o.options.forEach((x) => addOption(g, x));
      s.append(g);
      count += o.options.length + 1;
    } else {
      addOption(s, o);
      count += 1;
    }
  }
  if (multiple) s.size = Math.min(Math.max(count, 2), 6);
  return s;
}

class ItemsEditor {
  constructor(table) {
    this.table = table;
    this.field = table.getAttribute('data-field') || 'items';
    this.units = normalizeOptions(readJsonBlock(table.getAttribute('data-units')));
    const topics = readJsonBlock(table.getAttribute('data-topics'));
    this.topics = topics ? normalizeOptions(topics) : null;
    this.form = table.closest('form');
    this.hidden = this.findOrCreateHidden();
    this.labels = this.ensureHeader();
    this.tbody = table.tBodies[0] || table.appendChild(document.createElement('tbody'));
    this.addButton = this.findOrCreateAddButton();

    let initial = null;
    if (this.hidden.value.trim()) {
      try {
        initial = JSON.parse(this.hidden.value);
      } catch {
        initial = null;
      }
    }
    if (!Array.isArray(initial)) initial = readJsonBlock(table.getAttribute('data-initial'));
    if (!Array.isArray(initial) || initial.length === 0) initial = [{}];
    this.tbody.replaceChildren();
    for (const item of initial) this.addRow(item);

    table.addEventListener('input', () => this.serialize());
    table.addEventListener('change', () => this.serialize());
    table.addEventListener('click', (event) => {
      const btn = event.target.closest('[data-items-remove]');
      if (btn && table.contains(btn)) {
        btn.closest('tr').remove();
        this.serialize();
      }
    });
    this.addButton.addEventListener('click', () => {
      const row = this.addRow({});
      this.serialize();
      row.querySelector('[data-item-key="content"]').focus();
    });
    if (this.form) this.form.addEventListener('submit', () => this.serialize());
    this.serialize();
  }

  findOrCreateHidden() {
    const scope = this.form || this.table.parentElement;
    for (const input of scope.querySelectorAll('input[type="hidden"]')) {
      if (input.name === this.field) return input;
    }
    const input = el('input', { type: 'hidden', name: this.field });
    if (this.form) this.form.append(input);
    else this.table.after(input);
    return input;
  }

  ensureHeader() {
    let thead = this.table.tHead;
    if (!thead) {
      thead = this.table.createTHead();
      const tr = thead.insertRow();
      for (const c of COLUMNS) tr.append(el('th', { scope: 'col', text: c.label }));
      tr.append(el('th', { scope: 'col' }, [el('span', { class: 'visually-hidden', text: '操作' })]));
    }
    const ths = thead.rows[0] ? [...thead.rows[0].cells] : [];
    return COLUMNS.map((c, i) => (ths[i] && ths[i].textContent.trim()) || c.label);
  }

  findOrCreateAddButton() {
    for (const b of document.querySelectorAll('[data-items-add]')) {
      if ((b.getAttribute('data-items-add') || this.field) === this.field) return b;
    }
    const b = el('button', {
      type: 'button',
      class: 'btn btn-outline-primary btn-sm',
      'data-items-add': this.field,
      text: '＋ 添加事项',
    });
    const wrapper = this.table.closest('.table-responsive') || this.table;
    wrapper.after(b);
    return b;
  }

  addRow(item) {
    const n = this.tbody.rows.length + 1;
    const content = el('textarea', { class: 'form-control form-control-sm', rows: 2 });
    content.value = item.content ?? '';
    const lead = select(this.units, { placeholder: '请选择', selected: item.lead_unit });
    const co = select(this.units, { multiple: true, selected: item.co_units || [] });
    // The deadline is a date, or a number of 工作日 counted by the server from the day the items are recorded.
    const deadline = el('div', { class: 'd-flex flex-column gap-1' });
    const deadlineDate = el('input', { type: 'date', class: 'form-control form-control-sm' });
    deadlineDate.value = item.deadline ?? '';
    const workdays = el('input', {
      type: 'number', min: 1, max: 250, step: 1, class: 'form-control form-control-sm', placeholder: '或 N 个工作日',
      'data-item-key': 'deadline_workdays', 'aria-label': `第${n}项 办理时限（工作日数）`,
    });
    workdays.value = item.deadline_workdays ?? '';
    deadline.append(deadlineDate, workdays);
    const coDeadline = el('input', { type: 'date', class: 'form-control form-control-sm' });
    coDeadline.value = item.co_deadline ?? '';
    const keyItem = el('input', { type: 'checkbox', class: 'form-check-input' });
    keyItem.checked = item.key_item === true;
    let topic;
    if (this.topics) {
      topic = select(this.topics, { placeholder: '（无）', selected: item.topic_id });
    } else {
      topic = el('input', { type: 'number', min: 1, step: 1, class: 'form-control form-control-sm' });
      topic.value = item.topic_id ?? '';
    }
    const inputs = {
      content, lead_unit: lead, co_units: co, deadline: deadlineDate, co_deadline: coDeadline, topic_id: topic,
      key_item: keyItem,
    };
    const cells = { deadline };
    const tr = el('tr', { 'data-item-row': '' });
    COLUMNS.forEach((c, i) => {
      const input = inputs[c.key];
      input.setAttribute('data-item-key', c.key);
      input.setAttribute('aria-label', `第${n}项 ${this.labels[i]}`);
      tr.append(el('td', { 'data-label': this.labels[i] }, [cells[c.key] || input]));
    });
    const remove = el('button', {
      type: 'button',
      class: 'btn btn-outline-danger btn-sm',
      'data-items-remove': '',
      'aria-label': `删除第${n}项`,
      text: '删除',
    });
    tr.append(el('td', { class: 'text-end' }, [remove]));
    this.tbody.append(tr);
    return tr;
  }

  rows() {
    return [...this.tbody.querySelectorAll('tr[data-item-row]')].map((tr) => {
      const get = (key) => tr.querySelector(`[data-item-key="${key}"]`);
      const topicRaw = get('topic_id').value.trim();
      const topicNum = Number(topicRaw);
      return {
        content: get('content').value.trim(),
        lead_unit: get('lead_unit').value,
        co_units: [...get('co_units').selectedOptions].map((o) => o.value),
        deadline: get('deadline').value,
        deadline_workdays: get('deadline_workdays').value.trim(),
        co_deadline: get('co_deadline').value,
        topic_id: topicRaw === '' ? null : Number.isInteger(topicNum) ? topicNum : topicRaw,
        key_item: get('key_item').checked,
      };
    });
  }

  serialize() {
    // Every row, blank ones too, so that the server's "第 n 行" is the n-th row on the screen.
    const items = this.rows();
    this.hidden.value = JSON.stringify(items);
    return items;
  }
}

export function initItemsEditors(root = document) {
  const editors = [];
  for (const table of root.querySelectorAll('table[data-items-editor]')) {
    if (table.hasAttribute('data-items-editor-ready')) continue;
    table.setAttribute('data-items-editor-ready', '');
    editors.push(new ItemsEditor(table));
  }
  return editors;
}
