// A line's file, as the log shows it: an image as a preview, anything else as a card
// with a download button. Files are fetched with the account's or the resume token as
// a bearer (the server serves them only so) and shown from blob: URLs. It imports no
// view, so the log can use it without a circle.
import { el } from './dom.js';
import { state } from './state.js';

const PREVIEW_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

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
      meta.textContent = `${name} could not be downloaded.`;
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
export function bearer() {
  return state.account?.token || state.token;
}

function sizeWords(n) {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${Math.round(n / 1000)} KB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}
