package mgmt_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const apPath = "/api/registries/default/agentPools"

// A dedicated pool is created, listed, shown, changed and deleted; its
// answer has the shape of the contract, names the endpoint it uses and the
// egress its agents leave from, and never shows its token.
func TestAgentPools(t *testing.T) {
	e := newEnv(t)
	before := time.Now().Add(-time.Second)
	e.must(201, e.owner, "PUT", pePath+"/pe1", `{"properties":{"address":"127.0.2.1:5001"}}`)

	m := e.must(201, e.owner, "PUT", apPath+"/vnetpool", `{"properties":{"count":2,"privateEndpoint":"pe1"}}`)
	wantKeys(t, "pool", m, "id", "name", "type", "properties")
	if m["id"] != "/registries/default/agentPools/vnetpool" || m["name"] != "vnetpool" || m["type"] != "agentPools" {
		t.Errorf("pool %v", m)
	}
	p := props(t, m)
	wantKeys(t, "pool properties", p, "kind", "count", "privateEndpoint", "location", "egressPrefixes", "createdAt")
	if p["kind"] != "dedicated" || p["count"] != 2.0 || p["privateEndpoint"] != "pe1" || p["location"] != "local" ||
		fmt.Sprint(p["egressPrefixes"]) != "[127.0.2.1/32]" {
		t.Errorf("properties %v", p)
	}
	if at, err := time.Parse(time.RFC3339, p["createdAt"].(string)); err != nil || at.Before(before) {
		t.Errorf("createdAt %v %v", p["createdAt"], err)
	}
	// Without an endpoint: one agent, and an address of the pool's own,
	// allotted to every pool at its creation (vnetpool has 127.0.10.1).
	m = e.must(201, e.owner, "PUT", apPath+"/plain", nil)
	if p := props(t, m); p["count"] != 1.0 || p["privateEndpoint"] != "" || fmt.Sprint(p["egressPrefixes"]) != "[127.0.10.2/32]" {
		t.Errorf("a pool without an endpoint: %v", p)
	}
	m = e.must(201, e.owner, "PUT", apPath+"/plain2", `{"properties":{"count":0}}`)
	if p := props(t, m); p["count"] != 0.0 || fmt.Sprint(p["egressPrefixes"]) != "[127.0.10.3/32]" {
		t.Errorf("a second pool: %v", p)
	}
	if got := e.names(e.owner, apPath); !slices.Equal(got, []string{"plain", "plain2", "vnetpool"}) {
		t.Errorf("list %v", got)
	}
	for _, path := range []string{apPath, apPath + "/vnetpool"} {
		if r := e.call(e.owner, "GET", path, nil); bytes.Contains(bytes.ToLower(r.body), []byte("token")) {
			t.Errorf("GET %s shows a token: %s", path, r.body)
		}
	}

	// PATCH merges: the count alone, then detaching the endpoint.
	m = e.must(200, e.owner, "PATCH", apPath+"/vnetpool", `{"properties":{"count":3}}`)
	if p := props(t, m); p["count"] != 3.0 || p["privateEndpoint"] != "pe1" {
		t.Errorf("after PATCH count: %v", p)
	}
	if r := e.call(e.owner, "DELETE", pePath+"/pe1", nil); r.status != 409 || !strings.Contains(r.message(t), "used by the agent pool vnetpool") {
		t.Errorf("delete of an endpoint a pool uses: %d %s", r.status, r.body)
	}
	m = e.must(200, e.owner, "PATCH", apPath+"/vnetpool", `{"properties":{"privateEndpoint":""}}`)
	if p := props(t, m); p["count"] != 3.0 || p["privateEndpoint"] != "" || fmt.Sprint(p["egressPrefixes"]) != "[127.0.10.1/32]" {
		t.Errorf("after detaching: %v", p)
	}
	if got := e.must(200, e.owner, "GET", apPath+"/vnetpool", nil); fmt.Sprint(got) != fmt.Sprint(m) {
		t.Errorf("show %v, want what PATCH answered %v", got, m)
	}
	e.must(204, e.owner, "DELETE", pePath+"/pe1", nil)

	e.must(204, e.owner, "DELETE", apPath+"/plain", nil)
	for _, c := range []struct{ method, path string }{
		{"GET", apPath + "/plain"}, {"DELETE", apPath + "/plain"}, {"PATCH", apPath + "/plain"},
		{"GET", "/api/registries/nosuchreg/agentPools"},
	} {
		if r := e.call(e.owner, c.method, c.path, `{"properties":{"count":1}}`); r.status != 404 || r.errorCode(t) != "NotFound" {
			t.Errorf("%s %s: %d %s, want 404", c.method, c.path, r.status, r.body)
		}
	}
	// The freed address goes to the next pool.
	if p := props(t, e.must(201, e.owner, "PUT", apPath+"/again", nil)); fmt.Sprint(p["egressPrefixes"]) != "[127.0.10.2/32]" {
		t.Errorf("a pool after a delete: %v", p)
	}

	// Another registry's pools are its own; they go with it.
	e.must(201, e.owner, "PUT", "/api/registries/otherregistry", nil)
	e.must(201, e.owner, "PUT", "/api/registries/otherregistry/agentPools/vnetpool", nil)
	if got := e.names(e.owner, "/api/registries/otherregistry/agentPools"); !slices.Equal(got, []string{"vnetpool"}) {
		t.Errorf("other registry lists %v", got)
	}
	e.must(204, e.owner, "DELETE", "/api/registries/otherregistry", nil)
	e.must(201, e.owner, "PUT", "/api/registries/otherregistry", nil)
	if got := e.names(e.owner, "/api/registries/otherregistry/agentPools"); len(got) != 0 {
		t.Errorf("a registry created again lists %v", got)
	}
}

