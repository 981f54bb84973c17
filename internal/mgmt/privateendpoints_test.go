package mgmt_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/config"
)

const pePath = "/api/registries/default/privateEndpointConnections"

func TestPrivateEndpointConnections(t *testing.T) {
	e := newEnv(t)
	before := time.Now().Add(-time.Second)
	m := e.must(201, e.owner, "PUT", pePath+"/pe1", `{"properties":{"address":"127.0.4.1:5001","description":"from the build network"}}`)
	wantKeys(t, "endpoint", m, "id", "name", "type", "properties")
	if m["id"] != "/registries/default/privateEndpointConnections/pe1" || m["name"] != "pe1" || m["type"] != "privateEndpointConnections" {
		t.Errorf("endpoint %v", m)
	}
	p := props(t, m)
	wantKeys(t, "endpoint properties", p, "address", "privateLinkServiceConnectionState", "createdAt")
	if p["address"] != "127.0.4.1:5001" || fmt.Sprint(p["privateLinkServiceConnectionState"]) != "map[description:from the build network status:Pending]" {
		t.Errorf("properties %v", p)
	}
	if at, err := time.Parse(time.RFC3339, p["createdAt"].(string)); err != nil || at.Before(before) {
		t.Errorf("createdAt %v %v", p["createdAt"], err)
	}

	// Addresses are stored in one spelling.
	m = e.must(201, e.owner, "PUT", pePath+"/pe2", `{"properties":{"address":" [::ffff:127.0.4.2]:05002 "}}`)
	if p := props(t, m); p["address"] != "127.0.4.2:5002" || fmt.Sprint(p["privateLinkServiceConnectionState"]) != "map[description: status:Pending]" {
		t.Errorf("normalised %v", p)
	}
	e.must(201, e.owner, "PUT", pePath+"/pe3", `{"properties":{"address":"[::1]:5003"}}`)
	e.must(201, e.owner, "PUT", pePath+"/pe4", `{"properties":{"address":"LocalHost:5004"}}`)

	state := func(name string) string {
		t.Helper()
		m := e.must(200, e.owner, "GET", pePath+"/"+name, nil)
		s := props(t, m)["privateLinkServiceConnectionState"].(map[string]any)
		return s["status"].(string) + "/" + s["description"].(string)
	}
	if got := e.names(e.owner, pePath); !slices.Equal(got, []string{"pe1", "pe2", "pe3", "pe4"}) {
		t.Errorf("list %v", got)
	}
	m = e.must(200, e.owner, "POST", pePath+"/pe1/approve", `{"description":"ok for builds"}`)
	if got := fmt.Sprint(props(t, m)["privateLinkServiceConnectionState"]); got != "map[description:ok for builds status:Approved]" {
		t.Errorf("approve answered %s", got)
	}
	if got := state("pe1"); got != "Approved/ok for builds" {
		t.Errorf("after approve: %s", got)
	}
	e.must(200, e.owner, "POST", pePath+"/pe1/reject", nil) // no body: the description stays
	if got := state("pe1"); got != "Rejected/ok for builds" {
		t.Errorf("after reject: %s", got)
	}
	e.must(200, e.owner, "POST", pePath+"/pe1/approve", `{}`)
	if got := state("pe1"); got != "Approved/ok for builds" {
		t.Errorf("approved again: %s", got)
	}

	// The registry shows its connections, the same objects.
	reg := e.must(200, e.owner, "GET", "/api/registries/default", nil)
	conns, _ := props(t, reg)["privateEndpointConnections"].([]any)
	if len(conns) != 4 || conns[0].(map[string]any)["id"] != "/registries/default/privateEndpointConnections/pe1" ||
		fmt.Sprint(conns[0]) != fmt.Sprint(e.must(200, e.owner, "GET", pePath+"/pe1", nil)) {
		t.Errorf("registry's privateEndpointConnections %v", conns)
	}
	other := e.must(201, e.owner, "PUT", "/api/registries/otherregistry", nil)
	if got := fmt.Sprint(props(t, other)["privateEndpointConnections"]); got != "[]" {
		t.Errorf("a registry without endpoints shows %s, want []", got)
	}

	e.must(204, e.owner, "DELETE", pePath+"/pe2", nil)
	if r := e.call(e.owner, "GET", pePath+"/pe2", nil); r.status != 404 || !strings.Contains(r.message(t), `"pe2"`) {
		t.Errorf("show deleted: %d %s", r.status, r.body)
	}
	for _, c := range []struct{ method, path string }{
		{"DELETE", pePath + "/pe2"}, {"POST", pePath + "/pe2/approve"}, {"POST", pePath + "/pe2/reject"},
		{"GET", "/api/registries/nosuchreg/privateEndpointConnections"},
	} {
		if r := e.call(e.owner, c.method, c.path, nil); r.status != 404 || r.errorCode(t) != "NotFound" {
			t.Errorf("%s %s: %d %s, want 404", c.method, c.path, r.status, r.body)
		}
	}
	// Another registry's endpoints are not this one's.
	if got := e.names(e.owner, "/api/registries/otherregistry/privateEndpointConnections"); len(got) != 0 {
		t.Errorf("other registry lists %v", got)
	}
	// Deleting the registry deletes its endpoints, and frees their addresses.
	e.must(201, e.owner, "PUT", "/api/registries/otherregistry/privateEndpointConnections/x", `{"properties":{"address":"127.0.4.9:5009"}}`)
	e.must(204, e.owner, "DELETE", "/api/registries/otherregistry", nil)
	e.must(201, e.owner, "PUT", pePath+"/reuse", `{"properties":{"address":"127.0.4.9:5009"}}`)
}

