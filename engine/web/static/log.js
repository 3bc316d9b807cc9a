// The message log of each room: lines, notices, pending sends and their Sent.
import { scheduleAck, stream } from './ack.js';
import { alertMe } from './alerts.js';
import { avatar, el, genderMark, icon, nameButton } from './dom.js';
import { fileCard } from './filecard.js';
import { noteRead } from './readmarks.js';
import { decorate } from './msgactions.js';
import { currentRoom, hasOlder, room } from './rooms.js';
import { decorateMessage } from './reactions.js';
import { ERROR_WORDS, GROUP_MS, LOBBY, MAX_LOG, NOT_DELIVERED, state, ui } from './state.js';
import { mentions, renderText, userOf } from './text.js';
import { dayBefore, stamp, topDay } from './days.js';
import { notifyMe } from './notify.js';
import { peerOf, threadOf } from './threads.js';

// ---- the log ----

export function nearBottom() {
  return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
}

// The log follows new lines while the reader is at the bottom, and stays put while
// they scroll back to read; a resize (a phone keyboard, a rotation) keeps that choice.
// Each room keeps its own lines; only the current room's are in the page's log.
export function append(li, r = currentRoom()) {
  const day = dayBefore(r.items, li);
  if (day) append(day, r);
  r.items.push(li);
  if (r.id !== state.current) {
    trim(r);
    return;
  }
  ui.log.append(li);
  if (state.stick) {
    trim(r);
    pinLog();
  } else {
    state.logSize = logSize();
  }
  renderOlder();
}

// trim drops a room's oldest lines beyond MAX_LOG; History brings them back on demand.
// The oldest line left keeps a day separator above it.
export function trim(r) {
  while (r.items.length > MAX_LOG) {
    const old = r.items.shift();
    old.remove();
    if (old.dataset.key) state.shown.delete(old.dataset.key);
    r.more = true;
  }
  topDay(r.items);
}

// renderOlder shows "Show earlier messages" while the current room has more to fetch.
export function renderOlder() {
  ui.older.hidden = !(state.modern && state.me && hasOlder(currentRoom()));
}

export function logSize() {
  return `${ui.log.clientWidth}x${ui.log.clientHeight}/${ui.log.scrollHeight}`;
}

export function pinLog() {
  ui.log.scrollTop = ui.log.scrollHeight;
  state.logSize = logSize();
}

export function notice(kind, words, u, r) {
  const li = el('li', 'notice ' + kind);
  li.dataset.kind = 'notice';
  li.dataset.notice = kind;
  li.append(stamp());
  const body = el('span', 'notice-body');
  if (u) {
    body.append(nameButton(u), ' ' + words);
  } else {
    body.textContent = words;
  }
  li.append(body);
  append(li, r);
}

