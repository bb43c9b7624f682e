// The process designer's editor (dist/modeler.js + dist/modeler.css): bpmn-js Modeler with the Camunda 7
// properties panel and behaviors, element templates of the engine's registered actions, bpmnlint with the
// engine's own rules (./bpmnlint-plugin-jm), token simulation, import/export, server check, drafts and deploy.
//
// The page (web/templates/designer/modeler.html) renders
//
//   <div id="jm-modeler" data-jm-modeler="jm-modeler-config">
//     … toolbar buttons with data-jm-action="check|save|deploy|import|export-bpmn|export-svg" …
//     <div data-jm-canvas></div> <div data-jm-panel></div> <ol data-jm-problems></ol> <div data-jm-status></div>
//   </div>
//   <script type="application/json" id="jm-modeler-config">{ "xmlUrl": …, "checkUrl": …, "deployUrl": …,
//     "draftUrl": …, "draftRevision": n | null, "templatesUrl": …, "csrfToken": …, "actions": […],
//     "processes": […], "fieldTypes": […], "key": …, "fileName": … }</script>
//
// State for tests and scripts: the root gets data-ready="true" once the diagram is imported, data-busy while a
// request runs, data-result="checked|clean|refused|deployed|unchanged|saved|conflict|error" after one; the
// modeler is window.JmModeler.current.modeler. Problems from the server are markers (class jm-problem) and
// overlays on their elements and a list under the canvas.
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import 'bpmn-js-element-templates/dist/assets/element-templates.css';
import 'bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css';
import 'bpmn-js-token-simulation/assets/css/bpmn-js-token-simulation.css';
import './modeler.css';

import BpmnModeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import { ElementTemplatesPropertiesProviderModule } from 'bpmn-js-element-templates';
import lintModule from 'bpmn-js-bpmnlint';
import TokenSimulationModule from 'bpmn-js-token-simulation';

import known from 'bpmnlint-plugin-jm/known';
import SupportedGroupsModule from './modeler-groups.js';
import { TranslateModule } from './modeler-i18n.js';
import lintConfig from './bpmnlintrc.json?bpmnlint';

export const current = { modeler: null, config: null, problems: [] };

