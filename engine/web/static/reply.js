// Replying: "Reply" on a line quotes it above the composer; the next line sent carries
// replyTo, and the server adds the quote as it was. A quote scrolls to its original.
import { el } from './dom.js';
import { showToast } from './log.js';
import { roomOf, seqOf } from './msgactions.js';
import { state, ui } from './state.js';
import { decodeEntities, escapeHTML } from './text.js';

const EXCERPT = 140; // code points, as the server quotes
let target = null; // { room, seq, quote }
let bar = null;

function startReply(li) {
  const seq = seqOf(li);
  if (!seq || li.classList.contains('deleted')) return;
  const name = li.querySelector('.msg-head .name')?.textContent ?? '';
  // The server's quote is the raw text's first 140 code points, escaped: the same here.
  const raw = decodeEntities((li.dataset.text ?? '').replace(/<b>([^<]*)<\/b>/g, '{$1}'));
  const quote = { seq, userId: Number(li.dataset.userId), userName: name, text: escapeHTML([...raw].slice(0, EXCERPT).join('')) };
  target = { room: roomOf(li), seq, quote };
  if (!bar) {
    bar = el('div', 'reply-bar');
    ui.composer.prepend(bar);
  }
  const cancel = el('button', 'chip-btn', 'Cancel reply');
  cancel.type = 'button';
  cancel.addEventListener('click', () => { cancelReply(); ui.message.focus(); });
  bar.replaceChildren(el('span', 'reply-label', `Replying to ${name}`), cancel);
  bar.hidden = false;
  ui.message.focus();
}

export function cancelReply() {
  target = null;
  if (bar) bar.hidden = true;
}

// takeReply is the composer's: the quote for a line to roomId (cleared once taken), or
// null; a private line or another room's quotes nothing.
export function takeReply(roomId, isPrivate) {
  const t = target;
  if (!t) return null;
  cancelReply();
  return !isPrivate && t.room === roomId ? t.quote : null;
}

// showOriginal scrolls to the quoted line, if this page has it.
function showOriginal(q) {
  const li = q.closest('.msg');
  const orig = state.shown.get(`${roomOf(li)} ${Number(q.dataset.replySeq)}`);
  if (!orig) {
    showToast('The original message is not loaded; scroll up to find it.');
    return;
  }
  orig.scrollIntoView({ block: 'center' });
  orig.classList.add('flash');
  setTimeout(() => orig.classList.remove('flash'), 1500);
}

export function wireReplies() {
  ui.log.addEventListener('click', (e) => {
    const q = e.target.closest('.msg-quote');
    if (q) {
      showOriginal(q);
      return;
    }
    const b = e.target.closest('[data-msg-action="reply"]');
    if (b) startReply(b.closest('.msg'));
  });
}
