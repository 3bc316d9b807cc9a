// Accounts: register or log in through /api, keep the token so a reload stays logged
// in, log out. Without an account the page logs in anonymously, as before.
import { unlockAudio } from './alerts.js';
import { leave, readLogin, start } from './login.js';
import { STORE_ACCOUNT, STORE_LOGIN, load, save, state, ui } from './state.js';

// The words for the server's JSON error codes; a code not listed shows its message.
const ACCOUNT_ERRORS = {
  bad_name: 'That name cannot be used: letters, digits, spaces, - and _.',
  weak_password: 'The password needs at least 8 characters.',
  name_taken: 'That name is already registered. Log in instead?',
  bad_credentials: 'Wrong name or password.',
  rate_limited: 'Too many attempts from here. Wait a minute and try again.',
};

export function setupAccount() {
  ui.loginAccount.addEventListener('click', () => submit('login'));
  ui.registerAccount.addEventListener('click', () => submit('register'));
  ui.accountLogout.addEventListener('click', logOut);
  // Enter in the password field logs in; the anonymous start (login.js) is for an
  // empty password only. A capturing listener runs before login.js's own.
  ui.loginForm.addEventListener('submit', (e) => {
    if (ui.password.value) {
      e.preventDefault();
      e.stopImmediatePropagation();
      submit('login');
      return;
    }
    if (!load(STORE_ACCOUNT)) return; // login.js starts the anonymous chat
    // An account is still saved (the chat was left without "Log out"): its HttpOnly
    // cookie would log the WebSocket in as it, so it is logged out first.
    e.preventDefault();
    e.stopImmediatePropagation();
    unlockAudio(); // while this is still the user's gesture
    const token = load(STORE_ACCOUNT)?.token;
    forget();
    fetch('/api/logout', { method: 'POST', headers: token ? { Authorization: `Bearer ${token}` } : {} })
      .catch(() => {})
      .finally(() => {
        const login = readLogin();
        save(STORE_LOGIN, login);
        start(login);
      });
  }, true);
  const saved = load(STORE_ACCOUNT);
  if (saved && typeof saved.token === 'string' && typeof saved.name === 'string') {
    enter(saved); // the session survives a reload
  }
}

async function submit(kind) {
  const name = ui.name.value.trim();
  const password = ui.password.value;
  if (!name || !password) {
    showError(!name ? 'Type your name first.' : 'Type your password.');
    return;
  }
  showError('');
  ui.loginAccount.disabled = ui.registerAccount.disabled = true;
  try {
    const res = await fetch(`/api/${kind}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      showError(ACCOUNT_ERRORS[body.error] || body.message || `The server said ${res.status}.`);
      return;
    }
    ui.password.value = '';
    const account = { token: body.token, name: body.name, userId: body.userId };
    save(STORE_ACCOUNT, account);
    enter(account);
  } catch {
    showError('The server could not be reached.');
  } finally {
    ui.loginAccount.disabled = ui.registerAccount.disabled = false;
  }
}

function enter(account) {
  state.account = account;
  ui.accountLogout.hidden = false;
  start({ ...readLogin(), name: account.name });
}

// forget drops the account on this page (and in the other tabs' storage).
function forget() {
  state.account = null;
  save(STORE_ACCOUNT, null);
  ui.accountLogout.hidden = true;
}

async function logOut() {
  const token = state.account?.token;
  forget();
  leave();
  if (!token) return;
  try {
    await fetch('/api/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
  } catch {
    // The token stays valid until it expires; this page has forgotten it anyway.
  }
}

// tokenRefused: the server closed with 4004 (bad_token): the saved session is over.
export function tokenRefused() {
  forget();
  leave();
  showError('Your session has ended. Log in again.');
}

// dropCookie: an anonymous page was refused (4004) because the browser still sends an
// old account's cookie; logging out clears it, and the next reconnect is anonymous.
export function dropCookie() {
  fetch('/api/logout', { method: 'POST' }).catch(() => {});
}

function showError(text) {
  ui.loginError.textContent = text;
  ui.loginError.hidden = !text;
}
