// Command chatd is the chat server: chatd start [-d], stop, restart, status, echo,
// version, as Workerman's commands are.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "chatd:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	app := &cli.App{
		Name:    "chatd",
		Usage:   "a WebSocket chat server (compatible with the SimpleChat Qt client)",
		Version: version,
		Commands: []*cli.Command{
			startCommand(),
			stopCommand(),
			restartCommand(),
			statusCommand(),
			echoCommand(),
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(c *cli.Context) error {
					fmt.Fprintln(c.App.Writer, "chatd", version)
					return nil
				},
			},
		},
	}
	oneLineUsageErrors(app.Commands)
	return app
}
