package mgmt_test

import (
	"testing"
)

// The last Owner at / can be neither deleted nor unassigned: nobody could
// manage users and roles again.
func TestLastOwnerStays(t *testing.T) {
	e := newEnv(t)
	ownerAssignment := func() string {
		m := e.must(200, e.owner, "GET", "/api/roleAssignments?assignee=admin&role=Owner&scope=/", nil)
		vals := m["value"].([]any)
		if len(vals) != 1 {
			t.Fatalf("admin's Owner assignments at /: %v", vals)
		}
		return vals[0].(map[string]any)["name"].(string)
	}
	id := ownerAssignment()
	for _, c := range []struct{ method, path string }{
		{"DELETE", "/api/roleAssignments/" + id},
		{"DELETE", "/api/users/admin"},
	} {
		r := e.call(e.owner, c.method, c.path, nil)
		if r.status != 409 || r.errorCode(t) != "Conflict" {
			t.Fatalf("%s %s with the last Owner: %d %s, want 409 Conflict", c.method, c.path, r.status, r.body)
		}
	}
	if got := e.names(e.owner, "/api/users"); len(got) != 1 || got[0] != "admin" {
		t.Fatalf("users after the refusals: %v", got)
	}
	// With a second Owner at /, the first may go.
	e.newUser("alice", "Owner", "/")
	e.must(204, e.owner, "DELETE", "/api/roleAssignments/"+id, nil)
	alice := e.login("alice", "alice-password")
	e.must(204, alice, "DELETE", "/api/users/admin", nil)
	// alice is now the last Owner at /.
	if r := e.call(alice, "DELETE", "/api/users/alice", nil); r.status != 409 {
		t.Fatalf("deleting the new last Owner: %d, want 409", r.status)
	}
}
