package engine

import "time"

// TimerID names a timer for DelTimer.
type TimerID uint64

type timer struct {
	t        *time.Timer
	interval time.Duration
	repeat   bool
	fn       func()
}

// AddTimer runs fn on the owner every interval until DelTimer, like Workerman's
// Timer::add. Owner-only.
func (w *Worker) AddTimer(interval time.Duration, fn func()) TimerID {
	return w.addTimer(interval, true, fn)
}

// AddTimerOnce runs fn on the owner once, after d. Owner-only.
func (w *Worker) AddTimerOnce(d time.Duration, fn func()) TimerID {
	return w.addTimer(d, false, fn)
}

func (w *Worker) addTimer(d time.Duration, repeat bool, fn func()) TimerID {
	l := w.loop
	l.nextTimer++
	id := l.nextTimer
	t := &timer{interval: d, repeat: repeat, fn: fn}
	fire := event{kind: evFunc, fn: func() { w.fireTimer(id) }} // made once, posted at every firing
	t.t = time.AfterFunc(d, func() { l.post(fire) })
	l.timers[id] = t
	return id
}

// DelTimer stops a timer; a firing already queued is dropped. Owner-only.
func (w *Worker) DelTimer(id TimerID) {
	if t, ok := w.loop.timers[id]; ok {
		t.t.Stop()
		delete(w.loop.timers, id)
	}
}

// fireTimer runs on the owner when a timer's time has come.
func (w *Worker) fireTimer(id TimerID) {
	t, ok := w.loop.timers[id]
	if !ok {
		return // deleted after it fired
	}
	if t.repeat {
		t.t.Reset(t.interval)
	} else {
		delete(w.loop.timers, id)
	}
	w.safely(nil, t.fn)
}
