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

// Exports of the ledger (<a data-export data-total="N" data-msg-…>): fetched by the page, so it can say how far a
// long export has got — rows as a CSV streams in, kilobytes for an .xlsx (the server writes it whole, then sends
// it) — and then saved under the server's file name. The messages come from the page (translated there). If the
// browser cannot stream, the link is followed as an ordinary download.
function fileName(response, fallback) {
  const header = response.headers.get('Content-Disposition') || '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="([^"]+)"/i.exec(header);
  return plain ? plain[1] : fallback;
}

function say(status, template, values) {
  status.textContent = template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ''));
}

async function exportWithProgress(link, status) {
  const csv = link.dataset.export === 'csv';
  const total = link.dataset.total || '';
  const started = Date.now();
  say(status, link.dataset.msgStart, { total });
  link.setAttribute('aria-disabled', 'true');
  try {
    const response = await fetch(link.href, { credentials: 'same-origin' });
    if (!response.ok || !response.body) throw new Error(String(response.status));
    const reader = response.body.getReader();
    const chunks = [];
    let bytes = 0;
    let rows = -1; // the header line is not a row
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      bytes += value.length;
      if (csv) rows += value.reduce((n, b) => n + (b === 10 ? 1 : 0), 0);
      say(status, csv ? link.dataset.msgRows : link.dataset.msgBytes,
          { rows: Math.max(rows, 0), total, kb: Math.round(bytes / 1024) });
    }
    const blob = new Blob(chunks, { type: response.headers.get('Content-Type') || 'application/octet-stream' });
    const save = document.createElement('a');
    save.href = URL.createObjectURL(blob);
    save.download = fileName(response, csv ? 'ledger.csv' : 'ledger.xlsx');
    document.body.appendChild(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(save.href), 60000);
    say(status, link.dataset.msgDone, { seconds: ((Date.now() - started) / 1000).toFixed(1) });
  } catch (error) {
    say(status, link.dataset.msgFailed, { error: error.message });
  } finally {
    link.removeAttribute('aria-disabled');
  }
}

document.addEventListener('click', (event) => {
  const link = event.target instanceof Element ? event.target.closest('a[data-export]') : null;
  const status = link && document.getElementById(link.dataset.status || '');
  if (!link || !status || !window.ReadableStream || link.getAttribute('aria-disabled') === 'true') return;
  event.preventDefault();
  exportWithProgress(link, status);
});
