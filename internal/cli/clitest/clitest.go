// Package clitest is what the command tests share: an HTTP server of stubs,
// in the manner of cli/cli's httpmock, that fails the test on a request no
// stub expects and on a stub no request used; and an environment with a
// Factory logged in to that server. Only tests import it.
package clitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/userconfig"
)

// IdentityToken is the identity token the environment is logged in with.
const IdentityToken = "identity-token"

// Stub answers one expected request.
type Stub struct {
	Method string
	Path   string // with "?query" when the query matters (compared decoded)
	// Body is the JSON the request must carry (compared as JSON, so key
	// order and spacing do not matter); "" means no body.
	Body string
	// Form, when set, is the form-encoded body the request must carry
	// instead.
	Form url.Values
	// Check, when set, is given the request's body in place of the Body
	// comparison: for a body that is not JSON, such as an upload.
	Check func(t *testing.T, body []byte)
	// NoAuth says the request must carry no Authorization header (token
	// endpoints); otherwise it must carry the identity token.
	NoAuth bool
	// Auth, when set, is the exact Authorization header the request must
	// carry instead of the identity token (data-plane calls, which send
	// registry credentials).
	Auth string

	Status int    // 200 when 0
	Reply  string // the answer's body

	used bool
}

// Server is an httptest server of stubs.
type Server struct {
	*httptest.Server
	t     *testing.T
	mu    sync.Mutex
	stubs []*Stub
}

// NewServer starts a stub server and checks, when the test ends, that every
// stub was used.
func NewServer(t *testing.T) *Server {
	s := &Server{t: t}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, st := range s.stubs {
			if !st.used {
				t.Errorf("expected %s %s, which was never called", st.Method, st.Path)
			}
		}
	})
	return s
}

// Host returns the server's host:port.
func (s *Server) Host() string { return strings.TrimPrefix(s.URL, "http://") }

// Register adds stubs; they match in the order given.
func (s *Server) Register(stubs ...Stub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range stubs {
		st := stubs[i]
		s.stubs = append(s.stubs, &st)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	var st *Stub
	for _, x := range s.stubs {
		if !x.used && x.Method == r.Method && pathMatches(x.Path, r.URL) {
			st, x.used = x, true
			break
		}
	}
	s.mu.Unlock()
	if st == nil {
		s.t.Errorf("unexpected request %s %s %s", r.Method, r.URL.RequestURI(), body)
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, `{"error":{"code":"Unexpected","message":"no stub for this request"}}`)
		return
	}
	auth := r.Header.Get("Authorization")
	switch {
	case st.Auth != "":
		if auth != st.Auth {
			s.t.Errorf("%s %s: Authorization %q, want %q", r.Method, r.URL.Path, auth, st.Auth)
		}
	case st.NoAuth && auth != "":
		s.t.Errorf("%s %s: sent Authorization %q, want none", r.Method, r.URL.Path, auth)
	case !st.NoAuth && auth != "Bearer "+IdentityToken:
		s.t.Errorf("%s %s: Authorization %q, want the identity token", r.Method, r.URL.Path, auth)
	}
	switch {
	case st.Check != nil:
		st.Check(s.t, body)
	case st.Form != nil:
		got, err := url.ParseQuery(string(body))
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			s.t.Errorf("%s %s: Content-Type %q, want a form", r.Method, r.URL.Path, ct)
		}
		if err != nil || !reflect.DeepEqual(got, st.Form) {
			s.t.Errorf("%s %s: form %v, want %v", r.Method, r.URL.Path, got, st.Form)
		}
	case st.Body == "" && len(body) > 0:
		s.t.Errorf("%s %s: body %s, want none", r.Method, r.URL.Path, body)
	case st.Body != "":
		if !JSONEqual(string(body), st.Body) {
			s.t.Errorf("%s %s: body\n%s\nwant\n%s", r.Method, r.URL.Path, body, st.Body)
		}
	}
	status := st.Status
	if status == 0 {
		status = http.StatusOK
	}
	if st.Reply != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	io.WriteString(w, st.Reply)
}

func pathMatches(want string, u *url.URL) bool {
	p, q, hasQuery := strings.Cut(want, "?")
	if p != u.Path {
		return false
	}
	if !hasQuery {
		return u.RawQuery == ""
	}
	wq, _ := url.ParseQuery(q)
	return reflect.DeepEqual(wq, u.Query())
}

// JSONEqual reports whether a and b are the same JSON value.
func JSONEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// NotFound is the management API's 404 answer for what.
func NotFound(what string) string {
	return `{"error":{"code":"NotFound","message":"` + what + ` was not found"}}`
}

// Env is a command's environment: streams on buffers, a config directory of
// its own, and a login to a stub server that is also the configured server.
type Env struct {
	T      *testing.T
	Server *Server
	F      *cmdutil.Factory
	IO     *cmdutil.IOStreams
	Dir    string // the berth config directory
	In     *bytes.Buffer
	Out    *bytes.Buffer
	ErrOut *bytes.Buffer
}

// New returns an Env logged in (with IdentityToken, valid an hour) to a new
// stub server, with BERTH_SERVER naming it and no default registry.
func New(t *testing.T) *Env {
	srv := NewServer(t)
	t.Setenv("BERTH_SERVER", srv.URL)
	t.Setenv("BERTH_DEFAULTS_REGISTRY", "")
	t.Setenv(userconfig.EnvDir, "")
	dir := t.TempDir()
	cfg, err := userconfig.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.SaveLogin(userconfig.Login{Server: srv.URL, Principal: "alice", PrincipalType: "user",
		Token: IdentityToken, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ios, in, out, errOut := cmdutil.Test()
	return &Env{T: t, Server: srv, F: cmdutil.NewFactory(ios, dir, "test"), IO: ios, Dir: dir, In: in, Out: out, ErrOut: errOut}
}

// Register adds stubs to the server.
func (e *Env) Register(stubs ...Stub) { e.Server.Register(stubs...) }

// Run executes cmd with args, as the root would (errors returned, not
// printed), after emptying the output buffers.
func (e *Env) Run(cmd *cobra.Command, args ...string) error {
	e.Out.Reset()
	e.ErrOut.Reset()
	cmd.SetArgs(args)
	cmd.SetIn(e.IO.In)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	return cmd.ExecuteContext(context.Background())
}

// Case is one run of a command in a table test.
type Case struct {
	Name    string
	Args    []string
	Stubs   []Stub
	Stdin   string
	Out     string // exact standard output
	ErrOut  string // exact standard error
	WantErr string // the error, exactly; "" means success
}

// RunCases runs each case with a fresh command from newCmd in a fresh Env
// and checks its output and error.
func RunCases(t *testing.T, newCmd func(f *cmdutil.Factory) *cobra.Command, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			e := New(t)
			e.Register(c.Stubs...)
			e.In.WriteString(c.Stdin)
			err := e.Run(newCmd(e.F), c.Args...)
			switch {
			case c.WantErr == "" && err != nil:
				t.Fatalf("error: %v", err)
			case c.WantErr != "" && (err == nil || err.Error() != c.WantErr):
				t.Fatalf("error %v, want %q", err, c.WantErr)
			}
			if got := e.Out.String(); got != c.Out {
				t.Errorf("stdout:\n%s\nwant:\n%s", got, c.Out)
			}
			if e.ErrOut.String() != c.ErrOut {
				t.Errorf("stderr %q, want %q", e.ErrOut.String(), c.ErrOut)
			}
		})
	}
}
