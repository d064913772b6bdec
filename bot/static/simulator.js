// The chat simulator's page (bot/templates/simulator.html). A static file, so the page runs under
// "script-src 'self'". Users are always simulated ones: the server refuses any id without "sim-".
// Two modes: an Official Account follower (公众号), or a WeCom group (群聊) whose members talk to the
// intelligent robot — only lines that @ it reach the robot, as in WeCom.
const $ = id => document.getElementById(id), log = $('log');
const PREFIX = 'sim-', ROBOT = '联企助手';
let after = 0, people = [];
let mode = 'oa';
// Group mode: the members (WeCom user ids), what was already shown to each, and the robot's later answers.
let members = [], afterFor = {}, repliesAfter = null, replyRows = new Map(), repliesReady = Promise.resolve();

function add(text, cls, tag, who) {
  const r = document.createElement('div'); r.className = 'row ' + (cls || '');
  const b = document.createElement('div'); b.className = 'bubble';
  if (who) { const w = document.createElement('span'); w.className = 'who'; w.textContent = who; b.appendChild(w); }
  if (tag) { const s = document.createElement('span'); s.className = 'tag'; s.textContent = tag; b.appendChild(s); }
  b.appendChild(document.createTextNode(text)); r.appendChild(b); log.appendChild(r); log.scrollTop = 1e9;
  return r;
}
function note(text) { const p = document.createElement('div'); p.className = 'note'; p.textContent = text; log.appendChild(p); log.scrollTop = 1e9; }

// The id the server sees: the typed part behind the fixed "sim-" prefix.
function userId() { return PREFIX + $('user').value.trim().replace(/^sim-/, ''); }
function chatId() { return PREFIX + $('chat').value.trim().replace(/^sim-/, ''); }
function shown(id) { return id.startsWith(PREFIX) ? id.slice(PREFIX.length) : id; }
function label(p) { return (p.name || p.user) + (p.enterprise ? '（' + p.enterprise + '）' : ''); }
function nameOf(id) { const m = members.find(x => x.user === id); return m ? (m.name || m.user) : id; }

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
  const data = await json('/simulator/users?mode=' + mode); people = data.users;
  const pick = $('pick'); pick.replaceChildren(new Option(mode === 'group' ? '新成员…' : '新用户…', ''));
  people.forEach((p, i) => pick.appendChild(new Option(label(p), String(i))));
  $('firms').replaceChildren(...data.enterprises.map(n => { const o = document.createElement('option'); o.value = n; return o; }));
}
// On a phone the user picker folds to one line once someone is chosen, leaving the screen to the chat.
const narrow = window.matchMedia('(max-width:700px)');
narrow.addEventListener('change', () => { if (!narrow.matches) $('who-box').open = true; });
function fold(chosen) { if (chosen === true && narrow.matches) $('who-box').open = false; }

async function useUser(chosen) {
  try {
    const data = await post('/simulator/user', {mode, user: userId(), name: $('name').value, enterprise: $('firm').value});
    $('user').value = shown(data.user); $('status').textContent = '';
    if (mode === 'group') { join(data); fold(chosen); return; }
    after = data.after; log.replaceChildren();
    const who = label(data);
    note('现在以 ' + who + ' 的身份对话');
    $('current').textContent = '当前：' + who;
    fold(chosen);
  } catch (e) { $('status').textContent = e.message; $('who-box').open = true; }
}
$('pick').addEventListener('change', () => {
  const p = people[$('pick').value];
  if (!p) { $('user').value = Math.random().toString(36).slice(2, 8); $('name').value = ''; $('firm').value = ''; return; }
  $('user').value = shown(p.user); $('name').value = p.name; $('firm').value = p.enterprise; useUser(true);
});
$('save').addEventListener('click', () => useUser(true));

// --- group mode ---

function showMembers() {
  const names = members.map(m => m.name || shown(m.user));
  $('members').textContent = members.length ? '群成员：' + names.join('、') : '还没有成员：填好后点“加入群聊”';
  $('current').textContent = '群 ' + chatId() + (names.length ? ' · ' + names.join('、') : ' · 还没有成员');
  const speaker = $('speaker'), keep = speaker.value;
  speaker.replaceChildren(...members.map(m => new Option(m.name || shown(m.user), m.user)));
  if (!members.length) speaker.appendChild(new Option('（先加入成员）', ''));
  if (members.some(m => m.user === keep)) speaker.value = keep;
}
function join(data) {
  const known = members.find(m => m.user === data.user);
  if (known) { Object.assign(known, data); } else { members.push(data); afterFor[data.user] = data.after; }
  note((known ? '成员资料已更新：' : '加入群聊：') + label(data));
  showMembers(); $('speaker').value = data.user;
}
function groupUrl(users, since) {
  let url = '/simulator/group?chat=' + encodeURIComponent(chatId()) + '&users=' + encodeURIComponent(users.join(',')) + '&after=' + since;
  return repliesAfter === null ? url : url + '&replies_after=' + repliesAfter;
}
// Later answers count from the group's newest one when it is opened, before anyone speaks.
function watchReplies() {
  repliesAfter = null; replyRows = new Map();
  repliesReady = json(groupUrl([], 0)).then(data => { repliesAfter = data.latest_reply; }, e => { $('status').textContent = e.message; });
}
function startGroup() {
  members = []; afterFor = {}; log.replaceChildren(); watchReplies();
  note('群聊 ' + chatId() + '（企业微信智能机器人）：先加入几位成员，再选谁在说；勾选“@' + ROBOT + '”时机器人才会收到');
  showMembers();
}
$('chat').addEventListener('change', () => { watchReplies(); note('现在在群 ' + chatId() + ' 里对话'); showMembers(); });

