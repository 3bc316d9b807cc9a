// The views' line to the server. They send and (re)connect through here, never through
// connection.js itself: dispatch.js plugs the socket in at start, so the socket stays a
// leaf and no view sits in a circle with it. Unplugged, nothing is sent.
const socket = { sendJSON: () => false, connect() {}, close() {} };

export function plug(s) {
  Object.assign(socket, s);
}

export function sendJSON(obj) {
  return socket.sendJSON(obj);
}

export function connect() {
  socket.connect();
}

export function disconnect() {
  socket.close();
}
