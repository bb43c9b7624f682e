// The decision-table editor (dist/decisions.js + dist/decisions.css): dmn-js opened on one decision's table,
// server check, deploy (a designer's version waits for an approver) and export.
//
// The page (web/templates/designer/decision.html) renders
//
//   <div id="jm-decision" data-jm-decision="jm-decision-config">
//     … buttons with data-jm-action="check|deploy|export" … <div data-jm-canvas></div> <ol data-jm-problems></ol>
//   </div>
//   <script type="application/json" id="jm-decision-config">{ "key": …, "xmlUrl": … | null, "xml": … | null,
//     "checkUrl": …, "deployUrl": …, "csrfToken": …, "fileName": … }</script>
//
// State for tests: the root gets data-ready="true" once the table is shown, data-result="clean|checked|refused|
// submitted|unchanged|error" after a request; the modeler is window.JmDecisions.current.modeler.
import 'dmn-js/dist/assets/diagram-js.css';
import 'dmn-js/dist/assets/dmn-js-shared.css';
import 'dmn-js/dist/assets/dmn-js-drd.css';
import 'dmn-js/dist/assets/dmn-js-decision-table.css';
import 'dmn-js/dist/assets/dmn-js-decision-table-controls.css';
import 'dmn-js/dist/assets/dmn-js-literal-expression.css';
import 'dmn-js/dist/assets/dmn-font/css/dmn-embedded.css';
import './decisions.css';

import DmnModeler from 'dmn-js/lib/Modeler';

import { TranslateModule } from './decisions-i18n.js';

export const current = { modeler: null, config: null, problems: [] };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

