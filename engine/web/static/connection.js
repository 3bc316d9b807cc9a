// The WebSocket and nothing else: connecting with resume, sending, the heartbeat's
// watchdog, reconnecting with backoff. It knows no views: what a frame means is
// dispatch.js's business, told through the callbacks it hands to listen().
import { state } from './state.js';
import { sinceParam } from './sync.js';

// ---- connection ----

// on is the one listener: connecting (a socket is being opened), message (each decoded
// frame but Ping), close (the socket is gone, with its close code if it had one) and
// retry (a reconnect is scheduled at state.retryAt).
let on = { connecting() {}, message() {}, close() {}, retry() {} };

export function listen(handlers) {
  on = handlers;
}

export function connect() {
  clearTimeout(state.retryTimer);
  const q = new URLSearchParams({
    userName: state.login.name,
    userColor: state.login.color,
    gender: String(state.login.gender),
    ack: '1',
  });
  if (state.account?.token) q.set('token', state.account.token); // the account's identity, not the name above
  // Resume: the same identity back, and every message missed since what this page has.
  state.resumeSent = !!state.token;
  if (state.token) q.set('resume', state.token);
  // An account comes back with its token (no resume token): since= as well, once this
  // page has streams to resume (a first login asks for nothing it does not have).
  const resuming = state.token || (state.account?.token && state.streams.size > 0);
  const since = resuming ? sinceParam(state.streams, [...state.rooms.keys()]) : '';
  if (since) q.set('since', since);
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  on.connecting();
  let ws;
  try {
    ws = new WebSocket(`${scheme}//${location.host}/?${q}`);
  } catch {
    dropped();
    return;
  }
  state.ws = ws;
  // A replaced socket may still fire events; only the current one counts.
  ws.onmessage = (ev) => { if (ws === state.ws) receive(ev.data); };
  ws.onclose = (ev) => { if (ws === state.ws) dropped(ev.code); };
}

// close ends the socket on purpose (the user left): nothing reconnects it.
export function close() {
  clearTimeout(state.retryTimer);
  const ws = state.ws;
  state.ws = null;
  if (ws) ws.close(1000, 'bye');
  clearTimeout(state.watchdog);
}

function dropped(code) {
  state.ws = null;
  clearTimeout(state.watchdog);
  state.lastPing = 0;
  on.close(code);
  if (!state.wanted) return;
  // Exponential backoff with jitter, so a restarted server is not stormed by every page.
  const base = Math.min(15000, 500 * 2 ** state.attempt);
  const delay = Math.round(base * (0.75 + Math.random() * 0.5));
  state.attempt++;
  state.retryAt = Date.now() + delay;
  state.retryTimer = setTimeout(connect, delay);
  on.retry();
}

// The heartbeat proves the server is there; if Pings stop (a dead network path closes
// nothing), give up on the socket once several are overdue and reconnect.
function armWatchdog() {
  clearTimeout(state.watchdog);
  if (!state.pingGap) return;
  const ws = state.ws;
  state.watchdog = setTimeout(() => {
    if (ws !== state.ws) return;
    state.ws = null;
    ws.close();
    dropped(4000);
  }, Math.max(10000, state.pingGap * 4));
}

export function sendJSON(obj) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
  state.ws.send(JSON.stringify(obj));
  return true;
}

function receive(data) {
  let m;
  try { m = JSON.parse(data); } catch { return; }
  if (!m || typeof m !== 'object') return;
  if (m.action === 'Ping') {
    sendJSON({ action: 'Pong' });
    const now = Date.now();
    if (state.lastPing) state.pingGap = now - state.lastPing;
    state.lastPing = now;
  } else {
    on.message(m);
  }
  armWatchdog();
}
