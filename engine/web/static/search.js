// Search: the "Search" box asks the server for messages of every room this page's
// user is in; a result, clicked, jumps to its message: the room is switched to, and
// older History pages are loaded until the message is in the log.
import { el } from './dom.js';
import { loadOlder } from './history.js';
import { sendJSON } from './link.js';
import { showToast } from './log.js';
import { hasOlder, room, roomLabel } from './rooms.js';
import { switchRoom } from './roomlist.js';
import { LOBBY, state, ui } from './state.js';
import { hhmm, renderText, userOf } from './text.js';

const LIMIT = 20;
const MAX_PAGES = 20; // History pages loaded at most to reach a result
const $ = (id) => document.getElementById(id);
const box = { form: $('search-form'), input: $('search'), panel: $('search-results'), list: $('search-list'), summary: $('search-summary'), close: $('search-close') };

let wanted = null; // {room, seq, pages, direct}: the result being jumped to

// searchResults is the server's SearchResults action.
export function searchResults(m) {
  const msgs = Array.isArray(m.messages) ? m.messages : [];
  const items = [];
  for (const x of msgs) {
    if (!x || typeof x !== 'object' || !(Number(x.seq) > 0)) continue;
    const from = userOf(x);
    const rid = typeof x.roomId === 'string' && x.roomId ? x.roomId : LOBBY;
    const b = el('button', 'search-hit');
    b.type = 'button';
    b.dataset.room = rid;
    b.dataset.seq = String(Number(x.seq));
    const where = rid.startsWith('@') ? 'private' : roomLabel(rid);
    const at = Number(x.ts) > 0 ? new Date(Number(x.ts)) : null;
    b.append(el('span', 'hit-where', `${where} · ${from.userName}${at ? ' · ' + hhmm(at) : ''}`));
    const text = el('span', 'hit-text');
    renderText(text, String(x.text ?? ''));
    b.append(text);
    const li = el('li', 'search-item');
    li.append(b);
    items.push(li);
  }
  box.list.replaceChildren(...items);
  const q = String(m.query ?? '');
  box.summary.textContent = items.length ? `${items.length} result${items.length > 1 ? 's' : ''} for “${q}”` : `No messages found for “${q}”`;
  box.panel.hidden = false;
}

// historyArrived follows a jump after each History page: there, or one more page.
export function historyArrived(m) {
  if (!wanted || String(m.roomId ?? '') !== wanted.room) return;
  if (reveal()) return;
  const r = room(wanted.room, false);
  if (r && hasOlder(r) && wanted.pages < MAX_PAGES) {
    wanted.pages++;
    loadOlder();
  } else if (!wanted.direct) {
    wanted.direct = true; // too far back: the page that holds it, above what is shown
    sendJSON({ action: 'History', roomId: wanted.room, before: wanted.seq + 1, limit: 50 });
  } else {
    wanted = null;
    showToast('That message could not be loaded.');
  }
}

// reveal scrolls to the wanted message if the log shows it.
function reveal() {
  const li = state.shown.get(`${wanted.room} ${wanted.seq}`);
  if (!li || !ui.log.contains(li)) return false;
  wanted = null;
  state.stick = false;
  li.scrollIntoView({ block: 'center' });
  li.classList.add('found');
  li.tabIndex = -1;
  li.focus({ preventScroll: true });
  setTimeout(() => li.classList.remove('found'), 2500);
  return true;
}

function jump(rid, seq) {
  wanted = { room: rid, seq, pages: 0, direct: false };
  if (!rid.startsWith('@') && rid !== state.current) {
    if (!state.rooms.has(rid)) {
      wanted = null;
      showToast('You are no longer in that room.');
      return;
    }
    switchRoom(rid);
  }
  if (reveal()) return;
  if (rid.startsWith('@')) { // private lines show in whichever room was open
    wanted = null;
    showToast('That private message is not loaded any more.');
    return;
  }
  historyArrived({ roomId: rid });
}

// wireSearch handles the Search box and the results.
export function wireSearch() {
  box.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const query = box.input.value.trim();
    if (!query) { box.panel.hidden = true; return; }
    if (!state.modern || !sendJSON({ action: 'Search', query, limit: LIMIT })) {
      showToast('Search needs a connection to the server.');
    }
  });
  box.input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { box.panel.hidden = true; box.input.value = ''; }
  });
  box.close.addEventListener('click', () => { box.panel.hidden = true; });
  box.list.addEventListener('click', (e) => {
    const hit = e.target.closest('.search-hit');
    if (hit) jump(hit.dataset.room, Number(hit.dataset.seq));
  });
}