// Bad requests are refused with a clear error, and nothing is stored.
func TestPrivateEndpointConnectionErrors(t *testing.T) {
	e := newEnv(t)
	e.must(201, e.owner, "PUT", pePath+"/taken", `{"properties":{"address":"127.0.4.1:6000"}}`)
	before := string(e.call(e.owner, "GET", pePath, nil).body)
	for _, c := range []struct {
		name, body string
		status     int
		code, msg  string
	}{
		{"taken", `{"properties":{"address":"127.0.4.2:6000"}}`, 409, "Conflict", `"taken" of registry "default" already exists`},
		{"dup", `{"properties":{"address":"127.0.4.1:6000"}}`, 409, "Conflict", "another private endpoint listens there"},
		{"dup2", `{"properties":{"address":"[::ffff:127.0.4.1]:6000"}}`, 409, "Conflict", "another private endpoint listens there"},
		{"public", `{"properties":{"address":"127.0.0.1:5000"}}`, 409, "Conflict", "the server already listens there"},
		{"public2", `{"properties":{"address":"localhost:5000"}}`, 409, "Conflict", "the server already listens there"},
		{"noport", `{"properties":{"address":"127.0.4.3"}}`, 400, "InvalidRequest", "want HOST:PORT"},
		{"name", `{"properties":{"address":"not-an-ip:5000"}}`, 400, "InvalidRequest", "must be an IP address or localhost"},
		{"port0", `{"properties":{"address":"127.0.4.3:0"}}`, 400, "InvalidRequest", "from 1 to 65535"},
		{"port70000", `{"properties":{"address":"127.0.4.3:70000"}}`, 400, "InvalidRequest", "from 1 to 65535"},
		{"portname", `{"properties":{"address":"127.0.4.3:http"}}`, 400, "InvalidRequest", "from 1 to 65535"},
		{"any", `{"properties":{"address":"0.0.0.0:6001"}}`, 400, "InvalidRequest", "the one address"},
		{"plain", `{"properties":{"address":"10.1.2.3:6001"}}`, 400, "InvalidRequest", "--insecure"},
		{"empty", `{"properties":{"address":""}}`, 400, "InvalidRequest", "properties.address: give the HOST:PORT"},
		{"noprops", `{}`, 400, "InvalidRequest", "properties.address: give the HOST:PORT"},
		{"nobody", ``, 400, "InvalidRequest", "needs a JSON body"},
		{"unknown", `{"properties":{"address":"127.0.4.3:6001","state":"Approved"}}`, 400, "InvalidRequest", `unknown field "state"`},
		{"type", `{"properties":{"address":6001}}`, 400, "InvalidRequest", "properties.address: want a string"},
		{"long", `{"properties":{"address":"127.0.4.3:6001","description":"` + strings.Repeat("x", 1025) + `"}}`, 400, "InvalidRequest", "at most 1024"},
		{"bad name!", `{"properties":{"address":"127.0.4.3:6001"}}`, 400, "InvalidRequest", "a private endpoint name is"},
	} {
		r := e.call(e.owner, "PUT", pePath+"/"+strings.ReplaceAll(c.name, " ", "%20"), c.body)
		if r.status != c.status || r.errorCode(t) != c.code || !strings.Contains(r.message(t), c.msg) {
			t.Errorf("%s: %d %s, want %d %s naming %q", c.name, r.status, r.body, c.status, c.code, c.msg)
		}
	}
	if after := string(e.call(e.owner, "GET", pePath, nil).body); after != before {
		t.Errorf("refused requests changed the endpoints:\n%s\n%s", before, after)
	}
	if r := e.call(e.owner, "POST", pePath+"/taken/approve", `{"description":7}`); r.status != 400 {
		t.Errorf("approve with a bad body: %d %s", r.status, r.body)
	}
	if r := e.call(e.owner, "GET", pePath+"/taken", nil); !strings.Contains(string(r.body), `"Pending"`) {
		t.Errorf("a refused approve changed the state: %s", r.body)
	}
}

