// The page's event handlers.
import { beep, renderMute, stopBlink, unlockAudio } from './alerts.js';
import { buzz } from './buzz.js';
import { autosize, insertMention, sendMessage } from './composer.js';
import { loadOlder } from './history.js';
import { connect } from './link.js';
import { wireEdits } from './edit.js';
import { wireReplies } from './reply.js';
import { logSize, nearBottom, pinLog } from './log.js';
import { leave } from './login.js';
import { joinRoom, leaveRoom, switchRoom } from './roomlist.js';
import { closeSidebar, openSidebar } from './sidebar.js';
import { CLICK_DELAY, STORE_MUTE, save, state, ui } from './state.js';
import { wireStatusPicker } from './statuses.js';
import { typed } from './typing.js';
import { setupNewMessages } from './newmessages.js';
import { noteRead } from './readmarks.js';
import { wireReactions } from './reactions.js';
import { wireSearch } from './search.js';
import { findUser, openPrivate } from './users.js';
import { closeDialog, setupDialogs } from './dialogs.js';

// ---- wiring ----

export function onNameClick(e) {
  const bz = e.target.closest('[data-buzz]');
  if (bz) {
    buzz(bz.dataset.buzz);
    return;
  }
  const pm = e.target.closest('[data-pm]');
  if (pm) {
    openPrivate(pm.dataset.pm);
    return;
  }
  const b = e.target.closest('button.name');
  if (!b) return;
  const u = findUser(b.dataset.userId);
  const name = u ? u.userName : b.textContent;
  clearTimeout(state.clickTimer);
  if (e.detail >= 2) return; // the dblclick handler takes it from here
  if (e.detail === 0) { // keyboard: no double-click will follow
    insertMention(name);
    return;
  }
  state.clickTimer = setTimeout(() => insertMention(name), CLICK_DELAY);
}

export function onNameDblClick(e) {
  const b = e.target.closest('button.name');
  if (!b) return;
  clearTimeout(state.clickTimer);
  openPrivate(b.dataset.userId);
}

export function wire() {
  for (const area of [ui.log, ui.users]) {
    area.addEventListener('click', onNameClick);
    area.addEventListener('dblclick', onNameDblClick);
  }
  wireStatusPicker();
  wireReactions();
  wireSearch();
  wireEdits(); // before the composer's keydown: Esc and Up while editing go there first
  wireReplies();
  ui.composer.addEventListener('submit', (e) => { e.preventDefault(); sendMessage(); });
  ui.message.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    } else if (e.key === 'Escape' && state.privateTo) {
      closeDialog();
    }
  });
  // Some input paths deliver Enter's character separately from its keydown (synthetic
  // and some virtual keyboards); the line break must not land in the emptied box.
  ui.message.addEventListener('keypress', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) e.preventDefault();
  });
  ui.message.addEventListener('input', autosize);
  ui.message.addEventListener('input', typed);
  // A resize can move scrollTop and fire scroll before the ResizeObserver runs; only a
  // scroll with the log's size unchanged is the reader's own.
  ui.log.addEventListener('scroll', () => {
    if (logSize() !== state.logSize && state.stick) {
      pinLog();
      return;
    }
    state.logSize = logSize();
    state.stick = nearBottom();
    if (state.stick) noteRead(); // scrolled down to the newest: read
    if (!state.stick && ui.log.scrollTop < 60) loadOlder();
  });
  new ResizeObserver(() => { if (state.stick) pinLog(); }).observe(ui.log);
  ui.older.addEventListener('click', loadOlder);
  setupNewMessages();
  ui.roomForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (joinRoom(ui.roomInput.value)) ui.roomInput.value = '';
  });
  ui.sidebar.addEventListener('click', (e) => {
    const leaveBtn = e.target.closest('[data-leave]');
    if (leaveBtn) { leaveRoom(leaveBtn.dataset.leave); return; }
    const join = e.target.closest('[data-join]');
    if (join) { joinRoom(join.dataset.join); return; }
    const b = e.target.closest('[data-room]');
    if (b && b.tagName === 'BUTTON') switchRoom(b.dataset.room);
  });
  ui.privateLeave.addEventListener('click', () => { closeDialog(); ui.message.focus(); });
  setupDialogs();
  ui.reconnectNow.addEventListener('click', () => { if (state.wanted && !state.ws) connect(); });
  ui.logout.addEventListener('click', leave);
  ui.mute.addEventListener('click', () => {
    state.muted = !state.muted;
    save(STORE_MUTE, state.muted);
    renderMute();
    if (!state.muted) { unlockAudio(); beep(); }
  });
  ui.usersToggle.addEventListener('click', () => (ui.sidebar.classList.contains('open') ? closeSidebar() : openSidebar()));
  ui.sidebarClose.addEventListener('click', closeSidebar);
  ui.backdrop.addEventListener('click', closeSidebar);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) stopBlink(); });
  // Coming back online or to the tab is a good moment to skip the rest of a backoff.
  const retrySoon = () => { if (state.wanted && !state.ws) connect(); };
  window.addEventListener('online', retrySoon);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) retrySoon(); });
}
