// Package chat is the seed's ChatWorker.php written against engine.Worker: users,
// nicknames, presence, public and private messages, the Ping/Pong heartbeat and
// ConnectionLost, plus what chatd adds (Error answers, rate limits).
//
// # Owner
//
// A Chat is owned by its Worker's owner goroutine: every method runs there, one at a
// time, so the state below has no locks. Nothing here blocks.
package chat
