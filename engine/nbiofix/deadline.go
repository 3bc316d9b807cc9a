package nbiofix

import (
	"net"
	"time"
)

// ClearUpgradeWriteDeadline undoes the write deadline nbio v1.6.12's upgrader leaves
// on the socket (its HandshakeTimeout): it would close any connection whose output is
// still queued when it fires. Slow readers are bounded by the write-buffer cap instead.
func ClearUpgradeWriteDeadline(c net.Conn) { _ = c.SetWriteDeadline(time.Time{}) }

// ClearHandshakeReadDeadline undoes the handshake's read deadline (nbio's
// KeepaliveTime) once the connection is a WebSocket.
//
// nbio v1.6.12's listener arms that deadline after registering the socket, so on a
// busy server it can land after the upgrade cleared it and cut a live connection. The
// engine calls this when the owner opens the connection and again on each message
// until the server starts a close (a close in progress keeps its deadline): with no
// timer set it costs a lock.
func ClearHandshakeReadDeadline(c net.Conn) { _ = c.SetReadDeadline(time.Time{}) }
