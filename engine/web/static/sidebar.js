// The side panel (rooms and users), a drawer on small screens.
import { ui } from './state.js';

// ---- sidebar on small screens ----

export function openSidebar() {
  ui.sidebar.classList.add('open');
  ui.backdrop.hidden = false;
  ui.usersToggle.setAttribute('aria-expanded', 'true');
}

export function closeSidebar() {
  ui.sidebar.classList.remove('open');
  ui.backdrop.hidden = true;
  ui.usersToggle.setAttribute('aria-expanded', 'false');
}
