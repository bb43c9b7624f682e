// Every page: Bootstrap's JS (navbar collapse, tabs, dropdowns, alerts via data-bs-* attributes) and a few
// helpers wired through data-* attributes, because the Content-Security-Policy forbids inline scripts.
//
//   <form data-confirm="确定退回该议题？">                    asks before submitting (also on a submit button)
//   <table data-items-editor data-field="items" ...>           resolution-item editor, see items-editor.js
//   <div data-show-when-field="x" data-show-when-value="v">    shown only while field x has the value v (or v1|v2)
//   <div data-unit-picker> … <input data-unit-search>          unit checkboxes filtered by name
//   <div class="table-responsive">                             focusable while its table scrolls sideways
import 'bootstrap/dist/css/bootstrap.css';
import './app.css';

import * as bootstrap from 'bootstrap';

import { initItemsEditors, readJsonBlock } from './items-editor.js';

export { bootstrap };

/** Ask before submitting a form that has data-confirm (or whose submit button has one). */
function onSubmitConfirm(event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const submitter = event.submitter;
  const message =
    (submitter && submitter.getAttribute('data-confirm')) || form.getAttribute('data-confirm');
  if (message && !window.confirm(message)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}

/**
 * Fields shown only while another field has a given value: <div data-show-when-field="decision"
 * data-show-when-value="instruct">. A field with an error message stays visible, so nothing typed is hidden.
 */
function initShowWhen(root) {
  root.querySelectorAll('[data-show-when-field]').forEach((block) => {
    const form = block.closest('form');
    if (!form) return;
    const name = block.getAttribute('data-show-when-field');
    const wanted = block.getAttribute('data-show-when-value');
    const update = () => {
      const chosen = form.querySelector(`[name="${name}"]:checked`) || form.querySelector(`select[name="${name}"]`);
      const values = (wanted || '').split('|').map((v) => v.trim());
      const visible = (chosen && values.includes(chosen.value)) || block.querySelector('.invalid-feedback');
      block.hidden = !visible;
    };
    form.querySelectorAll(`[name="${name}"]`).forEach((input) => input.addEventListener('change', update));
    update();
  });
}

/** Unit pickers (<div data-unit-picker>): the search box hides the units whose name does not match. */
function initUnitSearch(root) {
  root.querySelectorAll('[data-unit-picker]').forEach((picker) => {
    const input = picker.querySelector('[data-unit-search]');
    if (!input) return;
    input.addEventListener('input', () => {
      const query = input.value.trim();
      let shown = 0;
      picker.querySelectorAll('[data-unit-group]').forEach((group) => {
        let inGroup = 0;
        group.querySelectorAll('.form-check').forEach((item) => {
          const match = !query || item.textContent.includes(query);
          item.hidden = !match;
          if (match) inGroup += 1;
        });
        group.hidden = inGroup === 0;
        shown += inGroup;
      });
      const none = picker.querySelector('[data-unit-none]');
      if (none) none.hidden = shown > 0;
    });
    // Enter in the search box filters; it must not submit the task form.
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') event.preventDefault();
    });
  });
}

/**
 * A table wider than the screen scrolls sideways in its .table-responsive box: keyboard users reach that box with
 * Tab and scroll it with the arrow keys (it becomes a named, focusable region only while it does scroll).
 */
function markScrollRegions(root) {
  root.querySelectorAll('.table-responsive').forEach((box) => {
    const scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls && !box.hasAttribute('tabindex')) {
      box.tabIndex = 0;
      box.setAttribute('role', 'region');
      if (!box.hasAttribute('aria-label')) box.setAttribute('aria-label', '表格（可左右滚动）');
      box.setAttribute('data-jm-scroll', '');
    } else if (!scrolls && box.hasAttribute('data-jm-scroll')) {
      ['tabindex', 'role', 'aria-label', 'data-jm-scroll'].forEach((a) => box.removeAttribute(a));
    }
  });
}

function init() {
  initItemsEditors(document);
  initUnitSearch(document);
  markScrollRegions(document);
  window.addEventListener('resize', () => markScrollRegions(document));
  initShowWhen(document);
}

// Capture phase so a cancelled confirm stops other submit handlers (the items editor serializes on submit).
document.addEventListener('submit', onSubmitConfirm, true);

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', init);
} else {
  init();
}

// window.JointMeeting.{bootstrap, initItemsEditors, readJson} for page scripts loaded from files.
export { initItemsEditors, readJsonBlock as readJson };
