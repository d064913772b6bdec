// The meeting roster's search box (bot/templates/admin/meeting.html): at the door, type part of a
// name or an enterprise and only the matching rows stay, each with its 签到 button. A static file,
// so the page runs under "script-src 'self'".
(function () {
  var box = document.getElementById('roster-search'), table = document.getElementById('roster');
  if (!box || !table) { return; }
  var rows = Array.prototype.slice.call(table.querySelectorAll('tr[data-search]'));
  var none = document.getElementById('roster-none'), count = document.getElementById('roster-count');

  function fields(row) { return row.getAttribute('data-search').toLowerCase().split('|'); }
  function apply() {
    var query = box.value.trim().toLowerCase(), shown = 0;
    rows.forEach(function (row) {
      var hit = !query || fields(row).some(function (field) { return field.indexOf(query) >= 0; });
      row.hidden = !hit;
      if (hit) { shown += 1; }
    });
    if (none) { none.hidden = shown > 0; }
    count.textContent = query ? '找到 ' + shown + ' / ' + rows.length + ' 条' : '共 ' + rows.length + ' 条报名';
  }
  box.addEventListener('input', apply);

  // A check-in reloads the page: the search rides along as the address's fragment, which the
  // browser keeps through the redirect back here, so the person just checked in stays in view.
  table.addEventListener('submit', function (event) {
    var form = event.target, query = box.value.trim();
    form.action = form.action.split('#')[0] + (query ? '#q=' + encodeURIComponent(query) : '');
  });
  var kept = /^#q=(.+)$/.exec(window.location.hash);
  if (kept) {
    try { box.value = decodeURIComponent(kept[1]); } catch (e) { box.value = ''; }
  }
  apply();
})();
