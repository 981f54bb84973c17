package cmdutil

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/cli/userconfig"
)

func TestRegistryName(t *testing.T) {
	tests := []struct {
		name, flag, file, env string
		want, wantErr         string
	}{
		{name: "flag wins", flag: "fromflag", file: "fromfile", env: "fromenv", want: "fromflag"},
		{name: "env over file", env: "fromenv", file: "fromfile", want: "fromenv"},
		{name: "file", file: "fromfile", want: "fromfile"},
		{name: "neither", wantErr: "no registry given: give --registry or run `berth config set defaults.registry=NAME`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("BERTH_DEFAULTS_REGISTRY", tt.env)
			if tt.file != "" {
				cfg, _ := userconfig.Load(dir)
				if err := cfg.Set("defaults.registry", tt.file); err != nil {
					t.Fatal(err)
				}
				if err := cfg.Save(); err != nil {
					t.Fatal(err)
				}
			}
			ios, _, _, _ := Test()
			f := NewFactory(ios, dir, "test")
			got, err := f.RegistryName(tt.flag)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("registry commands name their own flag", func(t *testing.T) {
		t.Setenv("BERTH_DEFAULTS_REGISTRY", "")
		ios, _, _, _ := Test()
		_, err := NewFactory(ios, t.TempDir(), "test").RegistryNameFlag("-n/--name", "")
		if err == nil || !strings.Contains(err.Error(), "give -n/--name or run") {
			t.Fatalf("error %v", err)
		}
	})
}

// The factory's client sends the token kept for its server, and only that
// server's; without one, or with an expired one, it sends nothing and says
// what to run.
func TestFactoryClientToken(t *testing.T) {
	var gotAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		if ua := r.Header.Get("User-Agent"); ua != "berth-cli/test" {
			t.Errorf("User-Agent %q", ua)
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	t.Setenv("BERTH_SERVER", srv.URL)

	dir := t.TempDir()
	cfg, _ := userconfig.Load(dir)
	ios, _, _, _ := Test()
	call := func() error {
		c, err := NewFactory(ios, dir, "test").Client()
		if err != nil {
			t.Fatal(err)
		}
		return c.Do(context.Background(), "GET", "/api/x", nil, nil)
	}

	if err := call(); err == nil || err.Error() != "not logged in to "+srv.URL+": run `berth login`" {
		t.Fatalf("no login: error %v", err)
	}
	if err := cfg.SaveLogin(userconfig.Login{Server: "http://elsewhere:5000", Token: "other"}); err != nil {
		t.Fatal(err)
	}
	if err := call(); err == nil || !strings.HasPrefix(err.Error(), "not logged in") {
		t.Fatalf("login for another server only: error %v", err)
	}
	if err := cfg.SaveLogin(userconfig.Login{Server: srv.URL, Token: "old", ExpiresAt: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := call(); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired login: error %v", err)
	}
	if err := cfg.SaveLogin(userconfig.Login{Server: srv.URL, Token: "tok", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := call(); err != nil {
		t.Fatal(err)
	}
	if len(gotAuth) != 1 || gotAuth[0] != "Bearer tok" {
		t.Fatalf("server saw Authorization %q, want exactly one request with Bearer tok", gotAuth)
	}
}

func TestReadLine(t *testing.T) {
	ios, in, _, errOut := Test()
	in.WriteString("alice\r\nsecret")
	if got, err := ios.ReadLine("Username: "); err != nil || got != "alice" {
		t.Fatalf("first line %q, %v", got, err)
	}
	if got, err := ios.ReadSecret("Password: "); err != nil || got != "secret" {
		t.Fatalf("last line without newline %q, %v", got, err)
	}
	if _, err := ios.ReadLine(""); err == nil {
		t.Fatal("reading past the end gave no error")
	}
	if errOut.Len() != 0 {
		t.Errorf("prompted %q off a terminal", errOut.String())
	}
}
