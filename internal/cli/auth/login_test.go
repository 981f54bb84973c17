package auth

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/userconfig"
)

// identityServer implements POST /identity/oauth2/token for user alice
// (password pw) and service principal app (secret sec), and counts calls.
func identityServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != "POST" || r.URL.Path != "/identity/oauth2/token" {
			http.NotFound(w, r)
			return
		}
		r.ParseForm()
		f := r.PostForm
		var tok string
		switch {
		case f.Get("grant_type") == "password" && f.Get("username") == "alice" && f.Get("password") == "pw":
			tok = "user-token"
		case f.Get("grant_type") == "client_credentials" && f.Get("client_id") == "app" && f.Get("client_secret") == "sec":
			tok = "sp-token"
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":"InvalidCredentials","message":"wrong user name or password"}}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

type env struct {
	f               *cmdutil.Factory
	dir             string
	in, out, errOut interface{ String() string }
	stdin           io.Writer
	run             func(cmd *cobra.Command, args ...string) error
}

func newEnv(t *testing.T) *env {
	t.Setenv("BERTH_SERVER", "")
	ios, stdin, out, errOut := cmdutil.Test()
	dir := t.TempDir()
	return &env{
		f: cmdutil.NewFactory(ios, dir, "test"), dir: dir, out: out, errOut: errOut, stdin: stdin,
		run: func(cmd *cobra.Command, args ...string) error {
			cmd.SetArgs(args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			return cmd.ExecuteContext(context.Background())
		},
	}
}

func (e *env) login(t *testing.T, server string) (userconfig.Login, bool) {
	t.Helper()
	cfg, err := userconfig.Load(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	l, ok, err := cfg.Login(server)
	if err != nil {
		t.Fatal(err)
	}
	return l, ok
}

func TestLogin(t *testing.T) {
	srv, _ := identityServer(t)
	e := newEnv(t)
	if err := e.run(NewCmdLogin(e.f, nil), "--server", srv.URL+"/", "-u", "alice", "-p", "pw"); err != nil {
		t.Fatal(err)
	}
	l, ok := e.login(t, srv.URL)
	if !ok || l.Token != "user-token" || l.Principal != "alice" || l.PrincipalType != "user" {
		t.Fatalf("kept login %+v (found %v)", l, ok)
	}
	if d := time.Until(l.ExpiresAt); d < 59*time.Minute || d > time.Hour {
		t.Errorf("expiry %v is not an hour away", l.ExpiresAt)
	}
	if got := e.errOut.String(); got != "Logged in to "+srv.URL+" as alice.\n" {
		t.Errorf("stderr %q", got)
	}
	if e.out.String() != "" {
		t.Errorf("stdout %q, want nothing", e.out.String())
	}
	path := filepath.Join(e.dir, "credentials.json")
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), `"token": "user-token"`) {
		t.Errorf("credentials.json: %s, %v", b, err)
	}
	if runtime.GOOS != "windows" {
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
			t.Errorf("credentials.json mode %o, want 600", st.Mode().Perm())
		}
	}
	// --server is remembered.
	cfg, _ := userconfig.Load(e.dir)
	if s, _ := cfg.Get("server"); s.Value != srv.URL || s.Source != "config file" {
		t.Errorf("server setting after login --server: %+v", s)
	}
}

func TestLoginServicePrincipalFromStdin(t *testing.T) {
	srv, _ := identityServer(t)
	e := newEnv(t)
	t.Setenv("BERTH_SERVER", srv.URL) // no --server: the env's server is used and not written down
	io.WriteString(e.stdin, "sec\n")
	if err := e.run(NewCmdLogin(e.f, nil), "--service-principal", "-u", "app"); err != nil {
		t.Fatal(err)
	}
	if l, ok := e.login(t, srv.URL); !ok || l.Token != "sp-token" || l.PrincipalType != "servicePrincipal" {
		t.Fatalf("kept login %+v (found %v)", l, ok)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "config.yaml")); !os.IsNotExist(err) {
		t.Errorf("login without --server wrote config.yaml: %v", err)
	}
}

func TestLoginFails(t *testing.T) {
	srv, calls := identityServer(t)
	tests := []struct {
		name      string
		args      []string
		stdin     string
		want      string
		wantCalls int32
	}{
		{"wrong password", []string{"-u", "alice", "-p", "bad"}, "", "wrong user name or password", 1},
		{"no user name off a terminal", []string{"-p", "pw"}, "", "give -u/--username", 0},
		{"no password on stdin", []string{"-u", "alice"}, "", "standard input ended", 0},
		{"empty password line", []string{"-u", "alice"}, "\n", "no password given", 0},
		{"service principal without id", []string{"--service-principal", "-p", "sec"}, "", "--service-principal needs -u", 0},
		{"server without scheme", []string{"--server", "127.0.0.1:5000", "-u", "a", "-p", "b"}, "", "--server: ", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			t.Setenv("BERTH_SERVER", srv.URL)
			io.WriteString(e.stdin, tt.stdin)
			calls.Store(0)
			err := e.run(NewCmdLogin(e.f, nil), tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("%d calls to the server, want %d", n, tt.wantCalls)
			}
			if _, ok := e.login(t, srv.URL); ok {
				t.Error("a failed login kept a token")
			}
		})
	}
}

func TestLoginFlags(t *testing.T) {
	e := newEnv(t)
	var got *LoginOptions
	err := e.run(NewCmdLogin(e.f, func(_ context.Context, o *LoginOptions) error { got = o; return nil }),
		"--service-principal", "-u", "app", "-p", "sec", "--server", "https://berth.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if !got.ServicePrincipal || got.Username != "app" || got.Password != "sec" || got.Server != "https://berth.example.com" {
		t.Errorf("options %+v", got)
	}
}

func TestLogout(t *testing.T) {
	srv, _ := identityServer(t)
	e := newEnv(t)
	if err := e.run(NewCmdLogin(e.f, nil), "--server", srv.URL, "-u", "alice", "-p", "pw"); err != nil {
		t.Fatal(err)
	}
	cfg, _ := userconfig.Load(e.dir)
	other := userconfig.Login{Server: "http://other:5000", Token: "keep"}
	if err := cfg.SaveLogin(other); err != nil {
		t.Fatal(err)
	}

	if err := e.run(NewCmdLogout(e.f, nil)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(e.errOut.String(), "Logged out of "+srv.URL+".\n") {
		t.Errorf("stderr %q", e.errOut.String())
	}
	if _, ok := e.login(t, srv.URL); ok {
		t.Error("the token is still kept after logout")
	}
	if l, ok := e.login(t, other.Server); !ok || l.Token != "keep" {
		t.Error("logout removed another server's token")
	}

	err := e.run(NewCmdLogout(e.f, nil))
	if err == nil || err.Error() != "not logged in to "+srv.URL {
		t.Errorf("second logout: %v", err)
	}
	if err := e.run(NewCmdLogout(e.f, nil), "--server", "http://other:5000/"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "credentials.json")); !os.IsNotExist(err) {
		t.Errorf("credentials.json left with no login: %v", err)
	}
}