const ACTIVITI_NS = /(["'])http:\/\/activiti\.org\/bpmn\1/g;
const CAMUNDA_NS = 'http://camunda.org/schema/1.0/bpmn';

function readConfig(root) {
  const id = root.getAttribute('data-jm-modeler');
  const block = id && document.getElementById(id);
  if (!block) throw new Error(`配置块 #${id} 不存在`);
  return JSON.parse(block.textContent);
}

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

function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name, class: 'd-none' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

class Designer {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.status = root.querySelector('[data-jm-status]');
    this.problemList = root.querySelector('[data-jm-problems]');
    this.problemBox = root.querySelector('[data-jm-problem-box]');
    this.dirty = false;
    this.markers = [];
    this.revision = config.draftRevision ?? null;
    known.actions = config.actions || null;
    known.processes = config.processes || null;
    known.fieldTypes = config.fieldTypes || null;
    known.budgets = config.budgets || null;
  }

  async start() {
    const [xml, templates] = await Promise.all([this.fetchText(this.config.xmlUrl), this.fetchTemplates()]);
    this.modeler = new BpmnModeler({
      container: this.root.querySelector('[data-jm-canvas]'),
      propertiesPanel: { parent: this.root.querySelector('[data-jm-panel]') },
      additionalModules: [
        BpmnPropertiesPanelModule,
        BpmnPropertiesProviderModule,
        CamundaPlatformPropertiesProviderModule,
        CamundaBehaviorsModule,
        ElementTemplatesPropertiesProviderModule,
        lintModule,
        TokenSimulationModule,
        SupportedGroupsModule,
        TranslateModule,
      ],
      moddleExtensions: { camunda: camundaModdle },
      elementTemplates: templates,
      linting: { bpmnlint: lintConfig, active: true },
    });
    current.modeler = this.modeler;
    current.config = this.config;
    const eventBus = this.modeler.get('eventBus');
    eventBus.on('elementTemplates.select', (event) => this.chooseTemplate(event.element));
    eventBus.on('elementTemplates.errors', (event) => console.warn('element templates', event.errors));
    eventBus.on('commandStack.changed', () => this.setDirty(true));
    await this.importXML(xml);
    this.wireToolbar();
    window.addEventListener('beforeunload', (event) => {
      if (this.dirty) {
        event.preventDefault();
        event.returnValue = '';
      }
    });
    this.root.setAttribute('data-ready', 'true');
  }

  async fetchText(url) {
    const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/xml' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}：${url}`);
    return response.text();
  }

  async fetchTemplates() {
    if (!this.config.templatesUrl) return [];
    const response = await fetch(this.config.templatesUrl, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`HTTP ${response.status}：${this.config.templatesUrl}`);
    return response.json();
  }

  async importXML(xml) {
    // Camunda 7 reads the legacy namespace http://activiti.org/bpmn as its own, and so does the server
    // (engine/dialect.py). The modeler knows camunda's moddle only: read such a diagram as camunda's, so its
    // assignments, forms and listeners show in the panel and are checked, and it is saved that way.
    const { warnings } = await this.modeler.importXML(xml.replace(ACTIVITI_NS, `$1${CAMUNDA_NS}$1`));
    if (warnings && warnings.length) console.warn('bpmn import warnings', warnings);
    this.modeler.get('canvas').zoom('fit-viewport', 'auto');
    this.clearProblems();
    this.setDirty(false);
  }

  setDirty(dirty) {
    this.dirty = dirty;
    this.root.toggleAttribute('data-dirty', dirty);
    const badge = this.root.querySelector('[data-jm-dirty]');
    if (badge) badge.hidden = !dirty;
  }

  wireToolbar() {
    const handlers = {
      check: () => this.check(),
      save: () => this.saveDraft(false),
      deploy: () => this.deploy(),
      import: () => this.root.querySelector('[data-jm-import-file]').click(),
      'export-bpmn': () => this.exportBpmn(),
      'export-svg': () => this.exportSvg(),
      fit: () => this.modeler.get('canvas').zoom('fit-viewport', 'auto'),
    };
    for (const button of this.root.querySelectorAll('[data-jm-action]')) {
      const handler = handlers[button.getAttribute('data-jm-action')];
      if (handler) button.addEventListener('click', () => this.run(handler));
    }
    const file = this.root.querySelector('[data-jm-import-file]');
    if (file) {
      file.addEventListener('change', () => {
        const chosen = file.files && file.files[0];
        file.value = '';
        if (chosen) this.run(() => this.importFile(chosen));
      });
    }
  }

  async run(handler) {
    if (this.root.hasAttribute('data-busy')) return;
    this.root.setAttribute('data-busy', 'true');
    try {
      await handler();
    } catch (err) {
      console.error(err);
      this.showStatus('danger', `操作失败：${(err && err.message) || err}`);
      this.root.setAttribute('data-result', 'error');
    } finally {
      this.root.removeAttribute('data-busy');
    }
  }

  showStatus(kind, message, ...extra) {
    this.status.replaceChildren(
      el('div', { class: `alert alert-${kind} py-2 mb-0`, role: kind === 'danger' ? 'alert' : 'status' },
        el('span', { text: message }), ...extra),
    );
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

  // ------------------------------------------------------------ server check and problems
  async check() {
    const { status, data } = await this.post(this.config.checkUrl, { xml: await this.xml(), key: this.config.key });
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

  clearProblems() {
    const canvas = this.modeler.get('canvas');
    const overlays = this.modeler.get('overlays');
    for (const id of this.markers) canvas.removeMarker(id, 'jm-problem');
    overlays.remove({ type: 'jm-problem' });
    this.markers = [];
    current.problems = [];
    this.problemList.replaceChildren();
    if (this.problemBox) this.problemBox.hidden = true;
  }

  /** The diagram element a problem belongs to: its target, else its element, else the participant of a process. */
  shapeFor(problem) {
    const registry = this.modeler.get('elementRegistry');
    for (const id of [problem.target, problem.element]) {
      if (!id) continue;
      if (registry.get(id)) return registry.get(id);
      const pool = registry.find((e) => e.type === 'bpmn:Participant' && e.businessObject.processRef
        && e.businessObject.processRef.id === id);
      if (pool) return pool;
    }
    return null;
  }

  showProblems(problems) {
    this.clearProblems();
    current.problems = problems;
    const canvas = this.modeler.get('canvas');
    const overlays = this.modeler.get('overlays');
    const byShape = new Map();
    problems.forEach((p) => {
      const shape = this.shapeFor(p);
      const where = [p.line ? `第 ${p.line} 行` : null, p.element || null].filter(Boolean).join(' · ');
      const item = el('li', { class: 'jm-problem-item', 'data-element': p.element || '', 'data-target': shape ? shape.id : '' },
        where ? el('span', { class: 'jm-problem-where', text: where }) : null,
        el('span', { class: 'jm-problem-message', text: p.message }));
      if (shape) {
        item.classList.add('jm-clickable');
        item.tabIndex = 0;
        const focus = () => {
          this.modeler.get('selection').select(shape);
          canvas.scrollToElement(shape);
        };
        item.addEventListener('click', focus);
        item.addEventListener('keydown', (e) => e.key === 'Enter' && focus());
        if (!byShape.has(shape.id)) byShape.set(shape.id, []);
        byShape.get(shape.id).push(p.message);
      }
      this.problemList.append(item);
    });
    for (const [id, messages] of byShape) {
      canvas.addMarker(id, 'jm-problem');
      this.markers.push(id);
      const badge = el('div', { class: 'jm-problem-badge', title: messages.join('\n'), 'data-element': id,
        text: String(messages.length) });
      overlays.add(id, 'jm-problem', { position: { top: -12, right: 12 }, html: badge });
    }
    if (this.problemBox) this.problemBox.hidden = problems.length === 0;
  }

  // ------------------------------------------------------------ drafts and deploy
  async saveDraft(force) {
    const body = { xml: await this.xml(), revision: this.revision, base_version: this.config.version ?? null };
    if (force) body.force = true;
    const { status, data } = await this.post(this.config.draftUrl, body);
    if (status === 200 || status === 201) {
      this.revision = data.revision;
      this.setDirty(false);
      this.showStatus('success', `草稿已保存（第 ${data.revision} 版，${formatTime(data.updated_at)}）。`);
      this.root.setAttribute('data-result', 'saved');
      return;
    }
    if (status === 409) {
      const overwrite = el('button', { type: 'button', class: 'btn btn-sm btn-outline-danger ms-2', text: '仍然覆盖' });
      overwrite.addEventListener('click', () => this.run(() => this.saveDraft(true)));
      const reload = el('a', { class: 'btn btn-sm btn-outline-secondary ms-2', href: this.config.draftPageUrl,
        text: '放弃我的修改，载入对方草稿' });
      this.showStatus('warning', data.message || '草稿已被他人修改。', overwrite, reload);
      this.root.setAttribute('data-result', 'conflict');
      return;
    }
    if (status === 422 && data.problems) {
      this.showProblems(data.problems);
    }
    this.showStatus('danger', data.message || `保存失败（HTTP ${status}）`);
    this.root.setAttribute('data-result', 'error');
  }

  async deploy() {
    if (!window.confirm(`确定部署“${this.config.name || this.config.key}”的新版本？已在运行的流程实例仍按原版本办理。`)) return;
    const { status, data } = await this.post(this.config.deployUrl, { xml: await this.xml(), draft_revision: this.revision });
    if (status === 201 || status === 200) {
      this.clearProblems();
      this.setDirty(false);
      this.revision = null;
      const list = el('a', { class: 'ms-2', href: this.config.listUrl, text: '返回流程列表' });
      const warnings = (data.warnings || []).map((w) => el('li', { text: w.message }));
      const notes = warnings.length
        ? el('ul', { class: 'mb-0 mt-1 small', 'data-jm-deploy-warnings': '' }, ...warnings) : null;
      if (data.status === 'pending') {
        // four eyes: a designer's version runs only once an approver has published it (发布审批)
        this.showStatus('info', `已提交发布审批：${data.name || data.key} v${data.version}，审批人发布后生效。`
          + (warnings.length ? `请注意以下 ${warnings.length} 项：` : ''), list, notes);
        this.root.setAttribute('data-result', 'submitted');
      } else if (status === 201) {
        this.showStatus(warnings.length ? 'warning' : 'success',
          `已部署：${data.name || data.key} v${data.version}。新发起的流程使用此版本。`
          + (warnings.length ? `请注意以下 ${warnings.length} 项：` : ''), list, notes);
        this.root.setAttribute('data-result', 'deployed');
      } else {
        this.showStatus('info', `流程图没有变化，仍为 v${data.version}。`, list);
        this.root.setAttribute('data-result', 'unchanged');
      }
      this.root.setAttribute('data-deployed-version', String(data.version));
      this.config.version = data.version;
      const badge = this.root.querySelector('[data-jm-version-badge]');
      if (badge) {
        badge.className = data.status === 'pending' ? 'badge bg-warning text-dark' : 'badge bg-success';
        badge.textContent = data.status === 'pending' ? `v${data.version} 待审批` : `v${data.version}`;
      }
      return;
    }
    if (status === 422) {
      this.showProblems(data.problems || []);
      this.showStatus('danger', `未部署：流程图有 ${(data.problems || []).length} 个问题，请先修改。`);
      this.root.setAttribute('data-result', 'refused');
      return;
    }
    this.showStatus('danger', data.message || `部署失败（HTTP ${status}）`);
    this.root.setAttribute('data-result', 'error');
  }

  // ------------------------------------------------------------ templates, import, export
  chooseTemplate(element) {
    const elementTemplates = this.modeler.get('elementTemplates');
    const templates = elementTemplates.getAll(element);
    const dialog = el('dialog', { class: 'jm-template-dialog', 'aria-label': '选择动作' });
    const search = el('input', { type: 'search', class: 'form-control mb-2', placeholder: '搜索动作…', 'aria-label': '搜索动作' });
    const list = el('div', { class: 'list-group jm-template-list' });
    const render = () => {
      const q = search.value.trim().toLowerCase();
      list.replaceChildren(...templates
        .filter((t) => !q || `${t.name} ${t.id} ${t.description || ''}`.toLowerCase().includes(q))
        .map((t) => {
          const b = el('button', { type: 'button', class: 'list-group-item list-group-item-action', 'data-template-id': t.id },
            el('div', { class: 'fw-semibold', text: t.name }),
            el('div', { class: 'small text-muted', text: t.id.replace(/^action\./, '') }),
            t.description && t.description !== t.name ? el('div', { class: 'small', text: t.description }) : null);
          b.addEventListener('click', () => {
            elementTemplates.applyTemplate(element, t);
            dialog.close();
          });
          return b;
        }));
    };
    search.addEventListener('input', render);
    const close = el('button', { type: 'button', class: 'btn btn-secondary mt-2', text: '取消' });
    close.addEventListener('click', () => dialog.close());
    dialog.append(el('h2', { class: 'h6', text: '选择服务任务调用的动作' }), search, list, close);
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    render();
    dialog.showModal();
    search.focus();
  }

  async importFile(file) {
    if (file.size > 2_000_000) throw new Error('文件过大（上限 2 MB）');
    const text = await file.text();
    await this.importXML(text);
    this.setDirty(true);
    this.showStatus('info', `已导入“${file.name}”（尚未保存或部署）。`);
  }

  async exportBpmn() {
    download(this.config.fileName || `${this.config.key}.bpmn`, 'application/xml', await this.xml());
  }

  async exportSvg() {
    const { svg } = await this.modeler.saveSVG();
    download((this.config.fileName || this.config.key).replace(/\.bpmn$/, '') + '.svg', 'image/svg+xml', svg);
  }
}

async function init() {
  const root = document.querySelector('[data-jm-modeler]');
  if (!root) return;
  try {
    const designer = new Designer(root, readConfig(root));
    current.designer = designer;
    await designer.start();
  } catch (err) {
    console.error('modeler:', err);
    root.setAttribute('data-error', (err && err.message) || String(err));
    const status = root.querySelector('[data-jm-status]') || root;
    status.replaceChildren(el('div', { class: 'alert alert-danger', role: 'alert', text: `流程图加载失败：${(err && err.message) || err}` }));
  }
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', init);
} else {
  init();
}
