// Two versions of a process side by side (dist/diff.js + dist/diff.css).
//
//   <div data-bpmn-diff data-bpmn-url="/designer/models/k/v1.bpmn" data-diff="jm-diff" data-side="old"></div>
//   <script type="application/json" id="jm-diff">{"added": [ids], "removed": [ids], "changed": [ids]}</script>
//
// The old side marks removed (jm-removed) and changed (jm-changed) elements, the new side added (jm-added) and
// changed ones. Each container gets data-rendered="true" when done, data-render-error on failure.
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import './diff.css';

import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';

const SIDES = { old: [['removed', 'jm-removed'], ['changed', 'jm-changed']], new: [['added', 'jm-added'], ['changed', 'jm-changed']] };

async function render(container) {
  try {
    const diff = JSON.parse(document.getElementById(container.getAttribute('data-diff')).textContent);
    const url = container.getAttribute('data-bpmn-url');
    const response = await fetch(url, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
    const viewer = new NavigatedViewer({ container, moddleExtensions: { camunda: camundaModdle } });
    await viewer.importXML(await response.text());
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    for (const [key, cls] of SIDES[container.getAttribute('data-side')] || []) {
      for (const id of diff[key] || []) {
        if (registry.get(id)) canvas.addMarker(id, cls);
      }
    }
    canvas.zoom('fit-viewport', 'auto');
    container.__jmViewer = viewer;
    container.setAttribute('data-rendered', 'true');
  } catch (err) {
    console.error('diff viewer:', err);
    container.setAttribute('data-render-error', (err && err.message) || String(err));
    const note = document.createElement('div');
    note.className = 'alert alert-danger m-2';
    note.setAttribute('role', 'alert');
    note.textContent = `流程图加载失败：${(err && err.message) || err}`;
    container.replaceChildren(note);
  }
}

function init() {
  document.querySelectorAll('[data-bpmn-diff]').forEach((c) => render(c));
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', init);
} else {
  init();
}