class DecisionEditor {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.status = root.querySelector('[data-jm-status]');
    this.problemList = root.querySelector('[data-jm-problems]');
    this.problemBox = root.querySelector('[data-jm-problem-box]');
  }

  async start() {
    const xml = this.config.xml ?? await this.fetchText(this.config.xmlUrl);
    this.modeler = new DmnModeler({
      container: this.root.querySelector('[data-jm-canvas]'),
      // per view: dmn-js replaces `common.additionalModules` with each view's own list
      drd: { additionalModules: [TranslateModule] },
      decisionTable: { additionalModules: [TranslateModule] },
      literalExpression: { additionalModules: [TranslateModule] },
    });
    current.modeler = this.modeler;
    current.config = this.config;
    await this.modeler.importXML(xml);
    const view = this.modeler.getViews().find((v) => v.type === 'decisionTable' && v.element.id === this.config.key)
      || this.modeler.getViews().find((v) => v.type === 'decisionTable');
    if (view) await this.modeler.open(view);
    const viewer = this.modeler.getActiveViewer();
    if (viewer) viewer.get('eventBus').on('elements.changed', () => this.setDirty(true));
    this.root.querySelectorAll('[data-jm-action]').forEach((button) => {
      button.addEventListener('click', () => this.run(button.getAttribute('data-jm-action')));
    });
    window.addEventListener('beforeunload', (event) => {
      if (this.dirty) {
        event.preventDefault();
        event.returnValue = '';
      }
    });
    this.root.setAttribute('data-ready', 'true');
  }

  async fetchText(url) {
    const response = await fetch(url, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.text();
  }

  setDirty(dirty) {
    this.dirty = dirty;
    const badge = this.root.querySelector('[data-jm-dirty]');
    if (badge) badge.hidden = !dirty;
  }

  async run(action) {
    this.root.setAttribute('data-busy', 'true');
    try {
      if (action === 'check') await this.check();
      else if (action === 'deploy') await this.deploy();
      else if (action === 'export') await this.exportXml();
    } catch (err) {
      this.showStatus('danger', `操作失败：${(err && err.message) || err}`);
      this.root.setAttribute('data-result', 'error');
    } finally {
      this.root.removeAttribute('data-busy');
    }
  }

  showStatus(kind, message, ...extra) {
    this.status.replaceChildren(el('div', { class: `alert alert-${kind} py-2 mb-0`, role: kind === 'danger' ? 'alert' : 'status' },
      el('span', { text: message }), ...extra));
  }

  async xml() {
    const { xml } = await this.modeler.saveXML({ format: true });
    return xml;
  }

  async post(url, body) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': this.config.csrfToken },
      body: JSON.stringify(body),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (err) {
      data = { message: `HTTP ${response.status}` };
    }
    return { status: response.status, data };
  }

  showProblems(problems) {
    this.root.querySelectorAll('.jm-problem-cell').forEach((n) => n.classList.remove('jm-problem-cell'));
    current.problems = problems;
    this.problemList.replaceChildren(...problems.map((p) => {
      const where = [p.line ? `第 ${p.line} 行` : null, p.element || null].filter(Boolean).join(' · ');
      const cell = p.element ? this.root.querySelector(`[data-element-id="${CSS.escape(p.element)}"]`) : null;
      if (cell) cell.classList.add('jm-problem-cell');
      return el('li', { class: 'jm-problem-item', 'data-element': p.element || '' },
        where ? el('span', { class: 'jm-problem-where', text: where }) : null,
        el('span', { class: 'jm-problem-message', text: p.message }));
    }));
    if (this.problemBox) this.problemBox.hidden = problems.length === 0;
  }

  async check() {
    const { status, data } = await this.post(this.config.checkUrl, { xml: await this.xml() });
    if (status !== 200) throw new Error(data.message || `HTTP ${status}`);
    this.showProblems(data.problems || []);
    if (data.problems && data.problems.length) {
      this.showStatus('warning', `检查发现 ${data.problems.length} 个问题，修改后才能部署。`);
      this.root.setAttribute('data-result', 'checked');
    } else {
      this.showStatus('success', '检查通过：可以部署。');
      this.root.setAttribute('data-result', 'clean');
    }
  }

  async deploy() {
    if (!window.confirm(`确定部署决策表“${this.config.name || this.config.key}”的新版本？经审批人发布后生效。`)) return;
    const { status, data } = await this.post(this.config.deployUrl, { xml: await this.xml() });
    const list = el('a', { class: 'ms-2', href: this.config.listUrl, text: '返回列表' });
    if (status === 201 || status === 200) {
      this.showProblems([]);
      this.setDirty(false);
      if (status === 201) {
        this.showStatus('info', `已提交发布审批：${data.name || data.key} v${data.version}，审批人发布后生效。`, list);
        this.root.setAttribute('data-result', 'submitted');
      } else {
        this.showStatus('info', `决策表没有变化，仍为 v${data.version}。`, list);
        this.root.setAttribute('data-result', 'unchanged');
      }
      this.root.setAttribute('data-deployed-version', String(data.version));
      const badge = this.root.querySelector('[data-jm-version-badge]');
      if (badge) {
        badge.className = data.status === 'pending' ? 'badge bg-warning text-dark' : 'badge bg-success';
        badge.textContent = data.status === 'pending' ? `v${data.version} 待审批` : `v${data.version}`;
      }
      return;
    }
    if (status === 422) {
      this.showProblems(data.problems || []);
      this.showStatus('danger', `未部署：决策表有 ${(data.problems || []).length} 个问题，请先修改。`);
      this.root.setAttribute('data-result', 'refused');
      return;
    }
    this.showStatus('danger', data.message || `部署失败（HTTP ${status}）`);
    this.root.setAttribute('data-result', 'error');
  }

  async exportXml() {
    const url = URL.createObjectURL(new Blob([await this.xml()], { type: 'application/xml' }));
    const a = el('a', { href: url, download: this.config.fileName || `${this.config.key}.dmn`, class: 'd-none' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}

async function init() {
  const root = document.querySelector('[data-jm-decision]');
  if (!root) return;
  try {
    const block = document.getElementById(root.getAttribute('data-jm-decision'));
    const editor = new DecisionEditor(root, JSON.parse(block.textContent));
    current.editor = editor;
    await editor.start();
  } catch (err) {
    console.error('decisions:', err);
    root.setAttribute('data-error', (err && err.message) || String(err));
    const status = root.querySelector('[data-jm-status]') || root;
    status.replaceChildren(el('div', { class: 'alert alert-danger', role: 'alert', text: `决策表加载失败：${(err && err.message) || err}` }));
  }
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', init);
} else {
  init();
}
