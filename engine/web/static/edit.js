// Editing and deleting one's own lines: Edit loads the line into the composer (Enter
// saves, Esc cancels; Up in an empty composer edits one's last line), Delete asks in
// the page first. The server's Edited and Deleted change every copy of the line.
import { el } from './dom.js';
import { sendJSON } from './link.js';
import { showToast } from './log.js';
import { markEdited, roomOf, seqOf, showDeleted } from './msgactions.js';
import { currentRoom } from './rooms.js';
import { ERROR_WORDS, state, ui } from './state.js';
import { decodeEntities, renderText } from './text.js';

Object.assign(ERROR_WORDS, {
  not_author: 'Only its author can change a message.',
  edit_window_over: 'That message is too old to be edited.',
  no_such_message: 'That message no longer exists.',
});

let editing = null; // the <li> being edited
let bar = null;

// rawText is what its author typed, from the server's formatted text.
function rawText(formatted) {
  return decodeEntities(formatted.replace(/<b>([^<]*)<\/b>/g, '{$1}'));
}

function setBox(text) {
  ui.message.value = text;
  ui.message.dispatchEvent(new Event('input'));
}

export function startEdit(li) {
  if (!li || !seqOf(li) || li.classList.contains('deleted')) return;
  cancelEdit();
  editing = li;
  li.classList.add('editing');
  if (!bar) {
    bar = el('div', 'edit-bar');
    bar.setAttribute('role', 'status');
    ui.composer.prepend(bar);
  }
  bar.textContent = 'Editing your message: Enter saves, Esc cancels.';
  bar.hidden = false;
  setBox(rawText(li.dataset.text ?? ''));
  ui.message.focus();
  ui.message.setSelectionRange(ui.message.value.length, ui.message.value.length);
}

export function cancelEdit() {
  if (!editing) return false;
  editing.classList.remove('editing');
  editing = null;
  if (bar) bar.hidden = true;
  setBox('');
  return true;
}

// saveEdit is the composer's send while a line is being edited: true if it took it.
export function saveEdit(text) {
  if (!editing) return false;
  const li = editing;
  if (text.trim() && text !== rawText(li.dataset.text ?? '')) {
    if (!sendJSON({ action: 'Edit', roomId: roomOf(li), seq: seqOf(li), text })) showToast('You are offline; the edit was not saved.');
  }
  cancelEdit();
  return true;
}

// editLast edits the current room's last line of one's own that can still be edited.
function editLast() {
  const items = currentRoom().items;
  for (let i = items.length - 1; i >= 0; i--) {
    const li = items[i];
    if (li.classList.contains('mine') && li.dataset.kind === 'public' && seqOf(li) && !li.classList.contains('deleted')) {
      startEdit(li);
      return true;
    }
  }
  return false;
}

// askDelete shows the in-page confirmation under the line.
function askDelete(li) {
  if (!seqOf(li) || li.querySelector('.delete-confirm')) return;
  const box = el('div', 'delete-confirm');
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', 'Delete this message?');
  box.append(el('span', 'delete-question', 'Delete this message?'));
  const yes = el('button', 'chip-btn danger', 'Yes, delete');
  yes.type = 'button';
  yes.dataset.confirmDelete = '1';
  const no = el('button', 'chip-btn', 'Cancel');
  no.type = 'button';
  no.dataset.cancelDelete = '1';
  box.append(yes, no);
  box.addEventListener('keydown', (e) => { if (e.key === 'Escape') { box.remove(); ui.message.focus(); } });
  li.querySelector('.msg-main').append(box);
  no.focus();
}

// edited and deleted are the server's Edited and Deleted.
export function edited(m) {
  const li = state.shown.get(`${String(m.roomId ?? '')} ${Number(m.seq)}`);
  if (!li || li.classList.contains('deleted')) return;
  li.dataset.text = String(m.text ?? '');
  const body = li.querySelector('.msg-text');
  body.replaceChildren();
  renderText(body, li.dataset.text);
  markEdited(li);
}

export function deleted(m) {
  const id = String(m.roomId ?? '');
  const seq = Number(m.seq);
  const li = state.shown.get(`${id} ${seq}`);
  if (li) {
    if (li === editing) cancelEdit();
    showDeleted(li);
  }
  for (const q of document.querySelectorAll(`.msg-quote[data-reply-seq="${seq}"]`)) {
    if (roomOf(q.closest('.msg')) !== id) continue;
    q.classList.add('deleted');
    q.replaceChildren(el('span', 'quote-text', 'Message deleted'));
  }
}

// wireEdits hooks the log's buttons and the composer's keys; call it before the
// composer's own keydown handler is added, so Esc and Up while editing come here first.
export function wireEdits() {
  ui.log.addEventListener('click', (e) => {
    const li = e.target.closest('.msg');
    if (!li) return;
    if (e.target.closest('[data-msg-action="edit"]')) startEdit(li);
    else if (e.target.closest('[data-msg-action="delete"]')) askDelete(li);
    else if (e.target.closest('[data-confirm-delete]')) {
      li.querySelector('.delete-confirm')?.remove();
      if (!sendJSON({ action: 'Delete', roomId: roomOf(li), seq: seqOf(li) })) showToast('You are offline; the message was not deleted.');
    } else if (e.target.closest('[data-cancel-delete]')) li.querySelector('.delete-confirm')?.remove();
  });
  ui.message.addEventListener('keydown', (e) => {
    if (e.isComposing) return;
    if (e.key === 'Escape' && editing) {
      e.preventDefault();
      e.stopImmediatePropagation();
      cancelEdit();
    } else if (e.key === 'ArrowUp' && !editing && !ui.message.value && state.modern && editLast()) {
      e.preventDefault();
    }
  });
}
