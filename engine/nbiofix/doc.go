// Package nbiofix holds every workaround chatd needs for github.com/lesismal/nbio
// v1.6.12, one file each, so that an nbio upgrade means reading one package: each
// file names the symptom it avoids, and each can be dropped once nbio fixes it.
//
//   - stop.go: an Engine.Stop that reaches a poller before its loop started is lost,
//     and the poller spins forever.
//   - deadline.go: the handshake's read and write deadlines outlive the upgrade.
//   - race.go: the hand-off of an accepted conn from the listener to its poller is
//     invisible to the race detector.
//   - log.go: nbio logs through a package-global logger of its own; it is routed to
//     slog instead.
//   - shutdown.go: a close from any goroutine but the poller can close the next
//     connection accepted on the same descriptor number.
//   - alloc.go: nbio's write caches come from a pool that keeps 1 GiB of freed buffers.
//
// The engine and chatbench's client pool both use it.
package nbiofix