// Bad requests are refused with a clear error, and nothing is stored.
func TestAgentPoolErrors(t *testing.T) {
	e := newEnv(t)
	e.must(201, e.owner, "PUT", pePath+"/pe1", `{"properties":{"address":"127.0.2.1:5001"}}`)
	e.must(201, e.owner, "PUT", "/api/registries/otherregistry", nil)
	e.must(201, e.owner, "PUT", "/api/registries/otherregistry/privateEndpointConnections/theirs", `{"properties":{"address":"127.0.2.2:5001"}}`)
	e.must(201, e.owner, "PUT", apPath+"/taken", nil)
	before := string(e.call(e.owner, "GET", apPath, nil).body)
	for _, c := range []struct {
		method, name, body string
		status             int
		code, msg          string
	}{
		{"PUT", "taken", "", 409, "Conflict", `agent pool "taken" of registry "default" already exists`},
		{"PUT", "local", "", 409, "Conflict", "the server has a public pool of that name"},
		{"PUT", "bad.name", "", 400, "InvalidRequest", "an agent pool name is 1 to 64 letters"},
		{"PUT", strings.Repeat("x", 65), "", 400, "InvalidRequest", "an agent pool name is 1 to 64 letters"},
		{"PUT", "p", `{"properties":{"count":11}}`, 400, "InvalidRequest", "properties.count 11: give 0 to 10 agents"},
		{"PUT", "p", `{"properties":{"count":-1}}`, 400, "InvalidRequest", "give 0 to 10 agents"},
		{"PUT", "p", `{"properties":{"count":"two"}}`, 400, "InvalidRequest", "properties.count"},
		{"PUT", "p", `{"properties":{"privateEndpoint":"nope"}}`, 400, "InvalidRequest", `properties.privateEndpoint "nope": registry "default" has no private endpoint connection of that name`},
		{"PUT", "p", `{"properties":{"privateEndpoint":"theirs"}}`, 400, "InvalidRequest", "has no private endpoint connection of that name"},
		{"PUT", "p", `{"properties":{"token":"mine"}}`, 400, "InvalidRequest", `unknown field "token"`},
		{"PATCH", "taken", `{"properties":{"count":99}}`, 400, "InvalidRequest", "give 0 to 10 agents"},
		{"PATCH", "taken", `{"properties":{"privateEndpoint":"nope"}}`, 400, "InvalidRequest", "has no private endpoint connection"},
		{"PATCH", "taken", `{}`, 400, "InvalidRequest", "give count, privateEndpoint, or both"},
		{"PATCH", "taken", ``, 400, "InvalidRequest", "needs a JSON body"},
		{"PATCH", "taken", `{"properties":{"kind":"public"}}`, 400, "InvalidRequest", `unknown field "kind"`},
	} {
		r := e.call(e.owner, c.method, apPath+"/"+c.name, c.body)
		if r.status != c.status || r.errorCode(t) != c.code || !strings.Contains(r.message(t), c.msg) {
			t.Errorf("%s %s %s: %d %s, want %d %s %q", c.method, c.name, c.body, r.status, r.body, c.status, c.code, c.msg)
		}
	}
	if after := string(e.call(e.owner, "GET", apPath, nil).body); after != before {
		t.Errorf("refused calls changed the pools:\n%s\nwant\n%s", after, before)
	}
}

