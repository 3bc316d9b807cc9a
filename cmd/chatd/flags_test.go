package main

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/store"
	"github.com/urfave/cli/v2"
)

// parse runs the server flags over args (and the environment) the way start does,
// and the layers' validation their constructors run, without starting anything.
func parse(t *testing.T, args ...string) (*settings, error) {
	t.Helper()
	s := newSettings()
	app := &cli.App{
		Name:  "chatd",
		Flags: serverFlags(s),
		Action: func(c *cli.Context) error {
			if err := s.finish(c, io.Discard); err != nil {
				return err
			}
			return s.Validate()
		},
		Writer: io.Discard, ErrWriter: io.Discard,
	}
	return s, app.Run(append([]string{"chatd"}, args...))
}

// TestFlagDefaultsAreTheLayersDefaults: with no flags, the configs the server is built
// from are exactly server.DefaultConfig (plus the logger and version).
func TestFlagDefaultsAreTheLayersDefaults(t *testing.T) {
	s, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	got, want := s.Config, server.DefaultConfig()
	got.Engine.Logger, got.Engine.Version, got.Engine.AllowedOrigins = nil, "", nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("flag defaults\n%+v\nwant\n%+v", got, want)
	}
}

// TestZeroMeansZero: every flag given 0 (or nothing) either keeps that value, which
// then means what its usage says, or is refused naming the flag; a default never
// replaces it. Each flag is also read from its CHATD_* variable.
func TestZeroMeansZero(t *testing.T) {
	tests := []struct {
		flag  string
		zero  string
		valid bool // 0 has a meaning of its own
		field func(*settings) any
	}{
		{"pollers", "0", true, func(s *settings) any { return s.Engine.Pollers }},
		{"writers", "0", true, func(s *settings) any { return s.Engine.Writers }},
		{"shutdown-grace", "0s", true, func(s *settings) any { return s.Engine.ShutdownGrace }},
		{"history-flush-interval", "0s", true, func(s *settings) any { return s.Chat.HistoryFlushInterval }},
		{"history-on-join", "0", true, func(s *settings) any { return s.Chat.HistoryOnJoin }},
		{"presence-full-limit", "0", true, func(s *settings) any { return s.Chat.PresenceFullLimit }},
		{"max-rooms-per-user", "0", true, func(s *settings) any { return s.Chat.MaxRoomsPerUser }},
		{"data-dir", "", true, func(s *settings) any { return s.DataDir }},
		{"tls-cert", "", true, func(s *settings) any { return s.Engine.TLSCert }},
		{"metrics-listen", "", true, func(s *settings) any { return s.MetricsListen }},
		{"status-token", "", true, func(s *settings) any { return s.Engine.StatusToken }},
		{"socket-send-buffer", "0", true, func(s *settings) any { return s.Engine.SocketSendBuffer }},
		{"max-connections", "0", false, func(s *settings) any { return s.Engine.MaxConnections }},
		{"max-message-bytes", "0", false, func(s *settings) any { return s.Engine.MaxMessageBytes }},
		{"max-write-buffer", "0", false, func(s *settings) any { return s.Engine.MaxWriteBuffer }},
		{"max-total-write-buffer", "0", false, func(s *settings) any { return s.Engine.MaxTotalWriteBuffer }},
		{"max-header-bytes", "0", false, func(s *settings) any { return s.Engine.MaxHeaderBytes }},
		{"max-pings-per-second", "0", false, func(s *settings) any { return s.Engine.MaxPingsPerSecond }},
		{"handshake-timeout", "0s", false, func(s *settings) any { return s.Engine.HandshakeTimeout }},
		{"ping-interval", "0s", false, func(s *settings) any { return s.Chat.PingInterval }},
		{"ping-max-missed", "0", false, func(s *settings) any { return s.Chat.PingMaxMissed }},
		{"max-name-length", "0", false, func(s *settings) any { return s.Chat.MaxNameLength }},
		{"max-text-length", "0", false, func(s *settings) any { return s.Chat.MaxTextLength }},
		{"default-name", "", false, func(s *settings) any { return s.Chat.DefaultName }},
		{"default-color", "", false, func(s *settings) any { return s.Chat.DefaultColor }},
		{"rate-limit", "0", false, func(s *settings) any { return s.Chat.RateLimit }},
		{"rate-burst", "0", false, func(s *settings) any { return s.Chat.RateBurst }},
		{"ack-timeout", "0s", false, func(s *settings) any { return s.Chat.AckTimeout }},
		{"resume-grace", "0s", false, func(s *settings) any { return s.Chat.ResumeGrace }},
		{"presence-interval", "0s", false, func(s *settings) any { return s.Chat.PresenceInterval }},
		{"max-room-members", "0", false, func(s *settings) any { return s.Chat.MaxRoomMembers }},
		{"durability", "", false, func(s *settings) any { return s.Chat.Durability }},
	}
	for _, tt := range tests {
		envVar := "CHATD_" + strings.ToUpper(strings.ReplaceAll(tt.flag, "-", "_"))
		for _, via := range []string{"flag", "env"} {
			t.Run(tt.flag+" by "+via, func(t *testing.T) { // its own, so Setenv ends with it
				var s *settings
				var err error
				if via == "flag" {
					s, err = parse(t, "--"+tt.flag+"="+tt.zero)
				} else {
					t.Setenv(envVar, tt.zero)
					s, err = parse(t)
				}
				if !tt.valid {
					if err == nil || !strings.Contains(err.Error(), "--"+tt.flag) {
						t.Errorf("%s=%q: want an error naming --%s, got %v", tt.flag, tt.zero, tt.flag, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s=%q: refused: %v", tt.flag, tt.zero, err)
				}
				if got := reflect.ValueOf(tt.field(s)); !got.IsZero() {
					t.Errorf("%s=%q: the config holds %v, want the zero typed", tt.flag, tt.zero, got)
				}
			})
		}
	}
}

// TestMonitoringFlags: --metrics-listen and --status-token land in their fields, and
// values the server could not use are refused naming the flag.
func TestMonitoringFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
		check   func(*settings) bool
	}{
		{[]string{"--metrics-listen", "127.0.0.1:9090"}, "", func(s *settings) bool { return s.MetricsListen == "127.0.0.1:9090" }},
		{[]string{"--status-token", "s3cret-token"}, "", func(s *settings) bool { return s.Engine.StatusToken == "s3cret-token" }},
		{[]string{"--metrics-listen", "9090"}, "--metrics-listen", nil},
		{[]string{"--listen", "127.0.0.1:27800", "--metrics-listen", "127.0.0.1:27800"}, "--metrics-listen", nil},
		{[]string{"--status-token", "two words"}, "--status-token", nil},
	}
	for _, tt := range tests {
		s, err := parse(t, tt.args...)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: want an error naming %s, got %v", tt.args, tt.wantErr, err)
			}
			continue
		}
		if err != nil || !tt.check(s) {
			t.Errorf("%v: err %v, settings %+v", tt.args, err, s.Config)
		}
	}
}

// TestDurabilityFlag: --durability takes power or crash, by flag or CHATD_DURABILITY,
// and refuses anything else naming the flag.
func TestDurabilityFlag(t *testing.T) {
	tests := []struct {
		value string
		want  store.Durability // "": refused
	}{
		{"power", store.DurabilityPower},
		{"crash", store.DurabilityCrash},
		{"POWER", ""},
		{"fsync", ""},
		{"none", ""},
	}
	for _, tt := range tests {
		s, err := parse(t, "--durability", tt.value)
		if tt.want == "" {
			if err == nil || !strings.Contains(err.Error(), "--durability") {
				t.Errorf("--durability %s: want an error naming --durability, got %v", tt.value, err)
			}
			continue
		}
		if err != nil || s.Chat.Durability != tt.want {
			t.Errorf("--durability %s: got %q, %v", tt.value, s.Chat.Durability, err)
		}
	}
	t.Setenv("CHATD_DURABILITY", "crash")
	if s, err := parse(t); err != nil || s.Chat.Durability != store.DurabilityCrash {
		t.Errorf("CHATD_DURABILITY=crash: got %q, %v", s.Chat.Durability, err)
	}
}
