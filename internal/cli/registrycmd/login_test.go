package registrycmd

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/cli/clitest"
)

const nullUser = "00000000-0000-0000-0000-000000000000"

// loginStubs are the calls of a login to registry blogbuildtest whose login
// server is loginServer ("" for none: the server's own address is used,
// reached as host).
func loginStubs(loginServer, host string) []clitest.Stub {
	props := `"adminUserEnabled":false`
	if loginServer != "" {
		props += `,"loginServer":"` + loginServer + `"`
	}
	return []clitest.Stub{
		{Method: "GET", Path: "/api/registries/blogbuildtest",
			Reply: `{"id":"/registries/blogbuildtest","name":"blogbuildtest","type":"registries","properties":{` + props + `}}`},
		{Method: "POST", Path: "/oauth2/exchange", NoAuth: true,
			Form:  url.Values{"grant_type": {"access_token"}, "service": {host}, "access_token": {clitest.IdentityToken}},
			Reply: `{"refresh_token":"refresh-1"}`},
	}
}

func dockerDir(t *testing.T, config string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "docker")
	t.Setenv("DOCKER_CONFIG", dir)
	if config != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readConfig(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("config.json: %v\n%s", err, b)
	}
	return m
}

func authOf(t *testing.T, cfg map[string]any, server string) string {
	t.Helper()
	auths, _ := cfg["auths"].(map[string]any)
	entry, _ := auths[server].(map[string]any)
	s, _ := entry["auth"].(string)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("auths[%s].auth %q: %v", server, s, err)
	}
	return string(b)
}

func TestLoginWritesDockerConfig(t *testing.T) {
	e := clitest.New(t)
	// The login server is another name of the stub server, so that it is
	// told apart from the server's own address.
	ls := strings.Replace(e.Server.Host(), "127.0.0.1", "localhost", 1)
	e.Register(loginStubs(ls, ls)...)
	dir := dockerDir(t, `{"auths":{"other.example:5000":{"auth":"b3RoZXI6c2VjcmV0"},"`+ls+`":{"auth":"old","identitytoken":"stale"}},"psFormat":"table {{.ID}}"}`)

	if err := e.Run(NewCmdLogin(e.F, nil), "-n", "blogbuildtest"); err != nil {
		t.Fatal(err)
	}
	if e.Out.String() != "Login Succeeded\n" {
		t.Errorf("stdout %q", e.Out)
	}
	cfg := readConfig(t, dir)
	if got := authOf(t, cfg, ls); got != nullUser+":refresh-1" {
		t.Errorf("auths[%s] decodes to %q", ls, got)
	}
	if entry := cfg["auths"].(map[string]any)[ls].(map[string]any); len(entry) != 1 {
		t.Errorf("the entry kept stale fields: %v", entry)
	}
	if got := authOf(t, cfg, "other.example:5000"); got != "other:secret" {
		t.Errorf("another server's entry became %q", got)
	}
	if cfg["psFormat"] != "table {{.ID}}" {
		t.Errorf("an unrelated setting was lost: %v", cfg)
	}
	if runtime.GOOS != "windows" {
		if st, _ := os.Stat(filepath.Join(dir, "config.json")); st.Mode().Perm() != 0o600 {
			t.Errorf("config.json mode %o, want 600", st.Mode().Perm())
		}
	}
}

func TestLoginDefaultRegistryUsesServerAddress(t *testing.T) {
	e := clitest.New(t)
	host := e.Server.Host()
	e.Register(loginStubs("", host)...)
	dir := dockerDir(t, "") // no config.json yet, nor its directory
	if err := e.Run(NewCmdLogin(e.F, nil), "-n", "blogbuildtest"); err != nil {
		t.Fatal(err)
	}
	if got := authOf(t, readConfig(t, dir), host); got != nullUser+":refresh-1" {
		t.Errorf("auths[%s] decodes to %q", host, got)
	}
	if runtime.GOOS != "windows" {
		if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
			t.Errorf("new docker config dir mode %o", st.Mode().Perm())
		}
	}
}

// fakeHelper puts docker-credential-<name> on PATH; it records its argument
// and standard input in the returned file, and fails when told to.
func fakeHelper(t *testing.T, name string, fail bool) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake helper is a shell script")
	}
	bin := t.TempDir()
	rec := filepath.Join(bin, name+".record")
	script := "#!/bin/sh\necho \"$1\" > '" + rec + "'\ncat >> '" + rec + "'\n"
	if fail {
		script += "echo 'keychain is locked'\nexit 1\n"
	}
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-"+name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return rec
}