// Reader and above read pools; Contributor and Owner change them; AcrPush,
// AcrPull and roles elsewhere do neither.
func TestAgentPoolRoles(t *testing.T) {
	e := newEnv(t)
	e.must(201, e.owner, "PUT", apPath+"/pool1", nil)
	e.must(201, e.owner, "PUT", "/api/registries/otherregistry", nil)
	tokens := map[string]string{
		"reader":      e.newUser("reader", "Reader", "/registries/default"),
		"contributor": e.newUser("contributor", "Contributor", "/registries/default"),
		"pusher":      e.newUser("pusher", "AcrPush", "/registries/default"),
		"elsewhere":   e.newUser("elsewhere", "Owner", "/registries/otherregistry"),
	}
	for _, c := range []struct {
		who         string
		read, write bool
	}{
		{"reader", true, false},
		{"contributor", true, true},
		{"pusher", false, false},
		{"elsewhere", false, false},
	} {
		tok := tokens[c.who]
		for _, r := range []struct {
			method, path, body string
			write              bool
			ok                 int
		}{
			{"GET", apPath, "", false, 200},
			{"GET", apPath + "/pool1", "", false, 200},
			{"PUT", apPath + "/new-" + c.who, "", true, 201},
			{"PATCH", apPath + "/pool1", `{"properties":{"count":2}}`, true, 200},
			{"DELETE", apPath + "/new-" + c.who, "", true, 204},
		} {
			want := 403
			if r.write && c.write || !r.write && c.read {
				want = r.ok
			}
			if got := e.call(tok, r.method, r.path, r.body); got.status != want {
				t.Errorf("%s: %s %s = %d %s, want %d", c.who, r.method, r.path, got.status, got.body, want)
			}
		}
	}
	if r := e.call("", "GET", apPath, nil); r.status != 401 {
		t.Errorf("no token: %d", r.status)
	}
}

// A run may be queued on a dedicated pool of its registry; a pool with a
// run that has not ended cannot be deleted, and a pool whose endpoint is
// not approved takes no run.
func TestAgentPoolRuns(t *testing.T) {
	e := newEnv(t)
	ctxID := e.uploadContext(e.owner)
	e.must(201, e.owner, "PUT", pePath+"/pe1", `{"properties":{"address":"127.0.2.1:5001"}}`)
	e.must(201, e.owner, "PUT", apPath+"/vnetpool", `{"properties":{"privateEndpoint":"pe1"}}`)
	e.must(201, e.owner, "PUT", "/api/registries/otherregistry", nil)
	e.must(201, e.owner, "PUT", "/api/registries/otherregistry/agentPools/theirs", nil)
	queue := func(pool string) result {
		return e.call(e.owner, "POST", "/api/registries/default/runs",
			map[string]any{"images": []string{"app:v1"}, "agentPool": pool, "contextId": ctxID})
	}
	if r := queue("vnetpool"); r.status != 400 || !strings.Contains(r.message(t), `through private endpoint "pe1", which is Pending: approve it first`) {
		t.Errorf("queue on a pool whose endpoint is pending: %d %s", r.status, r.body)
	}
	if r := queue("theirs"); r.status != 400 || !strings.Contains(r.message(t), `agentPool "theirs": no such agent pool`) {
		t.Errorf("queue on another registry's pool: %d %s", r.status, r.body)
	}
	e.must(200, e.owner, "POST", pePath+"/pe1/approve", nil)
	r := queue("vnetpool")
	if r.status != 201 || props(t, r.json(t))["agentPool"] != "vnetpool" {
		t.Fatalf("queue on the pool: %d %s", r.status, r.body)
	}
	if r := e.call(e.owner, "DELETE", apPath+"/vnetpool", nil); r.status != 409 || !strings.Contains(r.message(t), "has runs that have not ended (ca1)") {
		t.Errorf("delete of a pool with a queued run: %d %s", r.status, r.body)
	}
	e.must(200, e.owner, "POST", "/api/registries/default/runs/ca1/cancel", nil)
	e.must(204, e.owner, "DELETE", apPath+"/vnetpool", nil)
}
