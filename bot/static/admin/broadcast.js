// A broadcast's live progress bar: polls the status URL in #progress until nothing is pending,
// then reloads once if new failures need listing.
(function () {
  const p = document.getElementById('progress'), bar = document.getElementById('bar');
  if (!p || !bar) { return; }
  const failedShown = Number(p.dataset.failed || 0);
  async function tick() {
    let s;
    try { s = await (await fetch(p.dataset.url, {credentials: 'same-origin'})).json(); } catch (e) { setTimeout(tick, 2000); return; }
    const done = s.sent + s.failed, pct = s.total ? Math.round(100 * done / s.total) : 100;
    bar.style.width = pct + '%'; bar.setAttribute('aria-valuenow', pct);
    p.textContent = `${s.sent}/${s.total} 已发，${s.failed} 失败，${s.pending} 待发` + (s.pending > 0 ? '' : '（发送完成）');
    if (s.pending > 0) { setTimeout(tick, 1000); } else if (s.failed > failedShown) { location.reload(); }   // show the failures list
  }
  if (Number(p.dataset.pending || 0) > 0) { tick(); }
})();
