package credhelper

import (
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/dockerconfig"
	"github.com/berth-project/berth/internal/cli/userconfig"
	"github.com/berth-project/berth/pkg/client"
)

// jwt makes an unsigned token that expires at exp, as the helper reads it.
func jwt(exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc([]byte(`{"sub":"u1","exp":`+strconv.FormatInt(exp.Unix(), 10)+`}`)) + ".c2ln"
}

type helper struct {
	*clitest.Env
	t *testing.T
}

func newHelper(t *testing.T) *helper { return &helper{clitest.New(t), t} }

// run runs verb with stdin as the helper would be run, and returns its
// standard output and error.
func (h *helper) run(verb, stdin string) (string, error) {
	h.t.Helper()
	h.In.Reset()
	h.In.WriteString(stdin)
	cmds := map[string]func(*cmdutil.Factory) *cobra.Command{
		"get":   func(f *cmdutil.Factory) *cobra.Command { return NewCmdGet(f, nil) },
		"store": func(f *cmdutil.Factory) *cobra.Command { return NewCmdStore(f, nil) },
		"erase": func(f *cmdutil.Factory) *cobra.Command { return NewCmdErase(f, nil) },
		"list":  func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f, nil) },
	}
	err := h.Run(cmds[verb](h.F))
	return h.Out.String(), err
}

func (h *helper) mustRun(verb, stdin, want string) {
	h.t.Helper()
	out, err := h.run(verb, stdin)
	if err != nil {
		h.t.Fatalf("%s %q: %v (stdout %q)", verb, stdin, err, out)
	}
	// A want that ends in a newline is the exact output; others are compared as JSON.
	exact := strings.HasSuffix(want, "\n") || want == ""
	if want != "*" && (exact && out != want || !exact && !clitest.JSONEqual(out, want)) {
		h.t.Fatalf("%s %q: stdout %q, want %q", verb, stdin, out, want)
	}
}

func (h *helper) mustFail(verb, stdin, want string) {
	h.t.Helper()
	out, err := h.run(verb, stdin)
	if err == nil || err.Error() != want || out != want+"\n" {
		h.t.Fatalf("%s %q: error %v, stdout %q; want %q on both", verb, stdin, err, out, want)
	}
}

func (h *helper) kept(server string) userconfig.RegistryCredential {
	h.t.Helper()
	cfg, _ := userconfig.Load(h.Dir)
	c, ok, err := cfg.RegistryCredential(server)
	if err != nil || !ok {
		h.t.Fatalf("nothing kept for %s: %v", server, err)
	}
	return c
}

func TestStoreGetListEraseRoundTrip(t *testing.T) {
	h := newHelper(t)
	h.mustRun("list", "", `{}`)
	h.mustRun("store", `{"ServerURL":"127.0.3.1:5000","Username":"ci-pull","Secret":"pw-1"}`, "")
	h.mustRun("store", `{"ServerURL":"https://other.example/","Username":"bob","Secret":"pw-2"}`, "")
	h.mustRun("list", "", `{"127.0.3.1:5000":"ci-pull","https://other.example/":"bob"}`)

	// get needs no server for what docker login stored.
	h.mustRun("get", "127.0.3.1:5000", `{"ServerURL":"127.0.3.1:5000","Username":"ci-pull","Secret":"pw-1"}`+"\n")
	// The same registry in another form finds the same entry.
	h.mustRun("get", "http://127.0.3.1:5000/\n", `{"ServerURL":"http://127.0.3.1:5000/","Username":"ci-pull","Secret":"pw-1"}`)
	h.mustRun("get", "other.example", `{"ServerURL":"other.example","Username":"bob","Secret":"pw-2"}`)

	// Storing again replaces.
	h.mustRun("store", `{"ServerURL":"127.0.3.1:5000","Username":"ci-pull","Secret":"pw-3"}`, "")
	h.mustRun("get", "127.0.3.1:5000", `{"ServerURL":"127.0.3.1:5000","Username":"ci-pull","Secret":"pw-3"}`)

	if runtime.GOOS != "windows" {
		if st, err := os.Stat(filepath.Join(h.Dir, "registry-credentials.json")); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("registry-credentials.json: %v, %v", st, err)
		}
	}

	h.mustRun("erase", "127.0.3.1:5000", "")
	h.mustRun("list", "", `{"https://other.example/":"bob"}`)
	h.mustFail("erase", "127.0.3.1:5000", dockerconfig.NotFound)
	h.mustRun("erase", "https://other.example", "")
	if _, err := os.Stat(filepath.Join(h.Dir, "registry-credentials.json")); !os.IsNotExist(err) {
		t.Errorf("the file is left with nothing in it: %v", err)
	}

	// A registry the berth server does not list gets "not found", and the
	// identity token is not sent there.
	h.Register(clitest.Stub{Method: "GET", Path: "/api/registries",
		Reply: `{"value":[{"id":"/registries/a","name":"a","type":"registries","properties":{"loginServer":"127.0.3.9:5000"}}]}`})
	h.mustFail("get", "127.0.3.1:5000", dockerconfig.NotFound)
}

func TestStoreRefusesIncompleteCredentials(t *testing.T) {
	h := newHelper(t)
	h.mustFail("store", `{"Username":"u","Secret":"s"}`, "no credentials server URL")
	h.mustFail("store", `{"ServerURL":"h:5000","Secret":"s"}`, "no credentials username")
	if _, err := h.run("store", `not json`); err == nil || !strings.HasPrefix(err.Error(), "reading the credentials: ") {
		t.Errorf("bad JSON: %v", err)
	}
	h.mustFail("get", "  \n", "no server URL on standard input")
}

