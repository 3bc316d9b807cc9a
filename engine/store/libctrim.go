//go:build !libc.membrk && !libc.memgrind && linux && (amd64 || arm64 || loong64 || ppc64le || s390x || riscv64 || 386 || arm)

package store

import (
	"fmt"
	"runtime/debug"
	"sync"
	_ "unsafe" // go:linkname

	"modernc.org/memory"
)

// A workaround for modernc.org/libc v1.79.0 (with modernc.org/memory v1.12.1): SQLite's
// allocator keeps the regions it empties, up to 4 MiB per size class committed, for
// reuse, and libc offers no call to hand them back (memory.Allocator.Trim exists, on
// an allocator libc keeps unexported). After a release had emptied the page caches,
// 15,000 idle logins still held 1.9 MB of them: 125 bytes per connection, the whole
// difference between chatd with a history and without one (1.47 against 1.33 KiB).
//
// The names below are libc's (libc_musl.go: the allocator and the mutex its malloc
// takes), so this file has libc's build constraint. A go:linkname to a variable
// trusts its layout, so trimLibc runs only with the versions it was written for
// (libcTrimVersions); TestLibcTrimIsForTheseVersions fails on an upgrade in go.mod
// until it is checked again.

//go:linkname libcAllocator modernc.org/libc.allocator
var libcAllocator memory.Allocator

//go:linkname libcAllocatorMu modernc.org/libc.allocatorMu
var libcAllocatorMu sync.Mutex

// libcTrimVersions are the module versions whose allocator layout trimLibc knows.
var libcTrimVersions = map[string]string{
	"modernc.org/libc":   "v1.79.0",
	"modernc.org/memory": "v1.12.1",
}

// libcTrimmable reports whether the binary's build info names another version of
// libc or memory than libcTrimVersions (a test binary lists no modules: there the
// test against go.mod is the check).
var libcTrimmable = sync.OnceValue(func() error {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Errorf("store: no build info to check the libc version")
	}
	for _, m := range info.Deps {
		if want, ok := libcTrimVersions[m.Path]; ok && (m.Replace != nil || m.Version != want) {
			return fmt.Errorf("store: %s is %s, the allocator trim is for %s", m.Path, m.Version, want)
		}
	}
	return nil
})

// trimLibc hands SQLite's retained empty regions back to the OS, under the lock
// libc's malloc and free take. With other versions it does nothing.
func trimLibc() error {
	if libcTrimmable() != nil {
		return nil
	}
	libcAllocatorMu.Lock()
	defer libcAllocatorMu.Unlock()
	if err := libcAllocator.Trim(); err != nil {
		return fmt.Errorf("store: trim SQLite's allocator: %w", err)
	}
	return nil
}
