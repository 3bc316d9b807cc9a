package scenario

// serverProbe samples the server under test from /proc (with --server-pid) and its
// /status (with --status-url), whichever it has.
type serverProbe struct {
	pid       int
	others    []int // summed with pid's: a cluster's other processes
	statusURL string
}

// serverSample is one reading; have* say which parts were read.
type serverSample struct {
	proc       ProcSample
	status     StatusSample
	haveProc   bool
	haveStatus bool
}

func (p serverProbe) sample() (serverSample, error) {
	var s serverSample
	if p.pid > 0 {
		for _, pid := range append([]int{p.pid}, p.others...) {
			proc, err := ReadProc(pid)
			if err != nil {
				return s, err
			}
			s.proc.CPUSeconds += proc.CPUSeconds
			s.proc.RSSBytes += proc.RSSBytes
			s.proc.FDs += proc.FDs
		}
		s.haveProc = true
	}
	if p.statusURL != "" {
		st, err := ReadStatus(p.statusURL)
		if err != nil {
			return s, err
		}
		s.status, s.haveStatus = st, true
	}
	return s, nil
}

func (s serverSample) toSample() Sample {
	return Sample{FDs: s.proc.FDs, Goroutines: s.status.Goroutines, RSSBytes: s.proc.RSSBytes}
}

// figures fills ServerFigures from a baseline (before the clients), the start and end
// of the measured window, for clients connections and deliveries in the window.
func (p serverProbe) figures(baseline, start, end serverSample, clients int, deliveries uint64) *ServerFigures {
	if !end.haveProc && !end.haveStatus {
		return nil
	}
	f := &ServerFigures{PID: p.pid, Goroutines: end.status.Goroutines, FDs: end.proc.FDs}
	if end.haveProc {
		f.CPUSeconds = end.proc.CPUSeconds - start.proc.CPUSeconds
		f.RSSBytes = end.proc.RSSBytes
		f.BaselineRSSBytes = baseline.proc.RSSBytes
		f.MemPerConnBytes = MemPerConn(f.RSSBytes, f.BaselineRSSBytes, clients)
		if f.CPUSeconds > 0 && deliveries > 0 {
			f.DeliveriesPerCPUSecond = float64(deliveries) / f.CPUSeconds
		}
	}
	if end.haveStatus {
		f.Dropped = end.status.Closes[slowCloseKey] - baseline.status.Closes[slowCloseKey]
	}
	return f
}
