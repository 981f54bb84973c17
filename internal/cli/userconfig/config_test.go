package userconfig

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestSetSaveLoad(t *testing.T) {
	t.Setenv("BERTH_SERVER", "")
	t.Setenv("BERTH_DEFAULTS_REGISTRY", "")
	dir := filepath.Join(t.TempDir(), "berth") // Save creates it
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := cfg.Get("server"); s.Value != DefaultServer || s.Source != "default" {
		t.Errorf("server before any set: %+v", s)
	}
	if s, _ := cfg.Get("defaults.registry"); s.Value != "" || s.Source != "" {
		t.Errorf("defaults.registry before any set: %+v", s)
	}
	if err := cfg.Set("server", "https://berth.example.com/"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Set("defaults.registry", "prod"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if m := mode(t, dir); m != 0o700 {
			t.Errorf("dir mode %o, want 700", m)
		}
		if m := mode(t, cfg.Path()); m != 0o600 {
			t.Errorf("config.yaml mode %o, want 600", m)
		}
	}
	b, _ := os.ReadFile(cfg.Path())
	if want := "server: https://berth.example.com\ndefaults:\n  registry: prod\n"; string(b) != want {
		t.Errorf("config.yaml:\n%s\nwant\n%s", b, want)
	}

	again, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := again.Get("server"); s.Value != "https://berth.example.com" || s.Source != "config file" {
		t.Errorf("server after reload: %+v", s)
	}
	t.Setenv("BERTH_SERVER", "http://127.0.0.2:5000")
	if s, _ := again.Get("server"); s.Value != "http://127.0.0.2:5000" || s.Source != "env BERTH_SERVER" {
		t.Errorf("server with BERTH_SERVER: %+v", s)
	}
	t.Setenv("BERTH_SERVER", "")

	if err := again.Unset("defaults.registry"); err != nil {
		t.Fatal(err)
	}
	if err := again.Save(); err != nil {
		t.Fatal(err)
	}
	third, _ := Load(dir)
	if r, _ := third.DefaultRegistry(); r != "" {
		t.Errorf("defaults.registry after unset: %q", r)
	}
	if s, _ := third.Server(); s != "https://berth.example.com" {
		t.Errorf("unset removed server too: %q", s)
	}
}

func TestSetRejects(t *testing.T) {
	cfg, _ := Load(t.TempDir())
	tests := []struct{ key, value, want string }{
		{"colour", "blue", `unknown config key "colour": the known keys are server, defaults.registry`},
		{"server", "127.0.0.1:5000", "server: \"127.0.0.1:5000\" is not a URL"},
		{"server", "ftp://x", "the scheme must be http or https"},
		{"server", "http://u:p@x", "give scheme://host[:port][/path] only"},
		{"defaults.registry", "", "is not a registry name"},
		{"defaults.registry", "a b", "is not a registry name"},
	}
	for _, tt := range tests {
		err := cfg.Set(tt.key, tt.value)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Set(%q, %q): error %v, want one containing %q", tt.key, tt.value, err, tt.want)
		}
	}
	if err := cfg.Unset("colour"); err == nil || !strings.Contains(err.Error(), "known keys are") {
		t.Errorf("Unset of an unknown key: %v", err)
	}
	if cfg.File != (File{}) {
		t.Errorf("rejected values were stored: %+v", cfg.File)
	}
}

func TestBadEnvIsAnError(t *testing.T) {
	t.Setenv("BERTH_SERVER", "not a url")
	cfg, _ := Load(t.TempDir())
	if _, err := cfg.Server(); err == nil || !strings.HasPrefix(err.Error(), "BERTH_SERVER: ") {
		t.Fatalf("error %v", err)
	}
}

func TestDir(t *testing.T) {
	t.Setenv(EnvDir, "/x/y")
	if d, _ := Dir(); d != "/x/y" {
		t.Errorf("Dir with %s: %q", EnvDir, d)
	}
	t.Setenv(EnvDir, "")
	t.Setenv("XDG_CONFIG_HOME", "/home/u/.config")
	t.Setenv("HOME", "/home/u")
	t.Setenv("AppData", `C:\Users\u\AppData\Roaming`)
	d, err := Dir()
	if err != nil || filepath.Base(d) != "berth" {
		t.Errorf("Dir without %s: %q, %v", EnvDir, d, err)
	}
}

func TestLogins(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := Load(dir)
	if _, ok, err := cfg.Login("http://a"); ok || err != nil {
		t.Fatalf("login before any saved: %v %v", ok, err)
	}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	a := Login{Server: "http://a", Principal: "alice", PrincipalType: "user", Token: "ta", ExpiresAt: exp}
	for _, l := range []Login{a, {Server: "http://b", Token: "tb"}, {Server: "http://a", Token: "ta2"}} {
		if err := cfg.SaveLogin(l); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "credentials.json")
	if runtime.GOOS != "windows" {
		if m := mode(t, path); m != 0o600 {
			t.Errorf("credentials.json mode %o, want 600", m)
		}
	}
	if l, ok, _ := cfg.Login("http://a"); !ok || l.Token != "ta2" {
		t.Errorf("a second login to a server did not replace the first: %+v", l)
	}
	if l, ok, _ := cfg.Login("http://b"); !ok || l.Token != "tb" {
		t.Errorf("login to b lost: %+v", l)
	}
	if found, err := cfg.DeleteLogin("http://a"); !found || err != nil {
		t.Fatalf("DeleteLogin(a): %v %v", found, err)
	}
	if _, ok, _ := cfg.Login("http://a"); ok {
		t.Error("login to a still there after DeleteLogin")
	}
	if found, _ := cfg.DeleteLogin("http://a"); found {
		t.Error("DeleteLogin twice found a login")
	}
	if found, _ := cfg.DeleteLogin("http://b"); !found {
		t.Error("DeleteLogin(b) found nothing")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("credentials.json still there with no login left: %v", err)
	}
}

func TestExpired(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{time.Time{}, false}, {now.Add(time.Second), false}, {now, true}, {now.Add(-time.Second), true}} {
		if got := (Login{ExpiresAt: tc.at}).Expired(now); got != tc.want {
			t.Errorf("ExpiresAt %v: Expired %v, want %v", tc.at, got, tc.want)
		}
	}
}
