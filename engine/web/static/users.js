// The user list and private mode.
import { updatePlaceholder } from './composer.js';
import { avatar, el, genderMark, icon, nameButton } from './dom.js';
import { currentRoom } from './rooms.js';
import { closeSidebar } from './sidebar.js';
import { state, ui } from './state.js';
import { emit } from './events.js';

// ---- users ----

export function renderMe() {
  ui.me.replaceChildren();
  const u = state.me ?? { userName: state.login?.name || '…', userColor: state.login?.color, gender: state.login?.gender ?? 0 };
  ui.me.append(avatar(u), el('span', 'me-name', u.userName));
}

export function renderUsers() {
  const list = [...currentRoom().members.values()];
  const me = state.me;
  // Me first, then everyone else in join order, as Authorized lists them.
  list.sort((a, b) => (me && b.userId === me.userId) - (me && a.userId === me.userId));
  const items = list.map((u) => {
    const li = el('li', 'user');
    li.dataset.userId = String(u.userId);
    li.dataset.name = u.userName;
    const isMe = !!me && u.userId === me.userId;
    if (isMe) li.classList.add('is-me');
    if (state.privateTo?.online && state.privateTo.userId === u.userId) li.classList.add('is-private');
    const who = el('div', 'user-who');
    who.append(nameButton(u), genderMark(u.gender));
    if (isMe) who.append(el('span', 'you', 'you'));
    li.append(avatar(u), who);
    const st = state.statuses.get(u.userId);
    if (st) li.append(statusBadge(st));
    if (!isMe && state.modern) li.append(buzzButton(u));
    if (!isMe) {
      const pm = el('button', 'icon-btn pm-btn');
      pm.type = 'button';
      pm.dataset.pm = String(u.userId);
      pm.title = `Open conversation with ${u.userName}`;
      pm.setAttribute('aria-label', `Open conversation with ${u.userName}`);
      pm.append(icon('mail'));
      li.append(pm);
    }
    return li;
  });
  ui.users.replaceChildren(...items);
  ui.usersEmpty.hidden = list.length > 0;
  const n = list.length ? String(list.length) : '';
  ui.usersCount.textContent = n;
  ui.usersToggleCount.textContent = n;
  ui.usersToggle.querySelector('.sr-only').textContent = `Show users (${list.length} online)`;
  emit('dialogs:render'); // who of them is online
}

// statusBadge is a user's status beside their name: a word (for screen readers too,
// not only a color) and the status text, if any.
function statusBadge(st) {
  const s = el('span', 'user-status s-' + st.status);
  s.dataset.status = st.status;
  s.append(el('span', 'status-word', st.status));
  if (st.text) s.append(el('span', 'status-note', st.text));
  s.title = st.text ? `${st.status}: ${st.text}` : st.status;
  return s;
}

function buzzButton(u) {
  const b = el('button', 'icon-btn buzz-btn');
  b.type = 'button';
  b.dataset.buzz = String(u.userId);
  b.title = `Buzz ${u.userName}`;
  b.setAttribute('aria-label', `Buzz ${u.userName}`);
  b.append(icon('bell'));
  return b;
}

export function findUser(id) {
  return state.users.get(Number(id));
}

// ---- private mode ----

// setPrivate enters private mode with u (online unless told otherwise) or leaves it.
export function setPrivate(u, online = true) {
  state.privateTo = u ? { userId: u.userId, userName: u.userName, online } : null;
  ui.privateBar.hidden = !u;
  ui.privateBar.dataset.online = String(!!u && online);
  ui.privateOffline.hidden = !u || online;
  ui.composer.classList.toggle('is-private', !!u);
  ui.privateName.textContent = u ? u.userName : '';
  updatePlaceholder();
  for (const li of ui.users.children) {
    li.classList.toggle('is-private', !!u && online && li.dataset.userId === String(u.userId));
  }
}

export function openPrivate(id) {
  const u = findUser(id);
  if (!u || (state.me && u.userId === state.me.userId)) return;
  emit('dialogs:open', u); // its own thread (dialogs.js)
  closeSidebar();
}
