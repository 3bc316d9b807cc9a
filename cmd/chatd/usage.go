package main

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/urfave/cli/v2"
)

// The messages urfave/cli v2 gives for a value that does not parse, from a flag and
// from its environment variable.
var (
	badFlagValue = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([\w-]+): `)
	badEnvValue  = regexp.MustCompile(`^could not parse "(.*)" as \w+ value from environment variable "(\w+)" for flag ([\w-]+): `)
)

// oneLineUsageErrors makes every command answer a flag it cannot parse with one line
// naming the flag ("--ping-interval: 5 is not a duration; did you mean 5s?") instead
// of the whole help text, in which the one line that matters gets lost.
func oneLineUsageErrors(cmds []*cli.Command) {
	for _, cmd := range cmds {
		cmd.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
			return usageError(cmd, err)
		}
	}
}

func usageError(cmd *cli.Command, err error) error {
	msg := err.Error()
	if m := badFlagValue.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("--%s: %s", m[2], badValue(cmd, m[2], m[1]))
	}
	if m := badEnvValue.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s (--%s): %s", m[2], m[3], badValue(cmd, m[3], m[1]))
	}
	return fmt.Errorf("%s (chatd %s --help lists the flags)", msg, cmd.Name)
}

// badValue says what is wrong with value for flag, and for a duration without a
// unit what was probably meant.
func badValue(cmd *cli.Command, flag, value string) string {
	if !isDurationFlag(cmd, flag) {
		return fmt.Sprintf("%q is not a valid value (chatd %s --help says what is)", value, cmd.Name)
	}
	if _, err := strconv.ParseFloat(value, 64); err == nil {
		return fmt.Sprintf("%s is not a duration; did you mean %ss?", value, value)
	}
	return fmt.Sprintf("%q is not a duration (like 30s, 1m30s or 250ms)", value)
}

func isDurationFlag(cmd *cli.Command, name string) bool {
	for _, f := range cmd.Flags {
		if _, ok := f.(*cli.DurationFlag); ok && f.Names()[0] == name {
			return true
		}
	}
	return false
}
