// Turning what the server sends into DOM nodes. Nothing here ever parses markup: the
// server has already HTML-escaped chat text and added <b>..</b> for {mentions}, so we
// undo exactly that and hand plain strings to textContent. A message, a name or a
// color can therefore never create an element of its choosing or run a script in this
// page: the only elements made from a text are that <b> and http(s) links (links.js).
// The page's other small text helpers (a user record made safe, a time of day) live
// here too.
import { appendLinked } from './links.js';

const ENTITIES = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#039;': "'",
  '&#39;': "'",
};

// decodeEntities reverses the server's escaping (protocol.FormatText) and nothing more.
export function decodeEntities(s) {
  return s.replace(/&(?:amp|lt|gt|quot|#0?39);/g, (m) => ENTITIES[m]);
}

// parseText splits server text into runs; only a literal <b> closed by a later </b> is
// bold (that is the server's mention markup), every other character is text.
export function parseText(s) {
  const runs = [];
  let i = 0;
  for (;;) {
    const open = s.indexOf('<b>', i);
    if (open < 0) break;
    const close = s.indexOf('</b>', open + 3);
    if (close < 0) break;
    if (open > i) runs.push({ text: decodeEntities(s.slice(i, open)), bold: false });
    runs.push({ text: decodeEntities(s.slice(open + 3, close)), bold: true });
    i = close + 4;
  }
  if (i < s.length) runs.push({ text: decodeEntities(s.slice(i)), bold: false });
  return runs;
}

// renderText appends the runs of s to parent as text nodes, <b> elements and, for
// http(s) URLs in plain runs, links (links.js).
export function renderText(parent, s) {
  for (const run of parseText(String(s ?? ''))) {
    if (run.bold) {
      const b = document.createElement('b');
      b.className = 'mention-tag';
      b.textContent = run.text;
      parent.append(b);
    } else {
      appendLinked(parent, run.text);
    }
  }
}

const COLOR = /^#[0-9a-f]{3}([0-9a-f]{3})?$/i;

// safeColor returns c if it is #rgb or #rrggbb, else the fallback: a color goes into
// style properties, and a crafted one must not smuggle in anything else.
export function safeColor(c, fallback = '#7f8c8d') {
  return typeof c === 'string' && COLOR.test(c) ? c : fallback;
}

// escapeHTML is the server's escaping, used only to build the exact mention string the
// server puts in a text, never to produce markup for this page.
export function escapeHTML(s) {
  return String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#039;' })[ch]);
}

// mentions reports whether server text mentions name the way the server renders {name}.
export function mentions(text, name) {
  return typeof text === 'string' && !!name && text.includes('<b>' + escapeHTML(name) + '</b>');
}

// userOf is a user as the server describes one, every field of the type the page expects.
export function userOf(m) {
  return {
    userId: Number(m.userId) || 0,
    userName: String(m.userName ?? ''),
    gender: Number(m.gender) || 0,
    userColor: safeColor(m.userColor),
  };
}

// hhmm is a line's time of day as the log shows it.
export function hhmm(d = new Date()) {
  return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
}
