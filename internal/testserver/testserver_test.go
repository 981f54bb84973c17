package testserver

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(mod), "module github.com/berth-project/berth\n") {
		t.Fatalf("%s/go.mod is not berth's: %.60q", root, mod)
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := newTailBuffer()
	chunk := strings.Repeat("x", 1000) + "\n"
	for i := 0; i < tailSize/len(chunk)+10; i++ {
		b.Write([]byte(chunk))
	}
	b.Write([]byte("last line\n"))
	got := b.String()
	if !strings.HasPrefix(got, "[…]") || !strings.HasSuffix(got, "last line\n") {
		t.Fatalf("tail buffer lost its ends: starts %.10q, ends %q", got, got[len(got)-20:])
	}
	if n := len(got) - len("[…]"); n != tailSize {
		t.Fatalf("tail buffer holds %d bytes, want %d", n, tailSize)
	}
}

func status(t *testing.T, s *Server, url, user, password string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp
}

func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// TestServerLifecycle checks the contract every end-to-end test relies on:
// health, Basic auth as admin, stop, crash and restart on the same data.
func TestServerLifecycle(t *testing.T) {
	s := Start(t, Opts{})

	if r := status(t, s, s.URL+"/healthz", "", ""); r.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz = %s, want 200", r.Status)
	}
	r := status(t, s, s.URL+"/v2/", "", "")
	if r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("GET /v2/ without credentials = %s, WWW-Authenticate %q; want 401 with a challenge",
			r.Status, r.Header.Get("WWW-Authenticate"))
	}
	if r := status(t, s, s.URL+"/v2/", AdminUser, s.Password+"x"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /v2/ with a wrong password = %s, want 401", r.Status)
	}
	if r := status(t, s, s.URL+"/v2/", AdminUser, s.Password); r.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ as admin = %s, want 200", r.Status)
	}

	addr, dataDir, first := s.Addr, s.DataDir, s.PID
	s.Restart(t)
	if s.PID == first || alive(first) {
		t.Fatalf("restart kept the old process %d (new %d)", first, s.PID)
	}
	if s.Addr != addr || s.DataDir != dataDir {
		t.Fatalf("restart moved the server: %s %s -> %s %s", addr, dataDir, s.Addr, s.DataDir)
	}
	if r := status(t, s, s.URL+"/v2/", AdminUser, s.Password); r.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ after restart = %s, want 200", r.Status)
	}

	crashed := s.PID
	s.Kill()
	if exited, _ := s.Exited(); !exited || alive(crashed) {
		t.Fatalf("Kill left process %d running", crashed)
	}
	s.Restart(t)
	if r := status(t, s, s.URL+"/healthz", "", ""); r.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz after a crash and restart = %s, want 200", r.Status)
	}

	last := s.PID
	s.Stop()
	if exited, err := s.Exited(); !exited || err != nil {
		t.Fatalf("after Stop: exited=%v err=%v, want a clean exit", exited, err)
	}
	if alive(last) {
		t.Fatalf("Stop left process %d running", last)
	}
	s.Stop() // a second Stop is harmless
}

func TestExtraListen(t *testing.T) {
	s := Start(t, Opts{ExtraListen: []string{"127.0.0.1:0"}})
	if len(s.Listen) != 2 || s.Listen[0] != s.Addr || strings.HasSuffix(s.Listen[1], ":0") {
		t.Fatalf("Listen = %q, want Addr and one chosen port", s.Listen)
	}
	for _, addr := range s.Listen {
		if r := status(t, s, "http://"+addr+"/healthz", "", ""); r.StatusCode != http.StatusOK {
			t.Errorf("GET http://%s/healthz = %s, want 200", addr, r.Status)
		}
	}
}

func TestToolPath(t *testing.T) {
	p := Tool(t, "crane")
	if filepath.Base(p) != "crane" || filepath.Base(filepath.Dir(p)) != "bin" {
		t.Fatalf("Tool(crane) = %s, want <repo>/bin/crane", p)
	}
}
