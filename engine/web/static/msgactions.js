// The per-message buttons ("Reply"; on one's own lines "Edit" and "Delete"), shown on
// hover and keyboard focus, and what a message shows of its edits, deletion and quote.
// log.js calls decorate for every line it builds; edit.js and reply.js do the rest.
import { el } from './dom.js';
import { state } from './state.js';
import { renderText } from './text.js';
import { isDialog } from './threads.js';

// decorate adds to a freshly built public line its quote, its "(edited)" mark or its
// deleted placeholder, and its buttons (for a line the server numbered, or will).
export function decorate(li, m, isPrivate, mine) {
  // A conversation's lines (roomId "@lo-hi") can be edited and deleted too, not quoted.
  if (!state.modern || (isPrivate && !isDialog(String(m.roomId ?? '')))) return;
  li.dataset.text = String((m.file ? m.caption : m.text) ?? ''); // a file's line: its caption
  const main = li.querySelector('.msg-main');
  const body = li.querySelector('.msg-text');
  if (m.replyTo && typeof m.replyTo === 'object') main.insertBefore(quoteBlock(m.replyTo), body);
  if (m.deleted === true) {
    // History's shape of a deleted line has only the userId: name it if we can.
    const name = li.querySelector('.msg-head .name');
    if (name && !name.textContent) name.textContent = state.users.get(Number(m.userId))?.userName ?? 'Someone';
    showDeleted(li);
    return;
  }
  if (Number(m.editedAt) > 0) markEdited(li);
  const bar = el('div', 'msg-actions');
  if (!isPrivate) bar.append(actionButton('Reply', 'reply'));
  if (mine) bar.append(actionButton('Edit', 'edit'), actionButton('Delete', 'delete'));
  else if (state.moderator && !isPrivate) bar.append(actionButton('Delete', 'delete')); // --moderators
  main.append(bar);
}

function actionButton(name, act) {
  const b = el('button', 'msg-action', name);
  b.type = 'button';
  b.dataset.msgAction = act;
  return b;
}

// quoteBlock is a reply's quote: who and what, or that the original was deleted; a
// click (or Enter on it) scrolls to the original.
export function quoteBlock(q) {
  const b = el('button', 'msg-quote');
  b.type = 'button';
  b.dataset.replySeq = String(Number(q.seq) || 0);
  if (q.deleted === true) {
    b.append(el('span', 'quote-text', 'Message deleted'));
    b.classList.add('deleted');
  } else {
    b.append(el('span', 'quote-name', String(q.userName ?? '')));
    const t = el('span', 'quote-text');
    renderText(t, String(q.text ?? ''));
    b.append(t);
  }
  b.title = 'Show the original message';
  return b;
}

export function markEdited(li) {
  if (li.querySelector('.edited-mark')) return;
  const mark = el('span', 'edited-mark', '(edited)');
  li.querySelector('.msg-text').after(mark);
}

// showDeleted leaves a placeholder where the line was: no text, no buttons.
export function showDeleted(li) {
  li.classList.add('deleted');
  li.dataset.text = '';
  li.querySelector('.msg-text').replaceChildren(el('span', 'deleted-text', 'Message deleted'));
  for (const x of li.querySelectorAll('.msg-actions, .edited-mark, .delete-confirm, .react-btn, .reactions, .file-card')) x.remove();
}

// roomOf and seqOf read a line's place (li.dataset.key is "room seq").
export function roomOf(li) { return (li.dataset.key ?? '').split(' ')[0]; }
export function seqOf(li) { return Number(li.dataset.seq) || 0; }