// message shows a chat line once: a resend, a replay overlap or the echo of a line
// this page sent (matched by clientMsgId) never makes a second one. It returns true
// when a room not in view got an unread line: the room list must show it.
export function message(m, isPrivate) {
  const seq = Number(m.seq) || 0;
  const sid = typeof m.roomId === 'string' && m.roomId ? m.roomId : (isPrivate ? '' : LOBBY);
  // A late line of a room this page has left is neither tracked nor acknowledged.
  if (!isPrivate && !state.rooms.has(sid)) return;
  if (seq && sid) {
    const s = stream(sid);
    const dup = s.has(seq);
    s.add(seq);
    scheduleAck();
    if (dup) return;
  }
  const key = seq && sid ? `${sid} ${seq}` : '';
  const cid = typeof m.clientMsgId === 'string' ? m.clientMsgId : '';
  const mineLi = cid && (state.pending.get(cid)?.li ?? state.confirmed.get(cid));
  if (mineLi) {
    confirm(cid, key, mineLi);
    const body = mineLi.querySelector('.msg-text');
    body.replaceChildren();
    renderText(body, String((m.file ? m.caption : m.text) ?? ''));
    mineLi.dataset.text = String((m.file ? m.caption : m.text) ?? ''); // edit.js and reply.js read the server's text
    state.confirmed.delete(cid);
    return;
  }
  if (key && state.shown.has(key)) return;

  const text = String(m.text ?? '');
  const me = state.me;
  const from = userOf(m);
  const outgoing = isPrivate && !!me && from.userId === me.userId;
  if (outgoing && text === NOT_DELIVERED) {
    state.undeliveredAt = Date.now();
    failPrivate(Number(m.toUserId) || 0);
    return;
  }
  const r = isPrivate ? threadOf(m) : room(sid, false);
  if (!r) return; // a room this page has left
  const { li, mention, mine } = buildMessage(m, isPrivate, r.items[r.items.length - 1]);
  if (key) {
    li.dataset.key = key;
    li.dataset.seq = String(seq);
    state.shown.set(key, li);
  }
  append(li, r);
  const unread = !mine && r.id !== state.current;
  if (unread) r.unread++;
  else noteRead();
  if ((isPrivate && !outgoing) || (mention && !mine)) {
    const why = isPrivate ? `Private message from ${from.userName}` : `${from.userName} mentioned you`;
    alertMe(why);
    notifyMe(why, text, isPrivate ? '@' + from.userId : r.id);
  }
  return unread;
}

// buildMessage makes a chat line's <li>; prev is the line before it, for grouping.
export function buildMessage(m, isPrivate, prev) {
  const from = userOf(m);
  const me = state.me;
  const toId = Number(m.toUserId) || 0;
  const outgoing = isPrivate && !!me && from.userId === me.userId;
  const text = String(m.text ?? '');
  const mine = !!me && from.userId === me.userId;
  const mention = !isPrivate && !!me && mentions(text, me.userName);
  let peer = null;
  if (isPrivate) {
    peer = outgoing ? state.users.get(toId) ?? peerOf(toId) ?? { userId: toId, userName: `user #${toId}` } : from;
  }
  const dir = isPrivate ? (outgoing ? 'out' : 'in') : (mine ? 'out' : 'in');
  const at = Number(m.ts) > 0 ? new Date(Number(m.ts)) : new Date();

  const li = el('li', 'msg');
  li.dataset.kind = isPrivate ? 'private' : 'public';
  li.dataset.dir = dir;
  li.dataset.userId = String(from.userId);
  if (isPrivate) li.classList.add('private');
  if (mention) li.classList.add('mention');
  if (mine) li.classList.add('mine');

  // Lines in a row from one sender, of one kind and to one peer, share one header.
  const group = `${li.dataset.kind}|${from.userId}|${peer ? peer.userId : 0}|${dir}`;
  li.dataset.group = group;
  li.dataset.at = String(at.getTime());
  if (prev && prev.dataset.group === group && Math.abs(at.getTime() - Number(prev.dataset.at)) < GROUP_MS) {
    li.classList.add('cont');
  }

  li.append(avatar(from));
  const main = el('div', 'msg-main');
  const head = el('div', 'msg-head');
  head.append(nameButton(from), genderMark(from.gender));
  if (isPrivate) {
    const badge = el('span', 'badge private-badge');
    badge.dataset.dir = dir;
    const words = outgoing ? `private to ${peer.userName}` : `private from ${from.userName}`;
    badge.append(icon('lock'), el('span', 'badge-text', words));
    badge.title = outgoing ? `Private message to ${peer.userName}` : `Private message from ${from.userName}`;
    head.append(badge);
  }
  if (mention) head.append(el('span', 'badge mention-badge', 'mentions you'));
  head.append(stamp(at));
  const status = el('span', 'sent-mark');
  status.setAttribute('aria-hidden', 'true');
  head.append(status);
  const body = el('div', 'msg-text');
  renderText(body, m.file ? String(m.caption ?? '') : text); // the text names the file for the Qt client
  main.append(head, body);
  if (m.file && typeof m.file === 'object') main.append(fileCard(m.file));
  li.append(main);
  decorateMessage(li, main, m, isPrivate);
  decorate(li, m, isPrivate, mine); // buttons, quote, edited and deleted (msgactions.js)
  return { li, mention, mine };
}

