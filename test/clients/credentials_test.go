package clients

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testserver"
)

// nullUser is the user name under which a refresh token is a password.
const nullUser = "00000000-0000-0000-0000-000000000000"

// identityToken signs the bootstrap owner in to the management plane.
func (e *env) identityToken() string {
	e.t.Helper()
	resp, err := http.PostForm(e.srv.URL+"/identity/oauth2/token", url.Values{
		"grant_type": {"password"}, "username": {testserver.AdminUser}, "password": {e.srv.Password}})
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.AccessToken == "" {
		e.t.Fatalf("identity token: %d %v", resp.StatusCode, err)
	}
	return out.AccessToken
}

// api calls the management API as the bootstrap owner.
func (e *env) api(method, path string, in, out any) {
	e.t.Helper()
	var body bytes.Buffer
	if in != nil {
		json.NewEncoder(&body).Encode(in)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, &body)
	req.Header.Set("Authorization", "Bearer "+e.identityToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var msg bytes.Buffer
		msg.ReadFrom(resp.Body)
		e.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, msg.String())
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// credentials makes one credential of each kind berth offers to a client,
// all limited to the default registry.
func (e *env) credentials() map[string][2]string {
	e.t.Helper()
	creds := map[string][2]string{}

	e.api("PATCH", "/api/registries/default", map[string]any{"properties": map[string]any{"adminUserEnabled": true}}, nil)
	var admin struct {
		Username  string
		Passwords []struct{ Name, Value string }
	}
	e.api("POST", "/api/registries/default/listCredentials", nil, &admin)
	creds["admin user"] = [2]string{admin.Username, admin.Passwords[0].Value}

	e.api("PUT", "/api/registries/default/scopeMaps/samples", map[string]any{"properties": map[string]any{
		"actions": []string{"repositories/samples/*/content/read", "repositories/samples/*/content/write", "repositories/samples/*/metadata/read"}}}, nil)
	var tok struct {
		Properties struct {
			Credentials struct {
				Username  string
				Passwords []struct{ Name, Value string }
			}
		}
	}
	e.api("PUT", "/api/registries/default/tokens/ci-samples", map[string]any{"properties": map[string]any{"scopeMapId": "samples"}}, &tok)
	if len(tok.Properties.Credentials.Passwords) == 0 {
		e.t.Fatalf("token created without credentials: %+v", tok)
	}
	creds["scoped token"] = [2]string{tok.Properties.Credentials.Username, tok.Properties.Credentials.Passwords[0].Value}

	var sp struct{ AppID, Password string }
	e.api("POST", "/api/servicePrincipals", map[string]any{"name": "ci", "role": "AcrPush", "scopes": []string{"/registries/default"}}, &sp)
	creds["service principal"] = [2]string{sp.AppID, sp.Password}

	resp, err := http.PostForm(e.srv.URL+"/oauth2/exchange", url.Values{
		"grant_type": {"access_token"}, "service": {e.addr}, "access_token": {e.identityToken()}})
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var ex struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ex); err != nil || ex.RefreshToken == "" {
		e.t.Fatalf("exchange: %d %v", resp.StatusCode, err)
	}
	creds["null-GUID refresh token"] = [2]string{nullUser, ex.RefreshToken}
	for name, c := range creds {
		if c[0] == "" || c[1] == "" {
			e.t.Fatalf("%s: empty credential %q", name, c)
		}
	}
	return creds
}

// TestEveryCredentialWithEveryClient logs crane, oras, regctl and skopeo in
// with the admin user, a scoped token, a service principal and the null-GUID
// refresh token, and has each push and pull; a push outside the token's
// scope is refused.
func TestEveryCredentialWithEveryClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "crane", "oras", "regctl", "skopeo")
	img := e.pushImage("samples/base", "v1")
	creds := e.credentials()
	slug := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "-")) }

	for name, c := range creds {
		user, pass := c[0], c[1]
		_, vars := clientHome(t, slug(name))

		// crane: copy within samples/ (pull and push).
		e.runEnv(vars, "crane", "auth", "login", e.addr, "-u", user, "-p", pass)
		dst := e.addr + "/samples/crane-" + slug(name) + ":v1"
		e.runEnv(vars, "crane", "copy", img.ref, dst)
		if got := e.manifestDigest("samples/crane-"+slug(name), "v1"); got != img.digest {
			t.Errorf("%s: crane copy made %s, want %s", name, got, img.digest)
		}

		// oras: push and pull an artifact.
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("notes from "+name), 0o644)
		ref := e.addr + "/samples/oras-" + slug(name) + ":v1"
		e.runIn(dir, "oras", "push", "--plain-http", "-u", user, "-p", pass, "--artifact-type", "application/vnd.example.notes", ref, "notes.txt")
		out := t.TempDir()
		e.runIn(out, "oras", "pull", "--plain-http", "-u", user, "-p", pass, "-o", out, ref)
		if b, _ := os.ReadFile(filepath.Join(out, "notes.txt")); string(b) != "notes from "+name {
			t.Errorf("%s: oras pulled %q", name, b)
		}

		// regctl: log in and copy.
		_, rv := clientHome(t, "regctl-"+slug(name))
		e.runEnv(rv, "regctl", "registry", "set", "--skip-check", "--tls", "disabled", e.addr)
		e.runEnv(rv, "regctl", "registry", "login", "-u", user, "-p", pass, e.addr)
		e.runEnv(rv, "regctl", "image", "copy", img.ref, e.addr+"/samples/regctl-"+slug(name)+":v1")
		if got := e.manifestDigest("samples/regctl-"+slug(name), "v1"); got != img.digest {
			t.Errorf("%s: regctl copy made %s, want %s", name, got, img.digest)
		}

		// skopeo: copy with credentials on the command line.
		e.runEnv(vars, "skopeo", "--insecure-policy", "copy", "--src-creds", user+":"+pass, "--dest-creds", user+":"+pass,
			"--src-tls-verify=false", "--dest-tls-verify=false", "docker://"+img.ref, "docker://"+e.addr+"/samples/skopeo-"+slug(name)+":v1")
		if got := e.manifestDigest("samples/skopeo-"+slug(name), "v1"); got != img.digest {
			t.Errorf("%s: skopeo copy made %s, want %s", name, got, img.digest)
		}
	}

	// The scoped token may not push outside samples/, whatever the client.
	tok := creds["scoped token"]
	_, vars := clientHome(t, "outside")
	e.runEnv(vars, "crane", "auth", "login", e.addr, "-u", tok[0], "-p", tok[1])
	e.refused(vars, "crane", "copy", img.ref, e.addr+"/other/app:v1")
	e.refused(vars, "skopeo", "--insecure-policy", "copy", "--src-creds", tok[0]+":"+tok[1], "--dest-creds", tok[0]+":"+tok[1],
		"--src-tls-verify=false", "--dest-tls-verify=false", "docker://"+img.ref, "docker://"+e.addr+"/other/app:v2")
	if r := e.request(http.MethodGet, "/v2/other/app/tags/list"); r.status != http.StatusNotFound {
		t.Errorf("after refused pushes, other/app answers %d, want 404 (nothing stored)", r.status)
	}
}
