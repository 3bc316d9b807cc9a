//go:build libc.membrk || libc.memgrind || !(linux && (amd64 || arm64 || loong64 || ppc64le || s390x || riscv64 || 386 || arm))

package store

import "errors"

// libcTrimmable: libc has another allocator on this platform or build (libctrim.go).
func libcTrimmable() error { return errors.New("store: no allocator trim on this platform") }

func trimLibc() error { return nil }
