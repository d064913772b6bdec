// The chat simulator's page (bot/templates/simulator.html). A static file, so the page runs under
// "script-src 'self'". Users are always simulated ones: the server refuses any id without "sim-".
const $ = id => document.getElementById(id), log = $('log');
const PREFIX = 'sim-';
let after = 0, people = [];

function add(text, cls, tag) {
  const r = document.createElement('div'); r.className = 'row ' + (cls || '');
  const b = document.createElement('div'); b.className = 'bubble';
  if (tag) { const s = document.createElement('span'); s.className = 'tag'; s.textContent = tag; b.appendChild(s); }
  b.appendChild(document.createTextNode(text)); r.appendChild(b); log.appendChild(r); log.scrollTop = 1e9;
}
function note(text) { const p = document.createElement('div'); p.className = 'note'; p.textContent = text; log.appendChild(p); }

// The id the server sees: the typed part behind the fixed "sim-" prefix.
function userId() { return PREFIX + $('user').value.trim().replace(/^sim-/, ''); }
function shown(id) { return id.startsWith(PREFIX) ? id.slice(PREFIX.length) : id; }

async function json(url, opts) {
  const res = await fetch(url, Object.assign({credentials: 'same-origin'}, opts));
  let data = {}; try { data = await res.json(); } catch (e) {}
  if (res.status === 401) { location.href = '/admin/login?next=/'; }
  if (!res.ok) { throw new Error(data.error || data.message || ('HTTP ' + res.status)); }
  return data;
}
function post(url, payload) {
  return json(url, {method: 'POST', body: JSON.stringify(payload),
                    headers: {'Content-Type': 'application/json', 'X-CSRFToken': $('csrf').value}});
}

async function loadUsers() {
  const data = await json('/simulator/users'); people = data.users;
  const pick = $('pick'); pick.replaceChildren(new Option('新用户…', ''));
  people.forEach((p, i) => pick.appendChild(new Option((p.name || p.user) + (p.enterprise ? '（' + p.enterprise + '）' : ''), String(i))));
  $('firms').replaceChildren(...data.enterprises.map(n => { const o = document.createElement('option'); o.value = n; return o; }));
}
// On a phone the user picker folds to one line once someone is chosen, leaving the screen to the chat.
const narrow = window.matchMedia('(max-width:700px)');
narrow.addEventListener('change', () => { if (!narrow.matches) $('who-box').open = true; });
async function useUser(chosen) {
  try {
    const data = await post('/simulator/user', {user: userId(), name: $('name').value, enterprise: $('firm').value});
    $('user').value = shown(data.user); after = data.after; log.replaceChildren();
    const who = (data.name || data.user) + (data.enterprise ? '（' + data.enterprise + '）' : '');
    note('现在以 ' + who + ' 的身份对话');
    $('current').textContent = '当前：' + who;
    $('status').textContent = '';
    if (chosen === true && narrow.matches) $('who-box').open = false;
  } catch (e) { $('status').textContent = e.message; $('who-box').open = true; }
}
$('pick').addEventListener('change', () => {
  const p = people[$('pick').value];
  if (!p) { $('user').value = Math.random().toString(36).slice(2, 8); $('name').value = ''; $('firm').value = ''; return; }
  $('user').value = shown(p.user); $('name').value = p.name; $('firm').value = p.enterprise; useUser(true);
});
$('save').addEventListener('click', () => useUser(true));

async function send(payload, mine) {
  if (mine) add(mine, 'me');
  try {
    const data = await post('/simulator/send', Object.assign({user: userId()}, payload));
    add(data.reply || '（没有回复）', 'bot');
  } catch (e) { add('发送失败：' + e.message, 'bot'); }
}
$('follow').addEventListener('click', () => { note('（关注公众号）'); send({event: 'subscribe'}); });
$('f').addEventListener('submit', e => {
  e.preventDefault(); const text = $('t').value.trim(); if (!text) return; $('t').value = ''; send({text}, text);
});

async function poll() {
  try {
    const data = await json('/simulator/pushes?user=' + encodeURIComponent(userId()) + '&after=' + after);
    data.pushes.forEach(p => {
      after = Math.max(after, p.id);
      const state = {pending: '发送中', failed: '发送失败'}[p.status] || p.status;
      add(p.text, 'push', '推送消息' + (p.status === 'sent' ? '' : '（' + state + '）'));
    });
  } catch (e) {}
  setTimeout(poll, 1500);
}
// Ready only once the first user is set up, so nothing typed meanwhile is overwritten.
loadUsers().then(() => useUser(false)).finally(() => { $('who').disabled = false; $('typing').disabled = false; poll(); });
