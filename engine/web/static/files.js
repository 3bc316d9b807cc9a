// Files: upload by the "Attach file" button, by paste or by drag and drop, with
// progress; a line then carries the fileId. Images show as previews and other files
// as download cards. Files are fetched with the account's or the resume token as a
// bearer (the server serves them only so), and shown from blob: URLs.
import { sendFileLine } from './composer.js';
import { el } from './dom.js';
import { showToast } from './log.js';
import { LOBBY, state, ui } from './state.js';

const PREVIEW_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

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
  const xhr = new XMLHttpRequest();
  xhr.open('POST', `/api/files?roomId=${encodeURIComponent(room)}`);
  xhr.setRequestHeader('Authorization', `Bearer ${bearer()}`);
  xhr.setRequestHeader('X-File-Name', encodeURIComponent(file.name));
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
  xhr.onload = () => {
    row.remove();
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch { /* shown below */ }
    if (xhr.status !== 201) {
      showToast(body.error === 'file_too_large' ? `${file.name} is too big to send.` : `${file.name} was not sent: ${body.message || xhr.status}.`);
      return;
    }
    sendFileLine(body, room);
  };
  xhr.onerror = () => { row.remove(); showToast(`${file.name} was not sent: the server could not be reached.`); };
  xhr.send(file);
}

// fileCard is the shown part of a line's file: a preview for an image, else a card
// with a download button.
export function fileCard(f) {
  const card = el('div', 'file-card');
  const name = String(f.name ?? 'file');
  const url = String(f.url ?? '');
  if (!url.startsWith('/api/files/')) return card; // only this server's files are fetched
  if (PREVIEW_TYPES.has(f.type)) {
    const img = el('img', 'file-preview');
    img.alt = name;
    card.append(img);
    fetchBlob(url).then((blob) => { img.src = URL.createObjectURL(blob); }).catch(() => card.append(el('span', 'file-missing', 'The image could not be loaded.')));
  }
  const meta = el('span', 'file-meta', `${name} · ${sizeWords(Number(f.size) || 0)}`);
  const get = el('button', 'chip-btn file-download', 'Download');
  get.type = 'button';
  get.setAttribute('aria-label', `Download ${name}`);
  get.addEventListener('click', async () => {
    try {
      const a = el('a');
      a.href = URL.createObjectURL(await fetchBlob(url));
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    } catch {
      showToast(`${name} could not be downloaded.`);
    }
  });
  card.append(meta, get);
  return card;
}

async function fetchBlob(url) {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${bearer()}` } });
  if (!res.ok) throw new Error(String(res.status));
  return res.blob();
}

// bearer proves who this page is to the file routes: the account's token, or the
// connection's resume token.
function bearer() {
  return state.account?.token || state.token;
}

function sizeWords(n) {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${Math.round(n / 1000)} KB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}
