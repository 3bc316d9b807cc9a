// Links in message text: http and https URLs become <a> elements; nothing else does.
// The text is already plain (text.js undid the server's escaping), so a URL's
// characters go into href and textContent, never into markup.

// A URL starts at a word boundary and runs to whitespace or a character that cannot
// be in one unescaped; the trailing punctuation of a sentence is cut off below.
const URL_RUN = /\bhttps?:\/\/[^\s<>"`{}|\\^]+/gi;
const TRAILING = /[.,;:!?'*~_]$/;
const PAIRS = { ')': '(', ']': '[' };

// trimURL drops what most likely ends the sentence, not the URL: a final period or
// comma, and a closing bracket that has no opening one inside the URL.
function trimURL(s) {
  for (;;) {
    const last = s[s.length - 1];
    if (TRAILING.test(s)) {
      s = s.slice(0, -1);
    } else if (PAIRS[last] && count(s, PAIRS[last]) < count(s, last)) {
      s = s.slice(0, -1);
    } else {
      return s;
    }
  }
}

function count(s, ch) {
  return s.split(ch).length - 1;
}

// safeURL is s as an absolute http(s) URL with a host, or null.
function safeURL(s) {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname ? u : null;
  } catch {
    return null;
  }
}

// link is an <a> to u showing text, opened in a new tab that cannot reach this page.
export function link(u, text) {
  const a = document.createElement('a');
  a.className = 'msg-link';
  a.href = u.href;
  a.textContent = text;
  a.rel = 'noopener noreferrer';
  a.target = '_blank';
  return a;
}

// appendLinked appends plain text to parent as text nodes and links.
export function appendLinked(parent, text) {
  let i = 0;
  for (const m of text.matchAll(URL_RUN)) {
    const raw = trimURL(m[0]);
    const u = safeURL(raw);
    if (!u) continue;
    if (m.index > i) parent.append(document.createTextNode(text.slice(i, m.index)));
    parent.append(link(u, raw));
    i = m.index + raw.length;
  }
  if (i < text.length) parent.append(document.createTextNode(text.slice(i)));
}
