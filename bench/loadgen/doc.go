// Package loadgen runs thousands of simulated chatd clients from one process on nbio's
// event loop: pollers read every connection and a bounded pool runs the frame handlers,
// so there is no goroutine per client. A client speaks the seed's protocol: it logs in
// with the handshake's query, answers every {"action":"Ping"} with {"action":"Pong"},
// parses every frame as JSON and hands chat messages to the caller's hook.
//
// A Pool owns the nbio engine and its clients. Dial opens one client; the handshake
// is sent from the calling goroutine (a TCP connect on loopback returns at once), and
// the rest arrives on nbio's goroutines. Each Client's state is guarded by its own
// mutex, which also gives the race detector the happens-before edge that nbio's
// hand-over through epoll does not show it.
package loadgen
