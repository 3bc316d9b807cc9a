// The "New messages" button: shown when a line arrives while the reader is scrolled
// up, so it does not pull them down; a click goes to the newest line. It watches the
// log itself (new children, scrolling), so the log's code needs no call for it.
import { nearBottom, pinLog } from './log.js';
import { state, ui } from './state.js';

let button = null;

function hide() {
  button.hidden = true;
}

// fresh: n is a chat line just added at the log's end (not an older History page, not
// a day separator or a join notice, not a line re-rendered in place).
function fresh(n) {
  return n.nodeType === 1 && n.classList.contains('msg') && !n.classList.contains('old') && !n.nextElementSibling;
}

// arrived: the log changed; a fresh line while the reader is away from the end shows
// the button.
function arrived(records) {
  if (state.stick && nearBottom()) {
    hide();
    return;
  }
  if (state.stick) return;
  for (const rec of records) {
    for (const n of rec.addedNodes) {
      if (fresh(n)) {
        button.hidden = false;
        return;
      }
    }
  }
}

export function setupNewMessages() {
  button = document.getElementById('new-messages');
  button.addEventListener('click', () => {
    state.stick = true;
    pinLog();
    hide();
    ui.message.focus();
  });
  ui.log.addEventListener('scroll', () => { if (nearBottom()) hide(); });
  new MutationObserver(arrived).observe(ui.log, { childList: true });
}