func TestLoginUsesCredentialHelper(t *testing.T) {
	host := ""
	tests := []struct {
		name   string
		config func() string
		helper string // the helper that must be called
	}{
		{"credsStore", func() string { return `{"credsStore":"fake"}` }, "fake"},
		{"credHelpers wins", func() string { return `{"credsStore":"fake","credHelpers":{"` + host + `":"other"}}` }, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := clitest.New(t)
			host = e.Server.Host()
			e.Register(loginStubs(host, host)...)
			recs := map[string]string{"fake": fakeHelper(t, "fake", false), "other": fakeHelper(t, "other", false)}
			rec := recs[tt.helper]
			config := tt.config()
			dir := dockerDir(t, config)
			if err := e.Run(NewCmdLogin(e.F, nil), "-n", "blogbuildtest"); err != nil {
				t.Fatal(err)
			}
			if e.Out.String() != "Login Succeeded\n" {
				t.Errorf("stdout %q", e.Out)
			}
			b, err := os.ReadFile(rec)
			if err != nil {
				t.Fatalf("helper %s not called: %v", tt.helper, err)
			}
			verb, in, _ := strings.Cut(string(b), "\n")
			want := `{"ServerURL":"` + host + `","Username":"` + nullUser + `","Secret":"refresh-1"}`
			if verb != "store" || !clitest.JSONEqual(in, want) {
				t.Errorf("helper got %q with %s, want store with %s", verb, in, want)
			}
			for name, r := range recs {
				if _, err := os.Stat(r); name != tt.helper && err == nil {
					t.Errorf("helper %s was called too", name)
				}
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "config.json")); string(b) != config {
				t.Errorf("config.json changed with a helper: %s", b)
			}
		})
	}

	t.Run("helper fails", func(t *testing.T) {
		e := clitest.New(t)
		host := e.Server.Host()
		e.Register(loginStubs(host, host)...)
		fakeHelper(t, "fake", true)
		dockerDir(t, `{"credsStore":"fake"}`)
		err := e.Run(NewCmdLogin(e.F, nil), "-n", "blogbuildtest")
		if err == nil || err.Error() != "docker-credential-fake store: keychain is locked" {
			t.Fatalf("error %v", err)
		}
		if e.Out.String() != "" {
			t.Errorf("stdout %q after a failure", e.Out)
		}
	})
}

func TestLoginExposeToken(t *testing.T) {
	e := clitest.New(t)
	host := e.Server.Host()
	dir := dockerDir(t, "")
	e.Register(loginStubs(host, host)...)
	if err := e.Run(NewCmdLogin(e.F, nil), "-n", "blogbuildtest", "--expose-token"); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"accessToken\": \"refresh-1\",\n  \"loginServer\": \"" + host + "\",\n  \"username\": \"" + nullUser + "\"\n}\n"
	if e.Out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", e.Out, want)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("--expose-token wrote docker's config: %v", err)
	}

	e.Register(loginStubs(host, host)...)
	if err := e.Run(NewCmdLogin(e.F, nil), "-n", "blogbuildtest", "--expose-token", "--query", "accessToken", "-o", "tsv"); err != nil {
		t.Fatal(err)
	}
	if e.Out.String() != "refresh-1\n" {
		t.Errorf("--query accessToken: %q", e.Out)
	}
}

func TestLoginFails(t *testing.T) {
	t.Run("exchange refused", func(t *testing.T) {
		e := clitest.New(t)
		host := e.Server.Host()
		stubs := loginStubs(host, host)
		stubs[1].Status, stubs[1].Reply = 401, `{"errors":[{"code":"UNAUTHORIZED","message":"invalid identity token: expired"}]}`
		e.Register(stubs...)
		dir := dockerDir(t, "")
		err := e.Run(NewCmdLogin(e.F, nil), "-n", "blogbuildtest")
		if err == nil || err.Error() != "getting a refresh token from "+host+": invalid identity token: expired" {
			t.Fatalf("error %v", err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Error("a failed login wrote docker's config")
		}
	})
	t.Run("not logged in", func(t *testing.T) {
		e := clitest.New(t)
		os.Remove(filepath.Join(e.Dir, "credentials.json"))
		err := e.Run(NewCmdLogin(e.F, nil), "-n", "blogbuildtest")
		if err == nil || err.Error() != "not logged in to "+e.Server.URL+": run `berth login`" {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("broken config.json", func(t *testing.T) {
		e := clitest.New(t)
		host := e.Server.Host()
		e.Register(loginStubs(host, host)...)
		dockerDir(t, `{"auths":`)
		err := e.Run(NewCmdLogin(e.F, nil), "-n", "blogbuildtest")
		if err == nil || !strings.Contains(err.Error(), "config.json: unexpected end of JSON input") {
			t.Fatalf("error %v", err)
		}
	})
}
