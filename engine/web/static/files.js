// Files: upload by the "Attach file" button, by paste or by drag and drop, with
// progress; a line then carries the fileId. Showing a line's file is filecard.js's.
import { sendFileLine } from './composer.js';
import { el } from './dom.js';
import { bearer } from './filecard.js';
import { showToast } from './log.js';
import { LOBBY, state, ui } from './state.js';

export function setupFiles() {
  ui.attach.addEventListener('click', () => ui.fileInput.click());
  ui.fileInput.addEventListener('change', () => {
    for (const f of ui.fileInput.files) upload(f);
    ui.fileInput.value = '';
  });
  ui.message.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    files.forEach(upload);
  });
  const zone = ui.composer.closest('.conversation');
  zone.addEventListener('dragover', (e) => {
    if (![...e.dataTransfer.types].includes('Files')) return;
    e.preventDefault();
    zone.classList.add('dropping');
  });
  zone.addEventListener('dragleave', (e) => { if (!zone.contains(e.relatedTarget)) zone.classList.remove('dropping'); });
  zone.addEventListener('drop', (e) => {
    zone.classList.remove('dropping');
    if (e.dataTransfer.files.length === 0) return;
    e.preventDefault();
    [...e.dataTransfer.files].forEach(upload);
  });
}

// upload sends one file to the current room with a progress bar, then the line.
export function upload(file) {
  if (!bearer() || !state.me) {
    showToast('You are offline; the file was not sent.');
    return;
  }
  if (state.privateTo) {
    showToast('Files go to rooms; leave private mode to send one.');
    return;
  }
  const room = state.current || LOBBY;
  const row = el('li', 'upload');
  const label = el('span', 'upload-name', file.name);
  const bar = el('progress');
  bar.max = 1;
  bar.value = 0;
  bar.setAttribute('aria-label', `Uploading ${file.name}`);
  row.append(label, bar);
  ui.uploads.append(row);
  send(file, room, row, bar, 0);
}

// BUSY_RETRIES: a 503 busy (uploads of this address, or of everyone, fill the server's
// upload memory for now) is tried again, after 1, 2, 4, 8 and 16 s.
const BUSY_RETRIES = 5;

function send(file, room, row, bar, attempt) {
  const xhr = new XMLHttpRequest();
  xhr.open('POST', `/api/files?roomId=${encodeURIComponent(room)}`);
  xhr.setRequestHeader('Authorization', `Bearer ${bearer()}`);
  xhr.setRequestHeader('X-File-Name', encodeURIComponent(file.name));
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
  xhr.onload = () => {
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch { /* shown below */ }
    if (xhr.status === 503 && body.error === 'busy' && attempt < BUSY_RETRIES) {
      bar.removeAttribute('value'); // waiting: an indeterminate bar
      setTimeout(() => send(file, room, row, bar, attempt + 1), 1000 * 2 ** attempt);
      return;
    }
    row.remove();
    if (xhr.status !== 201) {
      showToast(body.error === 'file_too_large' ? `${file.name} is too big to send.` : `${file.name} was not sent: ${body.message || xhr.status}.`);
      return;
    }
    sendFileLine(body, room);
  };
  xhr.onerror = () => { row.remove(); showToast(`${file.name} was not sent: the server could not be reached.`); };
  xhr.send(file);
}
