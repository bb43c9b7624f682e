// Every page: Bootstrap's JS (navbar collapse, tabs, dropdowns, alerts via data-bs-* attributes) and a few
// helpers wired through data-* attributes, because the Content-Security-Policy forbids inline scripts.
//
//   <form data-confirm="确定退回该议题？">                    asks before submitting (also on a submit button)
//   <table data-items-editor data-field="items" ...>           resolution-item editor, see items-editor.js
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

function init() {
  initItemsEditors(document);
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
