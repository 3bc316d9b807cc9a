package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

// runInfo is what a running server keeps beside its pid file (chatd.pid: chatd.args):
// how it was started, so restart starts it the same way, and where it listens, so
// status finds it through the pid file. It is kept after the server stops, so a
// restart after a stop or a crash starts the last run again.
type runInfo struct {
	Command string   `json:"command"` // start or echo
	Dir     string   `json:"dir"`     // the working directory: relative paths in Args are relative to it
	Args    []string `json:"args"`    // every flag that was set, as --name=value (-d excluded)
	Listen  string   `json:"listen"`  // the address bound (the real port if --listen asked for 0)
	TLS     bool     `json:"tls"`
}

// argsPath is the run file beside pidFile: chatd.pid → chatd.args.
func argsPath(pidFile string) string {
	return strings.TrimSuffix(pidFile, ".pid") + ".args"
}

// setFlagArgs lists every flag of c's command that was set (on the command line or
// through its CHATD_* variable) as --name=value, leaving out -d.
func setFlagArgs(c *cli.Context) []string {
	var args []string
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if name == "daemon" || !c.IsSet(name) {
			continue
		}
		for _, v := range flagValues(c, name) {
			args = append(args, "--"+name+"="+v)
		}
	}
	return args
}

func flagValues(c *cli.Context, name string) []string {
	if v := c.StringSlice(name); len(v) > 0 {
		return v
	}
	return []string{fmt.Sprint(c.Value(name))}
}

// writeRunInfo writes the run file atomically (0600: it may hold secrets).
func writeRunInfo(path string, info runInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readRunInfo reads the run file; a missing one is (nil, nil).
func readRunInfo(path string) (*runInfo, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var info runInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &info, nil
}

// mergeArgs is base with every flag that override sets replaced by override's
// values (all of a repeated flag's values, so --allowed-origins is replaced, not
// added to).
func mergeArgs(base, override []string) []string {
	given := map[string]bool{}
	for _, a := range override {
		given[argName(a)] = true
	}
	var out []string
	for _, a := range base {
		if !given[argName(a)] {
			out = append(out, a)
		}
	}
	return append(out, override...)
}

// argName is "listen" for "--listen=:1".
func argName(arg string) string {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return name
}

// inDir resolves a relative path against dir (the server's working directory).
func inDir(dir, path string) string {
	if path == "" || filepath.IsAbs(path) || dir == "" {
		return path
	}
	return filepath.Join(dir, path)
}
