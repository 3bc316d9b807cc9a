// Reactions: a "React" button on each room message opening a small emoji picker, and
// a bar of reactions under the message with counts; this page's user's own reactions
// are highlighted, and a click on one toggles it. The server sends a message's whole
// state (Reactions), so the bar is redrawn from it, never patched.
import { el } from './dom.js';
import { isDialog } from './threads.js';
import { sendJSON } from './link.js';
import { LOBBY, state, ui } from './state.js';

// The picker's emoji: one grapheme each, as the server requires.
export const PICKER = ['👍', '❤️', '😂', '😮', '😢', '🎉', '👀', '🙏'];

let picker = null; // the open picker's element, if any

// decorateMessage gives a room message its React button and its reaction bar (from
// the reactions a History page or a replay carries). Private lines get neither.
export function decorateMessage(li, main, m, isPrivate) {
  if (!state.modern || (isPrivate && !isDialog(String(m.roomId ?? '')))) return; // rooms and conversations
  const btn = el('button', 'react-btn', '☺');
  btn.type = 'button';
  btn.dataset.react = '';
  btn.setAttribute('aria-label', 'React');
  btn.setAttribute('aria-haspopup', 'true');
  btn.title = 'React';
  main.querySelector('.msg-head')?.append(btn);
  const bar = el('div', 'reactions');
  bar.setAttribute('aria-label', 'Reactions');
  main.append(bar);
  if (!li.dataset.room) li.dataset.room = typeof m.roomId === 'string' && m.roomId ? m.roomId : LOBBY;
  renderBar(bar, m.reactions);
}

// reactions is the server's Reactions action.
export function reactions(m) {
  const room = typeof m.roomId === 'string' && m.roomId ? m.roomId : LOBBY;
  const li = state.shown.get(`${room} ${Number(m.seq)}`);
  const bar = li?.querySelector('.reactions');
  if (bar) renderBar(bar, m.reactions);
}

// renderBar draws the reaction buttons of one message.
function renderBar(bar, list) {
  const me = state.me ? Number(state.me.userId) : 0;
  const items = [];
  for (const r of Array.isArray(list) ? list : []) {
    if (!r || typeof r.emoji !== 'string' || !r.emoji) continue;
    const ids = Array.isArray(r.userIds) ? r.userIds.map(Number) : [];
    const count = Number(r.count) || ids.length;
    if (count <= 0) continue;
    const mine = me > 0 && ids.includes(me);
    const b = el('button', 'reaction' + (mine ? ' mine' : ''));
    b.type = 'button';
    b.dataset.emoji = r.emoji;
    b.setAttribute('aria-pressed', String(mine));
    b.setAttribute('aria-label', `${r.emoji} ${count}`);
    b.title = ids.map((id) => state.users.get(id)?.userName ?? `user #${id}`).join(', ');
    b.append(el('span', 'reaction-emoji', r.emoji), el('span', 'reaction-count', String(count)));
    items.push(b);
  }
  bar.replaceChildren(...items);
  bar.hidden = items.length === 0;
}

// react toggles this page's user's reaction with emoji on the message li shows.
function react(li, emoji) {
  const key = li?.dataset.key;
  if (!key) return; // not stored yet: no seq to react to
  const seq = Number(key.slice(key.lastIndexOf(' ') + 1));
  sendJSON({ action: 'React', roomId: li.dataset.room || LOBBY, seq, emoji });
}

function openPicker(li, anchor) {
  closePicker();
  picker = el('div', 'emoji-picker');
  picker.setAttribute('role', 'group');
  picker.setAttribute('aria-label', 'Pick a reaction');
  for (const e of PICKER) {
    const b = el('button', 'emoji-choice', e);
    b.type = 'button';
    b.dataset.pick = e;
    b.setAttribute('aria-label', e);
    picker.append(b);
  }
  picker.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') { closePicker(); anchor.focus(); }
  });
  anchor.after(picker);
  picker.querySelector('button')?.focus();
}

function closePicker() {
  picker?.remove();
  picker = null;
}

// wireReactions handles the log's React buttons, picker choices and reaction toggles.
export function wireReactions() {
  ui.log.addEventListener('click', (e) => {
    const li = e.target.closest('li.msg');
    const pick = e.target.closest('[data-pick]');
    if (pick) {
      react(li, pick.dataset.pick);
      closePicker();
      return;
    }
    const toggle = e.target.closest('button.reaction');
    if (toggle) {
      react(li, toggle.dataset.emoji);
      return;
    }
    const open = e.target.closest('[data-react]');
    if (open) {
      if (picker && picker.previousElementSibling === open) closePicker();
      else openPicker(li, open);
      return;
    }
    closePicker();
  });
  document.addEventListener('click', (e) => {
    if (picker && !ui.log.contains(e.target)) closePicker();
  });
}