function setMode(next) {
  mode = next; document.body.classList.toggle('group', mode === 'group');
  const group = mode === 'group';
  $('save').textContent = group ? '加入群聊' : '使用此用户';
  $('pick-label').textContent = group ? '成员' : '用户';
  $('follow').textContent = group ? '打开单聊' : '关注公众号';
  document.querySelector('#who-box .switch').textContent = group ? '群设置' : '切换用户';
  $('user').setAttribute('aria-label', group ? '成员账号' : '微信号');
  $('user').placeholder = group ? '成员账号（userid）' : '微信号（字母数字）';
  const about = group ? '发送的是加密签名的企业微信智能机器人回调，只以模拟成员（sim-）在模拟群（sim-）里'
                      : '发送的是真实签名的公众号回调，只以模拟用户（sim-）的身份';
  $('about').textContent = about; $('hint').textContent = about;
}
$('mode').addEventListener('change', async () => {
  setMode($('mode').value); log.replaceChildren();
  try { await loadUsers(); } catch (e) { $('status').textContent = e.message; }
  if (mode === 'group') { startGroup(); } else { useUser(false); }
});

async function sayInGroup(text) {
  const user = $('speaker').value;
  if (!user) { $('status').textContent = '请先加入至少一位成员'; $('who-box').open = true; return; }
  const mention = $('mention').checked, who = nameOf(user);
  add(mention && !text.includes('@' + ROBOT) ? '@' + ROBOT + ' ' + text : text, 'me', '', who);
  try {
    await repliesReady;
    const data = await post('/simulator/send', {mode, chat: chatId(), user, text, mention});
    if (!data.delivered) { note('（没有@' + ROBOT + '：企业微信不会把这条消息交给机器人）'); return; }
    if (data.reply) { add(data.reply, 'bot', '', ROBOT); return; }
    note(data.status === 200 ? '（机器人先回了空包：答复稍后经 response_url 发到群里）'
                             : '（机器人回调返回 ' + data.status + '，没有回复）');
  } catch (e) { add('发送失败：' + e.message, 'bot'); }
}
async function enterChat() {
  const user = $('speaker').value;
  if (!user) { $('status').textContent = '请先加入至少一位成员'; return; }
  note('（' + nameOf(user) + ' 打开了与机器人的单聊）');
  try {
    const data = await post('/simulator/send', {mode, user, event: 'enter_chat'});
    add(data.reply || '（没有回复）', 'bot', '单聊欢迎语 → ' + nameOf(user), ROBOT);
  } catch (e) { add('发送失败：' + e.message, 'bot'); }
}

// --- sending, both modes ---

async function send(payload, mine) {
  if (mine) add(mine, 'me');
  try {
    const data = await post('/simulator/send', Object.assign({user: userId()}, payload));
    add(data.reply || '（没有回复）', 'bot');
  } catch (e) { add('发送失败：' + e.message, 'bot'); }
}
$('follow').addEventListener('click', () => {
  if (mode === 'group') { enterChat(); return; }
  note('（关注公众号）'); send({event: 'subscribe'});
});
$('f').addEventListener('submit', e => {
  e.preventDefault(); const text = $('t').value.trim(); if (!text) return; $('t').value = '';
  if (mode === 'group') { sayInGroup(text); } else { send({text}, text); }
});

const STATES = {pending: '发送中', retrying: '重试中', failed: '发送失败', queued: '待发送', sending: '发送中', expired: '已过期'};
function stateOf(status) { return status === 'sent' ? '' : '（' + (STATES[status] || status) + '）'; }

async function pollGroup() {
  if (!members.length || repliesAfter === null) return;
  const users = members.map(m => m.user), chat = chatId(), since = repliesAfter;
  const data = await json(groupUrl(users, Math.min(...users.map(u => afterFor[u] || 0))));
  if (mode !== 'group' || chat !== chatId() || since !== repliesAfter) return;   // the group changed meanwhile
  data.pushes.forEach(p => {
    if (p.id <= (afterFor[p.to] || 0)) return;
    afterFor[p.to] = p.id;
    add(p.text, 'push', '企业微信应用消息，只发给 ' + nameOf(p.to) + stateOf(p.status));
  });
  // A later answer shows once; its tag follows the worker (待发送 → 已发送). The window moves past settled ones.
  let settled = repliesAfter, open = false;
  data.replies.forEach(r => {
    const tag = '经 response_url 回复' + (r.name || r.user ? ' ' + (r.name || shown(r.user)) : '') + stateOf(r.status);
    const row = replyRows.get(r.id);
    if (row) { row.querySelector('.tag').textContent = tag; } else { replyRows.set(r.id, add(r.text, 'bot later', tag, ROBOT)); }
    if (r.status === 'queued' || r.status === 'sending') { open = true; } else if (!open) { settled = r.id; }
  });
  repliesAfter = settled;
}
async function poll() {
  try {
    if (mode === 'group') { await pollGroup(); } else {
      const data = await json('/simulator/pushes?user=' + encodeURIComponent(userId()) + '&after=' + after);
      data.pushes.forEach(p => {
        after = Math.max(after, p.id);
        const state = {pending: '发送中', failed: '发送失败'}[p.status] || p.status;
        add(p.text, 'push', '推送消息' + (p.status === 'sent' ? '' : '（' + state + '）'));
      });
    }
  } catch (e) {}
  setTimeout(poll, 1500);
}
// Ready only once the first user is set up, so nothing typed meanwhile is overwritten.
loadUsers().then(() => useUser(false)).finally(() => { $('who').disabled = false; $('typing').disabled = false; poll(); });
