package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
)

type result struct {
	code        int
	out, errOut string
}

// run runs berth with args and a config directory of dir.
func run(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	ios, in, out, errOut := cmdutil.Test()
	in.WriteString(stdin)
	code := Run(context.Background(), cmdutil.NewFactory(ios, dir, "test"), args)
	return result{code, out.String(), errOut.String()}
}

func hermetic(t *testing.T) {
	t.Setenv("BERTH_SERVER", "")
	t.Setenv("BERTH_DEFAULTS_REGISTRY", "")
}

func TestLoginEndToEnd(t *testing.T) {
	hermetic(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.URL.Path != "/identity/oauth2/token" || r.PostForm.Get("password") != "pw" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":"InvalidCredentials","message":"wrong user name or password"}}`)
			return
		}
		io.WriteString(w, `{"access_token":"tok-1","token_type":"Bearer","expires_in":600}`)
	}))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "berth") // created by the first write

	r := run(t, dir, "", "login", "--server", srv.URL, "-u", "admin", "-p", "wrong")
	if r.code == 0 || r.errOut != "Error: wrong user name or password\n" || r.out != "" {
		t.Fatalf("wrong password: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "credentials.json")); !os.IsNotExist(err) {
		t.Fatalf("a failed login wrote credentials: %v", err)
	}

	r = run(t, dir, "pw\n", "login", "--server", srv.URL, "-u", "admin")
	if r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	path := filepath.Join(dir, "credentials.json")
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "tok-1") {
		t.Errorf("credentials.json has no token: %s", b)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, filepath.Join(dir, "config.yaml"): 0o600} {
			if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
				t.Errorf("%s: mode %v, %v; want %o", p, st.Mode().Perm(), err, want)
			}
		}
	}

	r = run(t, dir, "", "config", "get", "server", "--query", "value", "-o", "tsv")
	if r.code != 0 || r.out != srv.URL+"\n" {
		t.Errorf("remembered server: %+v", r)
	}

	r = run(t, dir, "", "logout")
	if r.code != 0 || r.errOut != "Logged out of "+srv.URL+".\n" {
		t.Errorf("logout: %+v", r)
	}
	r = run(t, dir, "", "logout")
	if r.code != 1 || r.errOut != "Error: not logged in to "+srv.URL+"\n" {
		t.Errorf("second logout: %+v", r)
	}
}

func TestConfigCommands(t *testing.T) {
	hermetic(t)
	dir := filepath.Join(t.TempDir(), "cfg")
	steps := []struct {
		args    []string
		code    int
		out     string
		errOut  string
		comment string
	}{
		{args: []string{"config", "get", "-o", "tsv"}, out: "server\thttp://127.0.0.1:5000\tdefault\n", comment: "only the default server at first"},
		{args: []string{"config", "get", "defaults.registry"}, code: 1, errOut: "Error: defaults.registry is not set\n"},
		{args: []string{"config", "set", "defaults.registry=prod", "server=https://b.example/"}},
		{args: []string{"config", "get", "-o", "table"}, out: "Name               Value              Source\n" +
			"-----------------  -----------------  -----------\n" +
			"server             https://b.example  config file\n" +
			"defaults.registry  prod               config file\n"},
		{args: []string{"config", "get", "defaults.registry"}, out: "{\n  \"name\": \"defaults.registry\",\n  \"value\": \"prod\",\n  \"source\": \"config file\"\n}\n"},
		{args: []string{"config", "set", "colour=blue"}, code: 1,
			errOut: "Error: unknown config key \"colour\": the known keys are server, defaults.registry\n"},
		{args: []string{"config", "set", "defaults.registry=dev", "server=nope"}, code: 1,
			errOut: "Error: server: \"nope\" is not a URL: give the scheme too, as in http://127.0.0.1:5000\n", comment: "nothing is written when one pair is bad"},
		{args: []string{"config", "get", "defaults.registry", "--query", "value", "-o", "tsv"}, out: "prod\n"},
		{args: []string{"config", "set", "novalue"}, code: 1, errOut: "Error: \"novalue\" is not KEY=VALUE\n"},
		{args: []string{"config", "unset", "defaults.registry"}},
		{args: []string{"config", "get", "--query", "[].name", "-o", "tsv"}, out: "server\n"},
		{args: []string{"config", "unset", "bogus"}, code: 1, errOut: "Error: unknown config key \"bogus\": the known keys are server, defaults.registry\n"},
		{args: []string{"config", "get", "-o", "xml"}, code: 1,
			errOut: "Error: invalid argument \"xml\" for \"-o, --output\" flag: must be one of json, jsonc, table, tsv, yaml, none\n"},
	}
	for i, s := range steps {
		r := run(t, dir, "", s.args...)
		if r.code != s.code || r.out != s.out || r.errOut != s.errOut {
			t.Fatalf("step %d %v (%s):\ngot  %+v\nwant code %d out %q err %q", i, s.args, s.comment, r, s.code, s.out, s.errOut)
		}
	}
	if runtime.GOOS != "windows" {
		if st, _ := os.Stat(filepath.Join(dir, "config.yaml")); st.Mode().Perm() != 0o600 {
			t.Errorf("config.yaml mode %o", st.Mode().Perm())
		}
		if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
			t.Errorf("config dir mode %o", st.Mode().Perm())
		}
	}
}

func TestUnknownCommandIsAnError(t *testing.T) {
	r := run(t, t.TempDir(), "", "frobnicate")
	if r.code != 1 || !strings.HasPrefix(r.errOut, "Error: unknown command \"frobnicate\"") {
		t.Errorf("%+v", r)
	}
}

// Every command has --help with examples.
func TestEveryCommandHasExamples(t *testing.T) {
	ios, _, _, _ := cmdutil.Test()
	root := NewRoot(cmdutil.NewFactory(ios, t.TempDir(), "test"))
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" || c.Parent() != nil && c.Parent().Name() == "completion" {
			return
		}
		n++
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no examples", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if n < 7 {
		t.Errorf("walked %d commands; expected at least berth, version, login, logout, config and its 3 verbs", n)
	}
}
