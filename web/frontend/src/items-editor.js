// Resolution-item table editor (议定事项编辑表).
//
// Markup the page renders (no inline script; data comes from JSON blocks named by data-* attributes):
//
//   <table class="table" data-items-editor data-field="items"
//          data-units="units-json" data-topics="topics-json" data-initial="items-json">
//     <thead>…optional, one header per column…</thead><tbody></tbody>
//   </table>
//   <script type="application/json" id="units-json">[{"code": "minzheng", "name": "区民政局"}, …]</script>
//   <script type="application/json" id="topics-json">[{"id": 3, "title": "…"}, …]</script>   (optional)
//   <script type="application/json" id="items-json">[{"content": …, "lead_unit": …}, …]</script> (optional)
//
// Each row has content (textarea), lead_unit (select), co_units (multi-select), deadline (date) and topic_id
// (a select when data-topics is given, else a number input); inputs carry data-item-key="<key>" and no name,
// so only the hidden input is posted. The rows are serialized as JSON into
// <input type="hidden" name="<data-field>"> in the enclosing form (created when missing) on every change and on
// submit: [{"content": str, "lead_unit": str, "co_units": [str], "deadline": "YYYY-MM-DD" | "",
// "topic_id": int | null}]. Rows left completely empty are not serialized. When the hidden input already
// holds JSON (the server re-rendered the form after a validation error), the rows start from it; otherwise
// from data-initial; otherwise one empty row.

const COLUMNS = [
  { key: 'content', label: '事项内容' },
  { key: 'lead_unit', label: '牵头单位' },
  { key: 'co_units', label: '配合单位' },
  { key: 'deadline', label: '办理时限' },
  { key: 'topic_id', label: '关联议题' },
];

/** Parse a `<script type="application/json" id="…">` block; null when absent or invalid. */
export function readJsonBlock(id) {
  if (!id) return null;
  const el = document.getElementById(id);
  if (!el) return null;
  try {
    return JSON.parse(el.textContent || 'null');
  } catch (err) {
    console.error(`invalid JSON in #${id}`, err);
    return null;
  }
}

/** [{code,name}] | [{value,label}] | [{id,title}] | [[value,label]] -> [{value,label}] */
function normalizeOptions(list) {
  if (!Array.isArray(list)) return [];
  return list.map((o) => {
    if (Array.isArray(o)) return { value: String(o[0]), label: String(o[1] ?? o[0]) };
    if (o && typeof o === 'object') {
      const value = o.code ?? o.value ?? o.id;
      const label = o.name ?? o.label ?? o.title ?? value;
      return { value: String(value), label: String(label) };
    }
    return { value: String(o), label: String(o) };
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
  if (multiple) s.size = Math.min(Math.max(options.length, 2), 5);
  if (placeholder != null) s.append(el('option', { value: '', text: placeholder }));
  for (const o of options) {
    const opt = el('option', { value: o.value, text: o.label });
    opt.selected = chosen.has(o.value);
    s.append(opt);
  }
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
    const deadline = el('input', { type: 'date', class: 'form-control form-control-sm' });
    deadline.value = item.deadline ?? '';
    let topic;
    if (this.topics) {
      topic = select(this.topics, { placeholder: '（无）', selected: item.topic_id });
    } else {
      topic = el('input', { type: 'number', min: 1, step: 1, class: 'form-control form-control-sm' });
      topic.value = item.topic_id ?? '';
    }
    const inputs = { content, lead_unit: lead, co_units: co, deadline, topic_id: topic };
    const tr = el('tr', { 'data-item-row': '' });
    COLUMNS.forEach((c, i) => {
      const input = inputs[c.key];
      input.setAttribute('data-item-key', c.key);
      input.setAttribute('aria-label', `第${n}项 ${this.labels[i]}`);
      tr.append(el('td', { 'data-label': this.labels[i] }, [input]));
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
        topic_id: topicRaw === '' ? null : Number.isInteger(topicNum) ? topicNum : topicRaw,
      };
    });
  }

  serialize() {
    const items = this.rows().filter(
      (r) => r.content || r.lead_unit || r.co_units.length || r.deadline || r.topic_id != null,
    );
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
