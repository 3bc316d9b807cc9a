package accounts

import (
	"sync"
	"time"
)

// Password guessing: after failLimit failed logins or registrations from one IP
// within failWindow, that IP gets 429 until the window (which starts at its first
// failure) is over. Other IPs are not affected. The table holds at most maxFailIPs
// addresses; when it is full of live windows, a new address is refused too, so a
// flood from many addresses costs bounded memory.
const (
	failLimit  = 10
	failWindow = time.Minute
	maxFailIPs = 1 << 16
)

type failWindowState struct {
	start time.Time
	n     int
}

type failures struct {
	now func() time.Time
	mu  sync.Mutex
	ips map[string]*failWindowState
}

func newFailures(now func() time.Time) *failures {
	return &failures{now: now, ips: map[string]*failWindowState{}}
}

// blocked reports whether ip has used up its failures for the current window.
func (f *failures) blocked(ip string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.ips[ip]
	if w == nil {
		return len(f.ips) >= maxFailIPs && !f.sweep()
	}
	if f.now().Sub(w.start) >= failWindow {
		delete(f.ips, ip)
		return false
	}
	return w.n >= failLimit
}

// fail counts a failed attempt of ip.
func (f *failures) fail(ip string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	w := f.ips[ip]
	if w == nil || now.Sub(w.start) >= failWindow {
		if w == nil && len(f.ips) >= maxFailIPs && !f.sweep() {
			return // blocked anyway
		}
		w = &failWindowState{start: now}
		f.ips[ip] = w
	}
	w.n++
}

// sweep drops the windows that are over and reports whether any was; the caller
// holds mu. It runs only when the table is full, so its cost is amortized.
func (f *failures) sweep() bool {
	now, freed := f.now(), false
	for ip, w := range f.ips {
		if now.Sub(w.start) >= failWindow {
			delete(f.ips, ip)
			freed = true
		}
	}
	return freed
}
