// Dates in the log: every line's <time> carries its full date and time, and a day
// separator stands above the first line of each day, whichever way the lines came (live
// at the bottom, or older History pages at the top).
import { el } from './dom.js';
import { hhmm } from './text.js';

const DAY_MS = 24 * 60 * 60 * 1000;

// stamp is a line's <time>: the time of day shown, the full date and time on hover.
export function stamp(d = new Date()) {
  const t = el('time', 'time', hhmm(d));
  t.dateTime = d.toISOString();
  t.title = d.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'medium' });
  return t;
}

// dayKey is the local calendar day of ms, as YYYY-MM-DD (also the separator's datetime).
export function dayKey(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

// dayLabel is "Today", "Yesterday" or the localized full date of ms.
export function dayLabel(ms, now = Date.now()) {
  const key = dayKey(ms);
  if (key === dayKey(now)) return 'Today';
  // Noon of today minus a day is yesterday whatever the daylight saving shift.
  const noon = new Date(now);
  noon.setHours(12, 0, 0, 0);
  if (key === dayKey(noon.getTime() - DAY_MS)) return 'Yesterday';
  return new Date(ms).toLocaleDateString(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

// separator is the <li> that heads the day of ms.
export function separator(ms) {
  const li = el('li', 'day-sep');
  li.dataset.kind = 'day';
  li.dataset.day = dayKey(ms);
  li.dataset.at = String(ms);
  const t = el('time', 'day-label', dayLabel(ms));
  t.dateTime = li.dataset.day;
  t.title = new Date(ms).toLocaleDateString(undefined, { dateStyle: 'full' });
  li.append(t);
  return li;
}

function isSeparator(li) {
  return li?.dataset.kind === 'day';
}

function dayOf(li) {
  const at = Number(li?.dataset.at);
  return at > 0 ? dayKey(at) : '';
}

// lastDay is the day of the newest dated entry of items ('' if none).
function lastDay(items) {
  for (let i = items.length - 1; i >= 0; i--) {
    const d = dayOf(items[i]);
    if (d) return d;
  }
  return '';
}

// dayBefore is the separator to put before li, appended after items, or null. A line
// that starts a day also starts a header group.
export function dayBefore(items, li) {
  const d = dayOf(li);
  if (!d || isSeparator(li) || d === lastDay(items)) return null;
  li.classList.remove('cont');
  relabel(items);
  return separator(Number(li.dataset.at));
}

// relabel refreshes "Today" and "Yesterday" once a new day has begun.
function relabel(items) {
  for (const li of items) {
    if (isSeparator(li)) li.firstChild.textContent = dayLabel(Number(li.dataset.at));
  }
}

// firstDated is the index of the oldest dated entry of items (notices have no date:
// they are about the moment they were shown), or -1.
function firstDated(items) {
  return items.findIndex((li) => dayOf(li));
}

// headDay puts a separator above below's oldest dated line, at index i.
function headDay(items, i) {
  const first = items[i];
  const sep = separator(Number(first.dataset.at));
  first.classList.remove('cont');
  if (first.isConnected) first.before(sep);
  items.splice(i, 0, sep);
}

// topDay puts a separator back above the oldest line once trimming dropped its own.
export function topDay(items) {
  const i = firstDated(items);
  if (i >= 0 && !isSeparator(items[i])) headDay(items, i);
}

// daysAbove puts separators into add, an older page about to go above below (the
// room's current entries), and fixes below's oldest day: its separator goes when add
// ends on that day, and one comes when add ends on another. It returns add with the
// separators.
export function daysAbove(add, below) {
  const out = [];
  let day = '';
  for (const li of add) {
    const d = dayOf(li);
    if (d && d !== day) {
      out.push(separator(Number(li.dataset.at)));
      li.classList.remove('cont');
      day = d;
    }
    out.push(li);
  }
  const i = firstDated(below);
  if (i < 0 || !day) return out;
  const first = below[i];
  if (isSeparator(first) && dayOf(first) === day) {
    below.splice(i, 1);
    first.remove();
  } else if (!isSeparator(first) && dayOf(first) !== day) {
    headDay(below, i);
  }
  return out;
}
