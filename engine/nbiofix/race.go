package nbiofix

import "sync/atomic"

// handoff links nbio's listener goroutine to its pollers for the race detector: nbio
// v1.6.12 hands a new connection to a poller through epoll, which the detector cannot
// see, so it reports the accepted conn's fields as racing. A store when the listener
// has built the conn and a load before its first read are the happens-before edge the
// kernel already provides.
var handoff atomic.Uint64

// Accepted marks a conn as built by the listener (nbio's OnOpen).
func Accepted() { handoff.Add(1) }

// BeforeRead pairs with Accepted; call it first in nbio's OnData.
func BeforeRead() { handoff.Load() }
