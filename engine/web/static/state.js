// Constants, the page's elements and the client's state, shared by every module.

// The Qt client's palette, so browser users and Qt users look alike.
export const PALETTE = [
  ['#34495e', 'Wet asphalt'], ['#16a085', 'Green sea'], ['#27ae60', 'Nephritis'],
  ['#2980b9', 'Belize blue'], ['#8e44ad', 'Wisteria'], ['#f39c12', 'Orange'],
  ['#d35400', 'Pumpkin'], ['#c0392b', 'Pomegranate'], ['#7f8c8d', 'Asbestos'],
  ['#2c3e50', 'Midnight blue'],
];
export const GENDERS = { 1: { mark: '♂', word: 'male' }, 2: { mark: '♀', word: 'female' } };
export const STORE_LOGIN = 'chatd.login';
export const STORE_MUTE = 'chatd.mute';
export const STORE_ACCOUNT = 'chatd.account';
export const MAX_LOG = 500; // entries kept in the page; older ones are dropped to bound memory
export const GROUP_MS = 5 * 60 * 1000; // consecutive lines of one sender within this share a header
export const CLICK_DELAY = 250; // lets a double-click cancel the single click's {name} insert
// The server's text for a private message to a user who is not online (protocol.NotDeliveredText).
export const NOT_DELIVERED = 'Не удалось отправить сообщение выбранному пользователю';
export const LOBBY = 'lobby'; // protocol.DefaultRoomID: where a line without roomId belongs
export const ROOM_ID = /^[A-Za-z0-9_.-]{1,64}$/; // protocol.ValidRoomID
export const RETRY_MS = 4000; // a message without Sent by then is sent again (same clientMsgId)
export const HISTORY_PAGE = 50;

export const ERROR_WORDS = {
  bad_json: 'The server could not read what this page sent.',
  not_object: 'The server could not read what this page sent.',
  bad_field: 'The server rejected a malformed request from this page.',
  unknown_action: 'The server did not understand a request from this page.',
  empty_text: 'Empty messages are not sent.',
  text_too_long: 'Your message is too long; please shorten it.',
  recipient_offline: 'That user is not online, so your private message was not delivered.',
  binary_frame: 'The server only accepts text messages.',
  rate_limited: 'You are sending messages too fast. Please wait a moment.',
  bad_room_id: 'Room names are 1 to 64 letters, digits, -, _ or dots.',
  too_many_rooms: 'You are in as many rooms as the server allows; leave one first.',
  room_full: 'That room is full.',
  not_in_room: 'You are not in that room.',
  default_room: 'The main room cannot be left.',
  bad_client_msg_id: 'The server rejected a message id from this page.',
  history_unavailable: 'The server could not read the message history.',
  bad_status: 'The server did not accept that status.',
  bad_token: 'Your session has ended. Log in again.',
  bad_emoji: 'That is not an emoji the server accepts as a reaction.',
  no_such_message: 'That message does not exist (any more).',
  too_many_reactions: 'That message has as many different reactions as allowed.',
  bad_query: 'Type a word to search for.',
  busy: 'The server is busy; try again in a moment.',
};

export const CLOSE_WORDS = {
  1001: 'Disconnected: the server is restarting.',
  1008: 'The server closed the connection: too many messages.',
  1009: 'The server closed the connection: a message was too big.',
  4000: 'Disconnected: the server stopped hearing from this page.',
  4001: 'Disconnected: the connection was too slow to keep up.',
  4002: 'This chat was opened again in another tab or window.',
  4004: 'Your session has ended. Log in again.',
};

const $ = (id) => document.getElementById(id);

export const ui = {
  loginView: $('login-view'), loginForm: $('login-form'), name: $('login-name'),
  password: $('login-password'), loginError: $('login-error'), loginAccount: $('login-account'),
  registerAccount: $('register-account'), accountLogout: $('account-logout'),
  swatches: $('swatch-row'), gender: $('login-gender'),
  previewAvatar: $('preview-avatar'), previewName: $('preview-name'),
  chatView: $('chat-view'), status: $('status'), statusText: $('status-text'), me: $('me'),
  banner: $('banner'), bannerText: $('banner-text'), reconnectNow: $('reconnect-now'),
  log: $('log'), toast: $('toast'), composer: $('composer'), message: $('message'), send: $('send'),
  attach: $('attach'), fileInput: $('file-input'), uploads: $('uploads'),
  privateBar: $('private-bar'), privateName: $('private-name'), privateOffline: $('private-offline'), privateLeave: $('private-leave'),
  rooms: $('rooms'), roomsOther: $('rooms-other'), roomsOtherHead: $('rooms-other-head'),
  older: $('older'), roomForm: $('room-form'), roomInput: $('room-input'), roomTitle: $('room-title'),
  users: $('users'), usersEmpty: $('users-empty'), usersCount: $('users-count'), usersToggle: $('users-toggle'),
  usersToggleCount: $('users-toggle-count'), sidebar: $('sidebar'), sidebarClose: $('sidebar-close'),
  statusForm: $('status-form'), myStatus: $('my-status'), myStatusText: $('my-status-text'), buzzNotice: $('buzz-notice'), typing: $('typing'),
  backdrop: $('backdrop'), mute: $('mute'), muteIcon: $('mute-icon'), logout: $('logout'),
};

export const state = {
  login: null, // {name, color, gender} as chosen on the form
  me: null, // this connection's user, from Authorized
  users: new Map(), // userId -> user, in join order
  ws: null,
  wanted: false, // the user wants to be online: reconnect after a drop
  everOnline: false,
  attempt: 0,
  retryAt: 0,
  retryTimer: 0,
  countdown: 0,
  lastPing: 0,
  pingGap: 0,
  watchdog: 0,
  privateTo: null, // {userId, userName, online} while in private mode
  undeliveredAt: 0,
  stick: true, // the log is scrolled to its end
  logSize: '', // the log's size when stick was last decided
  muted: false,
  unread: 0,
  blink: 0,
  clickTimer: 0,
  toastTimer: 0,
  // Rooms: roomId -> {id, count, unread, items (the log's <li>s), members, more, loading}.
  rooms: new Map(),
  current: LOBBY,
  directory: [], // the last Rooms answer: [{roomId, count}]
  streams: new Map(), // roomId or inbox -> Stream: what arrived, what to Ack and resume from
  shown: new Map(), // 'room seq' -> <li>: a message is shown once, whatever path it came by
  pending: new Map(), // clientMsgId -> {frame, li, sentAt}: sent, no Sent yet
  confirmed: new Map(), // clientMsgId -> <li>: Sent came, the echo may still come
  token: '', // resume token from Authorized
  moderator: false, // Authorized said so (--moderators)
  account: null, // {token, name, userId} when logged in with an account (account.js)
  resumeSent: false,
  resumeFailedAt: 0,
  ackTimer: 0,
  retryPending: 0,
  roomsPoll: 0,
  joining: '', // the room this page asked to join: switch to it when it is joined
  // The server speaks chatd's additions (rooms, Sent, Ack, History): its Authorized
  // has a resume token. Against an older server the page talks exactly like Qt.
  modern: false,
  roomsSig: '',
  statuses: new Map(), // userId -> {status, text}: what the server said (statuses.js)
  myStatus: { status: 'online', text: '' }, // this page's choice, sent again on reconnect
  buzzTimer: 0,
};

export const baseTitle = document.title;

// ---- storage: private browsing may forbid it, and the page must work anyway ----

export function load(key) {
  try { return JSON.parse(localStorage.getItem(key) ?? 'null'); } catch { return null; }
}

export function save(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* not remembered, still works */ }
}