// confirm marks this page's line cid as stored by the server (seq in key).
export function confirm(cid, key, li) {
  state.pending.delete(cid);
  li.classList.remove('pending');
  li.querySelector('.sent-mark').title = '';
  if (key && !li.dataset.key) {
    li.dataset.key = key;
    li.dataset.seq = key.split(' ')[1];
    state.shown.set(key, li);
  }
}

// sent handles Sent: the line is durable; its echo (same clientMsgId) may follow.
export function sent(m) {
  const cid = String(m.clientMsgId ?? '');
  const p = state.pending.get(cid);
  if (!p) return;
  confirm(cid, m.seq ? `${m.roomId || LOBBY} ${Number(m.seq)}` : '', p.li);
  state.confirmed.set(cid, p.li);
  if (state.confirmed.size > 200) state.confirmed.delete(state.confirmed.keys().next().value);
}

// failOldestPending gives up on the oldest unconfirmed line: the server refused it.
// RETRYABLE are the refusals a pending line survives: it goes again until Sent.
const RETRYABLE = new Set(['rate_limited', 'store_unavailable', 'busy', 'cluster_unavailable']);

export function failOldestPending() {
  const first = state.pending.keys().next().value;
  if (first !== undefined) failPending(first);
}

// failPending marks the pending line cid as refused for good.
function failPending(cid) {
  const p = state.pending.get(cid);
  if (!p) return;
  state.pending.delete(cid);
  p.li.classList.remove('pending');
  p.li.classList.add('failed');
  p.li.querySelector('.sent-mark').title = 'Not sent';
}

// failPrivate gives up on pending private lines to toId: the server said no one is there.
export function failPrivate(toId) {
  const peer = state.users.get(toId);
  notice('error', `Not delivered: ${peer ? peer.userName : 'that user'} is not online.`);
  for (const [cid, p] of state.pending) {
    if (p.frame.toUserId === toId) {
      state.pending.delete(cid);
      p.li.classList.remove('pending');
      p.li.classList.add('failed');
      p.li.querySelector('.sent-mark').title = 'Not delivered';
    }
  }
}

export function serverError(m) {
  const code = String(m.code ?? '');
  // The not-delivered echo already told the user; the Error after it adds nothing.
  if (code === 'recipient_offline' && Date.now() - state.undeliveredAt < 2000) return;
  // After a failed resume the old inbox in since= is no longer ours; the server says
  // so, but it is this page's bookkeeping, not the user's doing.
  if (code === 'bad_room_id' && String(m.message ?? '').startsWith('since ')) return;
  // Not the user's fault and nothing to do about it: said once, quietly.
  // An older server keeps no conversations (dialogs.js asks once per login).
  if (code === 'unknown_action' && String(m.message ?? '').includes('"Dialogs"')) return;
  if (code === 'resume_failed') {
    notice('info', 'Your previous session had expired, so you are back as a new user.');
    return;
  }
  // A line the server refused for good is not retried forever: the Error names it by
  // its clientMsgId (older servers did not: then the oldest pending one).
  const cid = typeof m.clientMsgId === 'string' ? m.clientMsgId : '';
  if (cid && state.pending.has(cid)) {
    if (!RETRYABLE.has(code)) failPending(cid);
  } else if (code === 'text_too_long' || code === 'empty_text' || code === 'bad_client_msg_id') {
    failOldestPending();
  }
  const words = ERROR_WORDS[code] ?? 'The server reported a problem.';
  const detail = typeof m.message === 'string' && m.message ? ` (${m.message})` : '';
  notice('error', words + detail);
  showToast(words);
}

export function showToast(words) {
  ui.toast.textContent = words;
  ui.toast.hidden = false;
  clearTimeout(state.toastTimer);
  state.toastTimer = setTimeout(() => { ui.toast.hidden = true; }, 5000);
}
