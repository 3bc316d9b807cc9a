// Desktop notifications for mentions of me and private messages, while the page is
// hidden or not focused. Permission is asked on the first such message, not at load: a
// prompt with no reason in sight is what people learn to refuse. The mute toggle is for
// sounds only; a person who does not want notifications says so in the browser's prompt
// (or its site settings), which this page then respects.
import { parseText } from './text.js';

const MAX_BODY = 200;
let asked = false;

// notifyMe shows title and the server text's plain words, if the page is out of view
// and the browser allows it; a newer one from the same room or sender (key) replaces
// the one before. Clicking the notification brings the page back.
export function notifyMe(title, serverText, key) {
  if (typeof Notification !== 'function') return;
  if (!document.hidden && document.hasFocus()) return;
  const body = parseText(String(serverText ?? '')).map((r) => r.text).join('').slice(0, MAX_BODY);
  if (Notification.permission === 'granted') {
    show(title, body, key);
  } else if (Notification.permission === 'default' && !asked) {
    asked = true;
    Promise.resolve(Notification.requestPermission())
      .then((p) => { if (p === 'granted') show(title, body, key); })
      .catch(() => { /* no notifications, the title still blinks */ });
  }
}

function show(title, body, key) {
  try {
    const n = new Notification(title, { body, icon: 'favicon.svg', tag: 'chatd ' + key, renotify: true });
    n.onclick = () => {
      window.focus();
      n.close();
    };
  } catch { /* some platforms allow notifications only from a service worker */ }
}
