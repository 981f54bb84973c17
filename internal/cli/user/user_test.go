package user

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

const aliceJSON = `{"id":"/users/alice","name":"alice","type":"users","properties":{"principalId":"p-a","createdAt":"2026-01-02T03:04:05Z"}}`

func put(password string) clitest.Stub {
	return clitest.Stub{Method: "PUT", Path: "/api/users/alice", Status: 201, Body: `{"password":"` + password + `"}`, Reply: aliceJSON}
}

func TestCreate(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdCreate(f) }
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "password flag, json", Args: []string{"-n", "alice", "-p", "password1"}, Stubs: []clitest.Stub{put("password1")},
			Out: "{\n  \"id\": \"/users/alice\",\n  \"name\": \"alice\",\n  \"type\": \"users\",\n  \"properties\": {\n" +
				"    \"principalId\": \"p-a\",\n    \"createdAt\": \"2026-01-02T03:04:05Z\"\n  }\n}\n"},
		{Name: "password from a pipe, tsv", Args: []string{"-n", "alice", "-o", "tsv"}, Stdin: "from-stdin\n",
			Stubs: []clitest.Stub{put("from-stdin")}, Out: "/users/alice\talice\tusers\n"},
		{Name: "query", Args: []string{"-n", "alice", "-p", "password1", "--query", "properties.principalId", "-o", "tsv"},
			Stubs: []clitest.Stub{put("password1")}, Out: "p-a\n"},
		{Name: "exists", Args: []string{"-n", "alice", "-p", "password1"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: "/api/users/alice", Status: 409, Body: `{"password":"password1"}`,
				Reply: `{"error":{"code":"Conflict","message":"user 'alice' already exists"}}`}},
			WantErr: "user 'alice' already exists"},
		{Name: "empty password line", Args: []string{"-n", "alice"}, Stdin: "\n", WantErr: "no password given"},
		{Name: "short password", Args: []string{"-n", "alice", "-p", "short"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: "/api/users/alice", Status: 400, Body: `{"password":"short"}`,
				Reply: `{"error":{"code":"InvalidRequest","message":"password: must have 8 characters or more"}}`}},
			WantErr: "password: must have 8 characters or more"},
		{Name: "not an owner", Args: []string{"-n", "alice", "-p", "password1"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: "/api/users/alice", Status: 403, Body: `{"password":"password1"}`,
				Reply: `{"error":{"code":"AuthorizationFailed","message":"managing users needs the Owner role at /"}}`}},
			WantErr: "managing users needs the Owner role at /"},
		{Name: "name required", Args: []string{"-p", "x"}, WantErr: `required flag(s) "name" not set`},
	})

	// On a terminal the password is asked twice and must match.
	for _, tt := range []struct{ stdin, wantErr string }{{"pw-123456\npw-123456\n", ""}, {"pw-123456\nother\n", "the passwords do not match"}} {
		e := clitest.New(t)
		e.IO.InIsTerminal = true
		e.In.WriteString(tt.stdin)
		if tt.wantErr == "" {
			e.Register(put("pw-123456"))
		}
		err := e.Run(newCmd(e.F), "-n", "alice", "-o", "none")
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
			t.Errorf("stdin %q: error %v, want %q", tt.stdin, err, tt.wantErr)
		}
	}
}

func TestListDeleteReset(t *testing.T) {
	t.Run("list", func(t *testing.T) {
		list := clitest.Stub{Method: "GET", Path: "/api/users", Reply: `{"value":[` + aliceJSON + `,
			{"id":"/users/admin","name":"admin","type":"users","properties":{"principalId":"p-0"}}]}`}
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f) }, []clitest.Case{
			{Name: "tsv", Args: []string{"-o", "tsv"}, Stubs: []clitest.Stub{list}, Out: "/users/alice\talice\tusers\n/users/admin\tadmin\tusers\n"},
			{Name: "query", Args: []string{"--query", "[].name", "-o", "tsv"}, Stubs: []clitest.Stub{list}, Out: "alice\nadmin\n"},
		})
	})
	t.Run("delete", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdDelete(f) }, []clitest.Case{
			{Name: "ok", Args: []string{"-n", "alice"}, Stubs: []clitest.Stub{{Method: "DELETE", Path: "/api/users/alice", Status: 204}}},
			{Name: "absent", Args: []string{"-n", "alice"},
				Stubs:   []clitest.Stub{{Method: "DELETE", Path: "/api/users/alice", Status: 404, Reply: clitest.NotFound("user 'alice'")}},
				WantErr: "user 'alice' was not found"},
		})
	})
	t.Run("reset-password", func(t *testing.T) {
		reset := func(pw string) clitest.Stub {
			return clitest.Stub{Method: "POST", Path: "/api/users/alice/resetPassword", Status: 204, Body: `{"password":"` + pw + `"}`}
		}
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdResetPassword(f) }, []clitest.Case{
			{Name: "flag", Args: []string{"-n", "alice", "-p", "new-password"}, Stubs: []clitest.Stub{reset("new-password")}},
			{Name: "stdin", Args: []string{"-n", "alice"}, Stdin: "piped-password\n", Stubs: []clitest.Stub{reset("piped-password")}},
			{Name: "nothing on stdin", Args: []string{"-n", "alice"}, WantErr: "standard input ended before a line was read"},
		})
	})
}
