// Monitoring pages (dist/monitor.js + dist/monitor.css): the dashboard, the ledger, the instance pages and the
// printable 督办通报.
//
//   <button data-print>打印</button>     prints the page (the CSP forbids inline onclick handlers)
import './monitor.css';

function onClick(event) {
  const target = event.target instanceof Element ? event.target.closest('[data-print]') : null;
  if (target) {
    event.preventDefault();
    window.print();
  }
}

document.addEventListener('click', onClick);
