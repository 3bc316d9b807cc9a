// Small DOM helpers: elements, icons, avatars, gender marks, name buttons.
import { GENDERS } from './state.js';
import { safeColor } from './text.js';

// ---- small DOM helpers ----

export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(ns, 'use');
  use.setAttribute('href', '#i-' + name);
  svg.append(use);
  return svg;
}

export function avatar(u) {
  const a = el('span', 'avatar', [...u.userName.trim()][0]?.toUpperCase() ?? '?');
  a.style.backgroundColor = safeColor(u.userColor);
  a.setAttribute('aria-hidden', 'true');
  return a;
}

export function genderMark(g) {
  const info = GENDERS[g];
  const s = el('span', 'gender g' + (info ? g : 0), info ? info.mark : '');
  if (info) s.title = info.word;
  s.setAttribute('aria-hidden', 'true');
  return s;
}

// A name a person can click (mention), double-click (private mode) or reach by keyboard.
export function nameButton(u) {
  const b = el('button', 'name', u.userName);
  b.type = 'button';
  b.style.color = safeColor(u.userColor);
  b.dataset.userId = String(u.userId);
  b.title = 'Click to mention, double-click for a private chat';
  return b;
}