func exchangeStub(loginServer, reply string) clitest.Stub {
	return clitest.Stub{Method: "POST", Path: "/oauth2/exchange", NoAuth: true,
		Form:  url.Values{"grant_type": {"access_token"}, "service": {loginServer}, "access_token": {clitest.IdentityToken}},
		Reply: reply}
}

func TestGetRenewsNearExpiry(t *testing.T) {
	h := newHelper(t)
	host := h.Server.Host() // the server's own address: the default registry
	now := time.Now()
	soon, later := jwt(now.Add(5*time.Minute)), jwt(now.Add(3*time.Hour))

	// Kept by `berth registry login` through credsStore, 5 minutes left.
	h.mustRun("store", `{"ServerURL":"`+host+`","Username":"`+client.NullUser+`","Secret":"`+soon+`"}`, "")
	h.Register(exchangeStub(host, `{"refresh_token":"`+later+`"}`))
	want := `{"ServerURL":"` + host + `","Username":"` + client.NullUser + `","Secret":"` + later + `"}`
	h.mustRun("get", host, want)
	if got := h.kept(host); got.Secret != later {
		t.Errorf("the renewed token was not kept: %+v", got)
	}
	// Fresh now: no request (an unexpected one fails the test).
	h.mustRun("get", host, want)

	// Eleven minutes left is not yet time to renew.
	h.mustRun("store", `{"ServerURL":"`+host+`","Username":"`+client.NullUser+`","Secret":"`+jwt(now.Add(11*time.Minute))+`"}`, "")
	h.mustRun("get", host, "*")
	if got := h.kept(host); got.Secret == later {
		t.Error("renewed a token with 11 minutes left")
	}
}

func TestGetFetchesForAListedLoginServer(t *testing.T) {
	h := newHelper(t)
	// Another name of the stub server, listed as a registry's login server.
	ls := strings.Replace(h.Server.Host(), "127.0.0.1", "localhost", 1)
	tok := jwt(time.Now().Add(3 * time.Hour))
	h.Register(
		clitest.Stub{Method: "GET", Path: "/api/registries",
			Reply: `{"value":[{"id":"/registries/b","name":"blogbuildtest","type":"registries","properties":{"loginServer":"` + ls + `"}}]}`},
		exchangeStub(ls, `{"refresh_token":"`+tok+`"}`),
	)
	h.mustRun("get", ls, `{"ServerURL":"`+ls+`","Username":"`+client.NullUser+`","Secret":"`+tok+`"}`)
	h.mustRun("list", "", `{"`+ls+`":"`+client.NullUser+`"}`)
}

func TestGetWhenRenewalFails(t *testing.T) {
	refused := `{"errors":[{"code":"UNAUTHORIZED","message":"invalid identity token: expired"}]}`

	t.Run("the kept token still works", func(t *testing.T) {
		h := newHelper(t)
		host := h.Server.Host()
		soon := jwt(time.Now().Add(5 * time.Minute))
		h.mustRun("store", `{"ServerURL":"`+host+`","Username":"`+client.NullUser+`","Secret":"`+soon+`"}`, "")
		st := exchangeStub(host, refused)
		st.Status = 401
		h.Register(st)
		h.mustRun("get", host, `{"ServerURL":"`+host+`","Username":"`+client.NullUser+`","Secret":"`+soon+`"}`)
		if !strings.Contains(h.ErrOut.String(), "could not be renewed: invalid identity token: expired") {
			t.Errorf("stderr %q", h.ErrOut)
		}
	})
	t.Run("the kept token expired", func(t *testing.T) {
		h := newHelper(t)
		host := h.Server.Host()
		h.mustRun("store", `{"ServerURL":"`+host+`","Username":"`+client.NullUser+`","Secret":"`+jwt(time.Now().Add(-time.Minute))+`"}`, "")
		st := exchangeStub(host, refused)
		st.Status = 401
		h.Register(st)
		h.mustFail("get", host, "the registry token for "+host+" expired and could not be renewed (run `berth login`): invalid identity token: expired")
	})
	t.Run("not logged in: nothing is sent", func(t *testing.T) {
		h := newHelper(t)
		os.Remove(filepath.Join(h.Dir, "credentials.json"))
		h.mustFail("get", h.Server.Host(), dockerconfig.NotFound)
	})
}

func TestTokenExpiry(t *testing.T) {
	at := time.Unix(1800000000, 0)
	if got, ok := tokenExpiry(jwt(at)); !ok || !got.Equal(at) {
		t.Errorf("got %v, %v", got, ok)
	}
	for _, bad := range []string{"", "opaque-password", "a.b.c", "a." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x"}`)) + ".c"} {
		if _, ok := tokenExpiry(bad); ok {
			t.Errorf("%q has an expiry", bad)
		}
	}
}

// Clients ask for "host/repository" keys and Docker Hub's URL first; those
// are never berth login servers and cost no request.
func TestGetSkipsKeysThatAreNotLoginServers(t *testing.T) {
	h := newHelper(t)
	for _, key := range []string{h.Server.Host() + "/samples/a", "https://index.docker.io/v1/"} {
		h.mustFail("get", key, dockerconfig.NotFound)
		if h.ErrOut.Len() != 0 {
			t.Errorf("%s: stderr %q", key, h.ErrOut)
		}
	}
}
