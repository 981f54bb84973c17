package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The built helper speaks the protocol under its own name: the verbs are
// its first argument, errors go to standard output alone, exit status 1.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "docker-credential-berth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := t.TempDir()
	run := func(stdin string, args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "BERTH_CONFIG_DIR="+cfg, "BERTH_SERVER=http://127.0.0.1:1")
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	if out, _, code := run(`{"ServerURL":"127.0.3.1:5000","Username":"ci","Secret":"pw"}`, "store"); code != 0 || out != "" {
		t.Fatalf("store: %d %q", code, out)
	}
	if out, _, code := run("127.0.3.1:5000", "get"); code != 0 || out != `{"ServerURL":"127.0.3.1:5000","Username":"ci","Secret":"pw"}`+"\n" {
		t.Fatalf("get: %d %q", code, out)
	}
	if out, _, code := run("", "list"); code != 0 || out != `{"127.0.3.1:5000":"ci"}`+"\n" {
		t.Fatalf("list: %d %q", code, out)
	}
	// Not logged in anywhere: nothing for another registry, quietly.
	if out, errOut, code := run("127.0.9.9:5000", "get"); code != 1 || out != "credentials not found in native keychain\n" || errOut != "" {
		t.Fatalf("get of an unknown registry: %d %q %q", code, out, errOut)
	}
	if out, _, code := run("", "version"); code != 0 || !strings.HasPrefix(out, "docker-credential-berth (berth) ") {
		t.Fatalf("version: %d %q", code, out)
	}
}
