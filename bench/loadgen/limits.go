package loadgen

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// FilesHeadroom is the open files a process needs besides its clients' sockets: the
// binary, epoll, pipes, the /status HTTP client, /proc reads.
const FilesHeadroom = 64

// RaiseFileLimit raises the soft open-file limit to the hard one and checks that
// clients connections fit (plus extra files already needed in this process, such as
// an in-process server's). It returns the soft limit in force.
func RaiseFileLimit(clients, extra int) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			lim = raised
		}
	}
	need := uint64(clients + extra + FilesHeadroom)
	if need > lim.Cur {
		return lim.Cur, fmt.Errorf("%d clients need about %d open files, but this process may open %d "+
			"(hard limit %d): lower --clients to at most %d, or raise the limit (ulimit -Hn as root)",
			clients, need, lim.Cur, lim.Max, int(lim.Cur)-extra-FilesHeadroom)
	}
	return lim.Cur, nil
}

// PortsPerSource is how many local ports the kernel hands out per source address
// (net.ipv4.ip_local_port_range), or 28,232 (Linux's default) if it cannot be read.
func PortsPerSource() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 28232
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 28232
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || hi < lo {
		return 28232
	}
	return hi - lo + 1
}

// CheckPorts says whether clients connections to one server address fit in the local
// ports of the source addresses (one address, the kernel's, when none are given).
func CheckPorts(clients int, sources []net.IP) error {
	n := max(len(sources), 1)
	if per := PortsPerSource(); clients > per*n {
		return fmt.Errorf("%d clients to one server address need more than the %d local ports of %d source address(es): "+
			"pass more 127.x.y.z addresses with --source-ips", clients, per*n, n)
	}
	return nil
}

// ParseSourceIPs reads --source-ips: IPv4 loopback addresses (127.0.0.0/8), so the bench
// never sends from or to another host.
func ParseSourceIPs(list []string) ([]net.IP, error) {
	var ips []net.IP
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			ip := net.ParseIP(s)
			if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("--source-ips: %q is not an IPv4 loopback address (127.x.y.z)", s)
			}
			ips = append(ips, ip.To4())
		}
	}
	return ips, nil
}
