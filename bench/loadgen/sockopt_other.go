//go:build !linux

package loadgen

import "syscall"

func bindAddressNoPort(_, _ string, _ syscall.RawConn) error { return nil }
