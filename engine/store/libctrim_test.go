//go:build !libc.membrk && !libc.memgrind && linux && (amd64 || arm64 || loong64 || ppc64le || s390x || riscv64 || 386 || arm)

package store

import (
	"os"
	"strings"
	"testing"
)

// TestLibcTrimIsForTheseVersions: trimLibc reaches into libc's allocator by name and
// trusts its layout, so go.mod must pin the versions it was written for. An upgrade
// fails here until libctrim.go is checked against the new libc and memory.
func TestLibcTrimIsForTheseVersions(t *testing.T) {
	if err := libcTrimmable(); err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for path, version := range libcTrimVersions {
		if !strings.Contains(string(mod), "\t"+path+" "+version+"\n") && !strings.Contains(string(mod), "\t"+path+" "+version+" ") {
			t.Errorf("go.mod does not require %s %s, the version libctrim.go was written for", path, version)
		}
	}
}
