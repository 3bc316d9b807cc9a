package nbiofix

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/lesismal/nbio/logging"
)

// RouteLogs sends nbio's log lines to log: nbio's warnings and errors at slog's Warn
// and Error, its info and debug lines at Debug (nbio announces every listener and
// engine start at info, which is noise at chatd's default level).
//
// nbio v1.6.12 logs through one package-global logger, written without
// synchronization, so the adapter is installed once per process and only the slog
// logger behind it changes: the last caller's (every engine of a process shares it).
func RouteLogs(log *slog.Logger) {
	current.Store(log)
	install.Do(func() { logging.SetLogger(adapter{}) })
}

var (
	install sync.Once
	current atomic.Pointer[slog.Logger]
)

// adapter is nbio's logging.Logger on top of slog.
type adapter struct{}

func (adapter) Debug(format string, v ...any) { emit(slog.LevelDebug, format, v) }
func (adapter) Info(format string, v ...any)  { emit(slog.LevelDebug, format, v) }
func (adapter) Warn(format string, v ...any)  { emit(slog.LevelWarn, format, v) }
func (adapter) Error(format string, v ...any) { emit(slog.LevelError, format, v) }

func emit(level slog.Level, format string, v []any) {
	log := current.Load()
	if log == nil || !log.Enabled(context.Background(), level) {
		return
	}
	log.Log(context.Background(), level, fmt.Sprintf(format, v...), "source", "nbio")
}
