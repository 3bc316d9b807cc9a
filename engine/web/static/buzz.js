// Buzz: nudging a user, and being nudged (the page shakes, a sound plays, a notice
// says who).
import { alertMe } from './alerts.js';
import { sendJSON } from './link.js';
import { notice } from './log.js';
import { state, ui } from './state.js';
import { userOf } from './text.js';
import { findUser } from './users.js';

const NOTICE_MS = 6000;

export function buzz(id) {
  const u = findUser(id);
  if (!u || !state.modern) return;
  if (sendJSON({ action: 'Buzz', toUserId: u.userId })) notice('info', `You buzzed ${u.userName}.`);
}

// buzzed is the server's Buzz action: someone buzzed this page's user.
export function buzzed(m) {
  const u = userOf(m);
  ui.buzzNotice.textContent = `${u.userName} buzzed you!`;
  ui.buzzNotice.hidden = false;
  clearTimeout(state.buzzTimer);
  state.buzzTimer = setTimeout(() => { ui.buzzNotice.hidden = true; }, NOTICE_MS);
  // Restart the shake even if the last one is still running.
  ui.chatView.classList.remove('shake');
  void ui.chatView.offsetWidth;
  ui.chatView.classList.add('shake');
  alertMe(`${u.userName} buzzed you`);
}
