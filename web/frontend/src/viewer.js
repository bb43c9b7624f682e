// Read-only BPMN diagrams with the state of a process instance (dist/viewer.js + dist/viewer.css).
//
//   <div data-bpmn-viewer data-bpmn-url="/processes/topic_proposal/v1/diagram.bpmn"
//        data-active="screen" data-completed="start,propose" data-failed=""
//        data-counts='{"screen": {"active": 2, "completed": 5}}' data-links='{"call_id": "/instances/…"}'></div>
//
// The XML is fetched same-origin with credentials. Element ids are comma separated; markers get the classes
// jm-active / jm-completed / jm-failed; counts are drawn as overlays. When done the container gets
// data-rendered="true" (browser tests wait on it), on failure data-render-error="<message>" and a visible
// message. A container that is hidden when it renders (an inactive tab) is fitted when it becomes visible.
// window.JmViewer.render(element) renders one more container on demand and resolves to the viewer.
//
//   data-focus="screen"          open zoomed to that element at a readable size instead of the whole diagram
//   <button data-viewer-action="focus|fit|fullscreen" data-viewer-target="#id">   the diagram's toolbar
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import './viewer.css';

import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';

const MARKERS = [
  ['data-active', 'jm-active'],
  ['data-completed', 'jm-completed'],
  ['data-failed', 'jm-failed'],
];

