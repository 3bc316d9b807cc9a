package engine

import (
	"bufio"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// enforceTotalBudget keeps what all connections hold unsent (handed to nbio, or
// pending in the owner's batch) within --max-total-write-buffer, with extra bytes
// about to be queued: past it, the biggest holders are cut (4001) until the rest fits
// in nine tenths of it. Under budget it costs an atomic load and an addition; a scan
// of the connections happens only once the budget is exceeded, and each one cuts.
func (w *Worker) enforceTotalBudget(extra int) {
	limit := int64(w.cfg.MaxTotalWriteBuffer)
	total := w.WriteBuffered() + int64(w.loop.pendingBytes+extra)
	if total <= limit || w.loop.scannedInBatch {
		return
	}
	holding := (*Conn).holding
	var holders []*Conn
	for _, c := range w.loop.conns {
		if c.tracked && !c.Closing() && holding(c) > 0 {
			holders = append(holders, c)
		}
	}
	slices.SortFunc(holders, func(a, b *Conn) int { return int(holding(b) - holding(a)) })
	// Nobody to cut (the bytes are in connections the budget cannot see, over TLS):
	// no second scan before the batch is written.
	w.loop.scannedInBatch = len(holders) == 0
	for _, c := range holders {
		if total <= limit*9/10 {
			break
		}
		total -= holding(c)
		w.stats.hit(limitTotalWriteBuffer)
		c.cut()
		w.log.Info("slow consumer cut: total write budget", "conn", c.id, "remote", c.RemoteAddr())
	}
}

// defaultTotalWriteBuffer is a quarter of the memory the process may use: its
// cgroup's limit (memory.max), else GOMEMLIMIT, else the machine's memory; 1 GiB if
// none can be read.
func defaultTotalWriteBuffer() int {
	limit := int64(math.MaxInt64)
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			limit = n
		}
	}
	limit = min(limit, debug.SetMemoryLimit(-1))
	if limit == math.MaxInt64 {
		limit = memTotal()
	}
	if limit <= 0 || limit == math.MaxInt64 {
		return 1 << 30
	}
	return int(min(limit/4, math.MaxInt32))
}

// memTotal is /proc/meminfo's MemTotal in bytes, or 0.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
