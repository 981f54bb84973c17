package cli

import (
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/cli/clitest"
)

// Through the root, as a user runs them: errors of the server and of the
// command line print "Error: <message>" on standard error, nothing on
// standard output, and exit 1.
func TestCommandErrorsThroughRoot(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		stubs []clitest.Stub
		want  string
	}{
		{"server's 404", []string{"registry", "show", "-n", "nope1"},
			[]clitest.Stub{{Method: "GET", Path: "/api/registries/nope1", Status: 404, Reply: clitest.NotFound("registry 'nope1'")}},
			"Error: registry 'nope1' was not found\n"},
		{"server's 403", []string{"user", "list"},
			[]clitest.Stub{{Method: "GET", Path: "/api/users", Status: 403,
				Reply: `{"error":{"code":"AuthorizationFailed","message":"listing users needs the Owner role at /"}}`}},
			"Error: listing users needs the Owner role at /\n"},
		{"delete refused in a pipe", []string{"registry", "delete", "-n", "blogbuildtest"}, nil,
			"Error: refusing to delete registry \"blogbuildtest\" and all its content without confirmation: give --yes (standard input is not a terminal to ask on)\n"},
		{"scope map delete refused in a pipe", []string{"scope-map", "delete", "-r", "r", "-n", "m"}, nil,
			"Error: refusing to delete scope map \"m\" of registry \"r\" without confirmation: give --yes (standard input is not a terminal to ask on)\n"},
		{"bad --repository", []string{"token", "create", "-r", "r", "-n", "t", "--repository", "samples/*"}, nil,
			"Error: --repository samples/*: give one or more actions after the repository: content/read, content/write, content/delete, metadata/read, metadata/write\n"},
		{"missing flag", []string{"sp", "show"}, nil, "Error: required flag(s) \"id\" not set\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := clitest.New(t)
			e.Register(tt.stubs...)
			r := run(t, e.Dir, "y\n", tt.args...)
			if r.code != 1 || r.out != "" || r.errOut != tt.want {
				t.Errorf("got %+v\nwant code 1, stderr %q", r, tt.want)
			}
		})
	}
}

// The hidden credential helper speaks the protocol through the root: the
// message on standard output for the client, exit 1, and nothing on
// standard error, which clients show their users.
func TestCredentialHelperThroughRoot(t *testing.T) {
	e := clitest.New(t)
	r := run(t, e.Dir, `{"ServerURL":"127.0.3.1:5000","Username":"ci","Secret":"pw"}`, "credential-helper", "store")
	if r.code != 0 || r.out != "" {
		t.Fatalf("store: %+v", r)
	}
	r = run(t, e.Dir, "127.0.3.1:5000", "credential-helper", "get")
	if r.code != 0 || r.out != `{"ServerURL":"127.0.3.1:5000","Username":"ci","Secret":"pw"}`+"\n" {
		t.Fatalf("get: %+v", r)
	}
	r = run(t, e.Dir, "127.0.3.1:5000", "credential-helper", "erase")
	if r.code != 0 {
		t.Fatalf("erase: %+v", r)
	}
	r = run(t, e.Dir, "127.0.3.1:5000", "credential-helper", "erase")
	const nf = "credentials not found in native keychain"
	if r.code != 1 || r.out != nf+"\n" || r.errOut != "" {
		t.Fatalf("erase again: %+v", r)
	}
	// Hidden from help, present for the helper binary.
	if r := run(t, e.Dir, "", "--help"); strings.Contains(r.out, "credential-helper") || !strings.Contains(r.out, "scope-map") {
		t.Errorf("root help:\n%s", r.out)
	}
}
