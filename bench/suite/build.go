package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// binaries are the built programs the suite starts.
type binaries struct {
	chatd, chatbench, gorilla string
	natsd                     string // bench/natsd: the cluster target's nats-server
	nodeDir                   string // bench/peers/node, with node_modules installed
}

// repoRoot finds the module root (the directory holding go.mod) from the
// working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory: run the suite from the chatd checkout")
		}
		dir = parent
	}
}

// build compiles the Go programs into dir and installs the Node peer's
// dependency when node is a target.
func build(ctx context.Context, root, dir string, needNode bool) (binaries, error) {
	b := binaries{
		chatd:     filepath.Join(dir, "chatd"),
		chatbench: filepath.Join(dir, "chatbench"),
		gorilla:   filepath.Join(dir, "gorilla-peer"),
		natsd:     filepath.Join(dir, "natsd"),
		nodeDir:   filepath.Join(root, "bench", "peers", "node"),
	}
	for pkg, out := range map[string]string{"./cmd/chatd": b.chatd, "./cmd/chatbench": b.chatbench, "./bench/peers/gorilla": b.gorilla, "./bench/natsd": b.natsd} {
		if err := command(ctx, root, "go", "build", "-o", out, pkg); err != nil {
			return b, fmt.Errorf("build %s: %w", pkg, err)
		}
	}
	if needNode {
		if err := command(ctx, b.nodeDir, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"); err != nil {
			return b, fmt.Errorf("npm ci in %s (node v20 and npm must be installed): %w", b.nodeDir, err)
		}
	}
	return b, nil
}

func command(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

// raiseFileLimit sets the soft open-file limit to the hard one. Go raises its
// own limit at start but gives children the original; setting it explicitly
// lets the servers and chatbench (Node included) inherit the raised one.
func raiseFileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("setrlimit: %w", err)
	}
	return rl.Cur, nil
}
