package mgmt_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// changeList returns the network changes of registry reg, checking the
// list envelope.
func (e *env) changeList(tok, reg, query string) []map[string]any {
	e.t.Helper()
	m := e.must(200, tok, "GET", "/api/registries/"+reg+"/networkChanges"+query, nil)
	vals, ok := m["value"].([]any)
	if !ok {
		e.t.Fatalf("no value array: %v", m)
	}
	out := []map[string]any{}
	for _, v := range vals {
		out = append(out, v.(map[string]any))
	}
	return out
}

func compact(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNetworkChangesRecorded(t *testing.T) {
	e := newEnv(t)
	e.must(201, e.owner, "PUT", "/api/registries/auditreg", nil)
	if got := e.changeList(e.owner, "auditreg", ""); len(got) != 0 {
		t.Fatalf("a new registry has changes: %v", got)
	}
	before := time.Now().Add(-time.Second)
	e.must(200, e.owner, "PATCH", "/api/registries/auditreg",
		`{"properties":{"publicNetworkAccess":"Disabled","networkRuleSet":{"defaultAction":"Deny","ipRules":[{"value":"10.0.0.0/24"},{"value":"127.0.0.1"}]}}}`)

	got := e.changeList(e.owner, "auditreg", "")
	if len(got) != 1 {
		t.Fatalf("changes %v, want one", got)
	}
	c := got[0]
	wantKeys(t, "change", c, "time", "registry", "principalName", "principalId", "principalType", "summary", "changes")
	owner := e.must(200, e.owner, "GET", "/api/users/admin", nil)
	if c["registry"] != "auditreg" || c["principalName"] != "admin" || c["principalType"] != "User" ||
		c["principalId"] != props(t, owner)["principalId"] {
		t.Errorf("change %v", c)
	}
	if at, err := time.Parse(time.RFC3339Nano, c["time"].(string)); err != nil || at.Before(before) || at.After(time.Now()) {
		t.Errorf("time %v: %v", c["time"], err)
	}
	const want = `{"networkRuleSet.defaultAction":{"from":"Allow","to":"Deny"},` +
		`"networkRuleSet.ipRules":{"added":["10.0.0.0/24","127.0.0.1"],"removed":[]},` +
		`"publicNetworkAccess":{"from":"Enabled","to":"Disabled"}}`
	if got := compact(t, c["changes"]); got != want {
		t.Errorf("changes\n%s\nwant\n%s", got, want)
	}
	if c["summary"] != "networkRuleSet.defaultAction: Allow -> Deny; networkRuleSet.ipRules: +10.0.0.0/24 +127.0.0.1; publicNetworkAccess: Enabled -> Disabled" {
		t.Errorf("summary %q", c["summary"])
	}

	// Nothing changed: nothing recorded. Neither by the same values again,
	// nor by another property, nor by a refused change.
	for _, body := range []string{
		`{"properties":{"publicNetworkAccess":"disabled","networkRuleSet":{"ipRules":[{"value":"10.0.0.7/24"},{"value":"127.0.0.1"}]}}}`,
		`{"properties":{"adminUserEnabled":true}}`,
	} {
		e.must(200, e.owner, "PATCH", "/api/registries/auditreg", body)
	}
	for _, body := range []string{
		`{"properties":{"publicNetworkAccess":"Enabled","networkRuleSet":{"ipRules":[{"value":"10.0.0.0/33"}]}}}`,
		`{"properties":{"networkRuleBypassOptions":"Sometimes"}}`,
	} {
		if r := e.call(e.owner, "PATCH", "/api/registries/auditreg", body); r.status != 400 {
			t.Errorf("PATCH %s: %d %s", body, r.status, r.body)
		}
	}
	if got := e.changeList(e.owner, "auditreg", ""); len(got) != 1 {
		t.Errorf("PATCHes that changed nothing were recorded: %v", got)
	}

	// Each change names only what it changed; newest first.
	bob := e.newUser("bob", "Contributor", "/registries/auditreg")
	e.must(200, bob, "PATCH", "/api/registries/auditreg",
		`{"properties":{"networkRuleSet":{"ipRules":[{"value":"127.0.0.1"},{"value":"127.0.1.0/24"}]},"networkRuleBypassOptions":"None","networkRuleBypassAllowedForTasks":true}}`)
	e.must(200, e.owner, "PATCH", "/api/registries/auditreg",
		`{"properties":{"networkRuleSet":{"ipRules":[{"value":"127.0.1.0/24"},{"value":"127.0.0.1"}]}}}`)
	got = e.changeList(e.owner, "auditreg", "")
	if len(got) != 3 || got[1]["principalName"] != "bob" || got[0]["principalName"] != "admin" {
		t.Fatalf("changes %v", got)
	}
	if want := `{"networkRuleBypassAllowedForTasks":{"from":false,"to":true},"networkRuleBypassOptions":{"from":"AzureServices","to":"None"},` +
		`"networkRuleSet.ipRules":{"added":["127.0.1.0/24"],"removed":["10.0.0.0/24"]}}`; compact(t, got[1]["changes"]) != want {
		t.Errorf("bob's change\n%s\nwant\n%s", compact(t, got[1]["changes"]), want)
	}
	if want := `{"networkRuleSet.ipRules":{"added":[],"removed":[],"reordered":true}}`; compact(t, got[0]["changes"]) != want {
		t.Errorf("reordering\n%s\nwant\n%s", compact(t, got[0]["changes"]), want)
	}
	if got[0]["summary"] != "networkRuleSet.ipRules: reordered" {
		t.Errorf("summary %q", got[0]["summary"])
	}

	// top and since.
	if got := e.changeList(e.owner, "auditreg", "?top=1"); len(got) != 1 || got[0]["principalName"] != "admin" {
		t.Errorf("top=1: %v", got)
	}
	if got := e.changeList(e.owner, "auditreg", "?since=1h"); len(got) != 3 {
		t.Errorf("since=1h: %d changes, want 3", len(got))
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
	if got := e.changeList(e.owner, "auditreg", "?since="+future); len(got) != 0 {
		t.Errorf("since an hour from now: %v", got)
	}
	if got := e.changeList(e.owner, "auditreg", "?since="+url.QueryEscape(before.Format(time.RFC3339Nano))); len(got) != 3 {
		t.Errorf("since the start: %d changes, want 3", len(got))
	}

	// Deleting a registry takes its audit; a new one of the same name starts afresh.
	e.must(204, e.owner, "DELETE", "/api/registries/auditreg", nil)
	e.must(201, e.owner, "PUT", "/api/registries/auditreg", nil)
	if got := e.changeList(e.owner, "auditreg", ""); len(got) != 0 {
		t.Errorf("a recreated registry has its predecessor's changes: %v", got)
	}
}

func TestNetworkAuditQueries(t *testing.T) {
	e := newEnv(t)
	e.must(201, e.owner, "PUT", "/api/registries/auditreg", nil)
	reader := e.newUser("reader", "Reader", "/registries/auditreg")
	puller := e.newUser("puller", "AcrPull", "/registries/auditreg")
	other := e.newUser("other", "Owner", "/registries/default")
	for _, kind := range []string{"networkDenials", "networkChanges"} {
		path := "/api/registries/auditreg/" + kind
		t.Run(kind, func(t *testing.T) {
			for _, q := range []string{"", "?since=30m", "?since=7d", "?since=1d12h", "?since=2026-01-02T15:04:05Z", "?top=1000"} {
				m := e.must(200, reader, "GET", path+q, nil)
				if v, ok := m["value"].([]any); !ok || len(v) != 0 {
					t.Errorf("%s%s: %v", path, q, m)
				}
			}
			for _, c := range []struct{ query, msg string }{
				{"?since=yesterday", `since "yesterday": give a duration such as 30m, 24h or 7d, or an RFC 3339 time`},
				{"?since=7", `since "7"`},
				{"?since=-1h", `since "-1h": the duration must be more than zero`},
				{"?since=0s", "more than zero"},
				{"?since=2026-01-02", `since "2026-01-02"`},
				{"?top=0", `top "0": give a whole number from 1 to 1000`},
				{"?top=1001", `top "1001"`},
				{"?top=ten", `top "ten"`},
			} {
				r := e.call(reader, "GET", path+c.query, nil)
				if r.status != 400 || r.errorCode(t) != "InvalidRequest" || !strings.Contains(r.message(t), c.msg) {
					t.Errorf("%s: %d %s, want 400 naming %q", c.query, r.status, r.body, c.msg)
				}
			}
			for who, tok := range map[string]string{"AcrPull": puller, "an owner of another registry": other} {
				if r := e.call(tok, "GET", path, nil); r.status != 403 || !strings.Contains(r.message(t), "Reader, Contributor or Owner") {
					t.Errorf("%s: %d %s, want 403", who, r.status, r.body)
				}
			}
			if r := e.call("", "GET", path, nil); r.status != 401 {
				t.Errorf("no token: %d", r.status)
			}
			if r := e.call(e.owner, "GET", "/api/registries/nosuchreg/"+kind, nil); r.status != 404 {
				t.Errorf("unknown registry: %d %s", r.status, r.body)
			}
		})
	}
}

// Private endpoint connections are part of the perimeter: their creation,
// each change of state, and their deletion are recorded; a decision that
// leaves the state as it was is not.
func TestPrivateEndpointChangesRecorded(t *testing.T) {
	e := newEnv(t)
	const pe = "/api/registries/default/privateEndpointConnections/pe1"
	e.must(201, e.owner, "PUT", pe, `{"properties":{"address":"127.0.4.1:5001"}}`)
	e.must(200, e.owner, "POST", pe+"/approve", nil)
	e.must(200, e.owner, "POST", pe+"/approve", `{"description":"only the description"}`)
	e.must(200, e.owner, "POST", pe+"/reject", nil)
	e.must(204, e.owner, "DELETE", pe, nil)
	if r := e.call(e.owner, "POST", pe+"/approve", nil); r.status != 404 {
		t.Errorf("approve a deleted endpoint: %d", r.status)
	}
	var got []string
	for _, c := range e.changeList(e.owner, "default", "") {
		got = append(got, compact(t, c["changes"])+" | "+c["summary"].(string)+" | "+c["principalName"].(string))
	}
	want := []string{
		`{"privateEndpointConnections/pe1":{"address":"127.0.4.1:5001","from":"Rejected","to":null}} | privateEndpointConnections/pe1: Rejected -> none | admin`,
		`{"privateEndpointConnections/pe1":{"address":"127.0.4.1:5001","from":"Approved","to":"Rejected"}} | privateEndpointConnections/pe1: Approved -> Rejected | admin`,
		`{"privateEndpointConnections/pe1":{"address":"127.0.4.1:5001","from":"Pending","to":"Approved"}} | privateEndpointConnections/pe1: Pending -> Approved | admin`,
		`{"privateEndpointConnections/pe1":{"address":"127.0.4.1:5001","from":null,"to":"Pending"}} | privateEndpointConnections/pe1: none -> Pending | admin`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