function ids(value) {
  return (value || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function countsOf(container) {
  const raw = container.getAttribute('data-counts');
  if (!raw) return {};
  const parsed = JSON.parse(raw);
  return parsed && typeof parsed === 'object' ? parsed : {};
}

function linksOf(container) {
  const raw = container.getAttribute('data-links');
  const parsed = raw ? JSON.parse(raw) : {};
  const out = {};
  for (const [id, href] of Object.entries(parsed && typeof parsed === 'object' ? parsed : {})) {
    if (typeof href === 'string' && href.startsWith('/') && !href.startsWith('//')) out[id] = href;
  }
  return out;
}

function countBadge(kind, n, title) {
  const span = document.createElement('span');
  span.className = `jm-count-${kind}`;
  span.title = title;
  span.textContent = String(n);
  return span;
}

function fit(viewer) {
  const canvas = viewer.get('canvas');
  canvas.resized();
  canvas.zoom('fit-viewport', 'auto');
}

function hasSize(el) {
  return el.clientWidth > 0 && el.clientHeight > 0;
}

// The element in the middle at its drawn size (scale 1): the labels of a step are readable, its neighbours show.
function focus(viewer, container) {
  const id = container.getAttribute('data-focus');
  const element = id && viewer.get('elementRegistry').get(id);
  if (!element) {
    fit(viewer);
    return;
  }
  const canvas = viewer.get('canvas');
  canvas.resized();
  const width = container.clientWidth;
  const height = container.clientHeight;
  const cx = element.x + (element.width || 0) / 2;
  const cy = element.y + (element.height || 0) / 2;
  canvas.viewbox({ x: cx - width / 2, y: cy - height / 2, width, height });
}

function show(viewer, container) {
  if (container.hasAttribute('data-focus') && !document.fullscreenElement) focus(viewer, container);
  else fit(viewer);
}

// Toolbar buttons: back to the current step, the whole diagram, full screen (Esc leaves it).
function onToolbarClick(event) {
  const button = event.target instanceof Element ? event.target.closest('[data-viewer-action]') : null;
  if (!button) return;
  const container = document.querySelector(button.getAttribute('data-viewer-target') || '');
  const viewer = container && container.__jmViewer;
  if (!viewer) return;
  const action = button.getAttribute('data-viewer-action');
  if (action === 'focus') focus(viewer, container);
  else if (action === 'fit') fit(viewer);
  else if (action === 'fullscreen' && container.requestFullscreen) {
    container.requestFullscreen().catch(() => fit(viewer));
  }
}

function onFullscreenChange() {
  document.querySelectorAll('[data-bpmn-viewer][data-rendered]').forEach((container) => {
    if (container.__jmViewer) window.requestAnimationFrame(() => show(container.__jmViewer, container));
  });
}

document.addEventListener('click', onToolbarClick);
document.addEventListener('fullscreenchange', onFullscreenChange);

export async function render(container) {
  container.removeAttribute('data-rendered');
  container.removeAttribute('data-render-error');
  container.setAttribute('aria-busy', 'true');
  // A group, not an image: the drawing holds links (the bpmn.io mark, linked call activities).
  if (!container.hasAttribute('role')) container.setAttribute('role', 'group');
  if (!container.hasAttribute('aria-label')) container.setAttribute('aria-label', '流程图');
  const url = container.getAttribute('data-bpmn-url');
  let viewer = null;
  try {
    if (!url) throw new Error('data-bpmn-url is missing');
    const response = await fetch(url, {
      credentials: 'include',
      headers: { Accept: 'application/xml, text/xml, */*' },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
    const xml = await response.text();

    viewer = new NavigatedViewer({
      container,
      moddleExtensions: { camunda: camundaModdle },
    });
    const { warnings } = await viewer.importXML(xml);
    if (warnings && warnings.length) {
      container.setAttribute('data-render-warnings', String(warnings.length));
      console.warn('bpmn import warnings', warnings);
    }

    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    const missing = [];
    for (const [attr, cls] of MARKERS) {
      for (const id of ids(container.getAttribute(attr))) {
        if (registry.get(id)) canvas.addMarker(id, cls);
        else missing.push(id);
      }
    }

    const overlays = viewer.get('overlays');
    for (const [id, c] of Object.entries(countsOf(container))) {
      if (!registry.get(id) || !c) {
        missing.push(id);
        continue;
      }
      const box = document.createElement('div');
      box.className = 'jm-count';
      if (c.active) box.append(countBadge('active', c.active, `在办 ${c.active}`));
      if (c.completed) box.append(countBadge('completed', c.completed, `已办 ${c.completed}`));
      if (c.failed) box.append(countBadge('failed', c.failed, `出错 ${c.failed}`));
      if (box.childElementCount) overlays.add(id, 'jm-count', { position: { top: -10, right: -8 }, html: box });
    }
    // data-links='{"implement_items": "/instances/…/calls/…"}': clicking the element opens the page (same site).
    const links = linksOf(container);
    for (const id of Object.keys(links)) {
      if (registry.get(id)) canvas.addMarker(id, 'jm-link');
      else missing.push(id);
    }
    if (Object.keys(links).length) {
      viewer.get('eventBus').on('element.click', (event) => {
        const href = links[event.element.id];
        if (href) window.location.assign(href);
      });
    }
    if (missing.length) container.setAttribute('data-missing-elements', missing.join(','));

    if (hasSize(container)) {
      show(viewer, container);
    } else if (typeof ResizeObserver === 'function') {
      // Hidden (inactive tab, collapsed panel): fit once it gets a size.
      const ro = new ResizeObserver(() => {
        if (hasSize(container)) {
          ro.disconnect();
          show(viewer, container);
        }
      });
      ro.observe(container);
    }

    container.__jmViewer = viewer;
    container.setAttribute('data-rendered', 'true');
    return viewer;
  } catch (err) {
    const message = (err && err.message) || String(err);
    console.error('bpmn viewer:', message);
    if (viewer) viewer.destroy();
    container.setAttribute('data-render-error', message);
    const note = document.createElement('div');
    note.className = 'jm-viewer-error';
    note.setAttribute('role', 'alert');
    note.textContent = `流程图加载失败：${message}`;
    container.replaceChildren(note);
    return null;
  } finally {
    container.removeAttribute('aria-busy');
  }
}

export function renderAll(root = document) {
  return Promise.all(
    [...root.querySelectorAll('[data-bpmn-viewer]')]
      .filter((el) => !el.hasAttribute('data-rendered') && !el.__jmRendering)
      .map((el) => {
        el.__jmRendering = true;
        return render(el).finally(() => {
          el.__jmRendering = false;
        });
      }),
  );
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', () => renderAll());
} else {
  renderAll();
}
