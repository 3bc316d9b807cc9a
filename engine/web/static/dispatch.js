// The one module that knows both the socket and the views: it routes each server
// action to its view, and plugs the socket into link.js for the views' own sends.
import { dropCookie, tokenRefused } from './account.js';
import { close, connect, listen, sendJSON } from './connection.js';
import { history } from './history.js';
import { plug } from './link.js';
import { message, sent, serverError } from './log.js';
import { presence, renderRooms, roomJoined, roomLeft, roomsList } from './roomlist.js';
import { buzzed } from './buzz.js';
import { deleted, edited } from './edit.js';
import { authorized, connected, gone, offline } from './session.js';
import { state } from './state.js';
import { showConnecting, showRetry } from './status.js';
import { noteStatuses, sendMyStatus, showStatusPicker, statusChanged } from './statuses.js';
import { stoppedTyping, typing } from './typing.js';
import { reactions } from './reactions.js';
import { historyArrived, searchResults } from './search.js';
import { dialogHistory, dialogLine, dialogsList } from './dialogs.js';
import { readMarker } from './readmarks.js';

// ---- dispatch ----

// A Map, not an object: an action named "constructor" or "__proto__" finds nothing.
const ACTIONS = new Map([
  ['Authorized', (m) => {
    noteStatuses(m.users, true);
    authorized(m);
    showStatusPicker();
    sendMyStatus();
  }],
  ['Connected', connected],
  ['Disconnected', (m) => gone(m, 'left the chat', 'left')],
  ['ConnectionLost', (m) => gone(m, 'lost the connection', 'lost')],
  ['PublicMessage', (m) => {
    stoppedTyping(m);
    if (message(m, false)) renderRooms();
  }],
  ['PrivateMessage', (m) => { message(m, true); dialogLine(m); }],
  ['Error', serverError],
  ['Sent', sent],
  ['RoomJoined', (m) => { noteStatuses(m.users); roomJoined(m); }],
  ['RoomLeft', (m) => roomLeft(String(m.roomId ?? ''))],
  ['Rooms', roomsList],
  ['Presence', presence],
  ['History', (m) => { history(m); historyArrived(m); dialogHistory(m); }],
  ['Status', statusChanged],
  ['Buzz', buzzed],
  ['Typing', typing],
  ['Reactions', reactions],
  ['SearchResults', searchResults],
  ['Edited', edited],
  ['Deleted', deleted],
  ['Dialogs', dialogsList],
  ['ReadMarker', readMarker],
]);

export function plugSocket() {
  plug({ sendJSON, connect, close });
  listen({
    connecting: showConnecting,
    // Newer servers may add actions; this page ignores them, like the Qt client.
    message: (m) => ACTIONS.get(m.action)?.(m),
    close: (code) => {
      offline(code);
      if (code === 4004 && state.account) tokenRefused();
      else if (code === 4004) dropCookie();
    },
    retry: showRetry,
  });
}