// With TLS or --insecure, non-loopback addresses are allowed, as for the
// public listeners.
func TestPrivateEndpointNonLoopback(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) { c.Insecure = true })
	e.must(201, e.owner, "PUT", pePath+"/lan", `{"properties":{"address":"10.1.2.3:6001"}}`)
}

// Reading needs a role on the registry; changing needs Contributor or Owner.
func TestPrivateEndpointAuthorization(t *testing.T) {
	e := newEnv(t)
	e.must(201, e.owner, "PUT", pePath+"/pe1", `{"properties":{"address":"127.0.4.1:5001"}}`)
	e.must(201, e.owner, "PUT", "/api/registries/otherregistry", nil)
	reader := e.newUser("rita", "Reader", "/registries/default")
	contributor := e.newUser("carl", "Contributor", "/registries/default")
	pusher := e.newUser("paul", "AcrPush", "/registries/default")
	elsewhere := e.newUser("olga", "Owner", "/registries/otherregistry")
	for _, tok := range []string{reader, contributor} {
		e.must(200, tok, "GET", pePath, nil)
		e.must(200, tok, "GET", pePath+"/pe1", nil)
	}
	for _, tok := range []string{pusher, elsewhere} {
		if r := e.call(tok, "GET", pePath, nil); r.status != 403 {
			t.Errorf("list without a reading role: %d %s", r.status, r.body)
		}
	}
	for _, tok := range []string{reader, pusher, elsewhere} {
		for _, c := range []struct{ method, path, body string }{
			{"PUT", pePath + "/pe2", `{"properties":{"address":"127.0.4.2:5002"}}`},
			{"POST", pePath + "/pe1/approve", ""},
			{"POST", pePath + "/pe1/reject", ""},
			{"DELETE", pePath + "/pe1", ""},
		} {
			var body any
			if c.body != "" {
				body = c.body
			}
			if r := e.call(tok, c.method, c.path, body); r.status != 403 || r.errorCode(t) != "AuthorizationFailed" {
				t.Errorf("%s %s by a non-contributor: %d %s", c.method, c.path, r.status, r.body)
			}
		}
	}
	e.must(200, contributor, "POST", pePath+"/pe1/approve", nil)
	e.must(201, contributor, "PUT", pePath+"/pe2", `{"properties":{"address":"127.0.4.2:5002"}}`)
	e.must(204, contributor, "DELETE", pePath+"/pe2", nil)
	if r := e.call("", "GET", pePath, nil); r.status != 401 {
		t.Errorf("no token: %d", r.status)
	}
}
