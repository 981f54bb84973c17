package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/config"
)

// from returns a client whose connections leave from a loopback address.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

type netEnv struct {
	t    *testing.T
	addr string
	tok  string
}

func (e *netEnv) get(client *http.Client, path string) (int, string, http.Header) {
	e.t.Helper()
	resp, err := client.Get("http://" + e.addr + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (e *netEnv) patch(props string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("PATCH", "http://"+e.addr+"/api/registries/default", strings.NewReader(`{"properties":`+props+`}`))
	req.Header.Set("Authorization", "Bearer "+e.tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *netEnv) network() map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+e.addr+"/api/registries/default", nil)
	req.Header.Set("Authorization", "Bearer "+e.tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct{ Properties map[string]any }
	json.NewDecoder(resp.Body).Decode(&r)
	return r.Properties
}

func TestNetworkGate(t *testing.T) {
	addr := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{addr}
	startServer(t, cfg)
	resp, err := http.PostForm("http://"+addr+"/identity/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"pw"}})
	if err != nil {
		t.Fatal(err)
	}
	var id struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&id)
	resp.Body.Close()
	e := &netEnv{t: t, addr: addr, tok: id.AccessToken}
	vm, agent, nobody := from("127.0.0.1"), from("127.0.1.10"), from("127.0.9.9")

	// Defaults: public access, default Allow, trusted services allowed.
	n := e.network()
	if n["publicNetworkAccess"] != "Enabled" || n["networkRuleBypassOptions"] != "AzureServices" ||
		n["networkRuleBypassAllowedForTasks"] != false || fmt.Sprint(n["networkRuleSet"]) != "map[defaultAction:Allow ipRules:[]]" {
		t.Fatalf("default network properties %v", n)
	}
	if status, _, _ := e.get(nobody, "/v2/"); status != 401 {
		t.Fatalf("default Allow: %d, want 401 (the gate passes, then authentication)", status)
	}

	// Deny by default, allow the user's machine.
	if status, body := e.patch(`{"networkRuleSet":{"defaultAction":"Deny","ipRules":[{"action":"Allow","value":" 127.0.0.1 "}]}}`); status != 200 {
		t.Fatalf("set rules: %d %s", status, body)
	}
	want := `{"errors":[{"code":"DENIED","message":"client with IP '127.0.9.9' is not allowed access. Refer docs/network.md to grant access."}]}`
	for _, path := range []string{"/v2/", "/v2/_catalog", "/oauth2/token?scope=repository:a:pull", "/acr/v1/_catalog"} {
		status, body, _ := e.get(nobody, path)
		if status != 403 || body != want {
			t.Errorf("%s from a denied address: %d %s, want 403 %s", path, status, body, want)
		}
	}
	if status, _, h := e.get(vm, "/v2/"); status != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer ") {
		t.Errorf("from an allowed address: %d %q, want 401 with a challenge", status, h.Get("WWW-Authenticate"))
	}
	if status, _, _ := e.get(agent, "/v2/"); status != 403 {
		t.Errorf("the agent pool's egress address before its rule: %d, want 403", status)
	}
	// The management plane is not behind a registry's firewall.
	if status, _, _ := e.get(nobody, "/api/openapi.json"); status != 200 {
		t.Errorf("management API from a denied address: %d", status)
	}

	// The service tag names the agent pool's egress; a rule for it lets agents in.
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/serviceTags?location=local", nil)
	req.Header.Set("Authorization", "Bearer "+e.tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var tags struct {
		Values []struct {
			ID         string
			Properties struct{ AddressPrefixes []string }
		}
	}
	if err := json.Unmarshal(b, &tags); err != nil || len(tags.Values) != 1 || tags.Values[0].ID != "BerthTasks.local" ||
		fmt.Sprint(tags.Values[0].Properties.AddressPrefixes) != "[127.0.1.0/24]" {
		t.Fatalf("service tags %d %s", resp.StatusCode, b)
	}
	if status, body := e.patch(`{"networkRuleSet":{"ipRules":[{"value":"127.0.0.1"},{"value":"127.0.1.0/24"}]}}`); status != 200 {
		t.Fatalf("add the service tag's prefix: %d %s", status, body)
	}
	if status, _, _ := e.get(agent, "/v2/"); status != 401 {
		t.Errorf("the agent's egress after its rule: %d, want 401", status)
	}

	// Bad input: clear errors, and the settings stay as they were.
	before := fmt.Sprint(e.network())
	var hundredOne []string
	for i := 0; i < 101; i++ {
		hundredOne = append(hundredOne, fmt.Sprintf(`{"value":"10.0.%d.%d"}`, i/250, i%250))
	}
	for _, c := range []struct{ props, msg string }{
		{`{"networkRuleSet":{"ipRules":[{"value":"::1"}]}}`, "IPv4 only"},
		{`{"networkRuleSet":{"ipRules":[{"value":"10.0.0.0/33"}]}}`, "10.0.0.0/33"},
		{`{"networkRuleSet":{"ipRules":[{"value":"not-an-ip"}]}}`, "not-an-ip"},
		{`{"networkRuleSet":{"ipRules":[` + strings.Join(hundredOne, ",") + `]}}`, "100"},
		{`{"networkRuleSet":{"defaultAction":"Maybe"}}`, "Allow or Deny"},
		{`{"publicNetworkAccess":"Sometimes"}`, "Enabled or Disabled"},
	} {
		status, body := e.patch(c.props)
		if status != 400 || !strings.Contains(body, c.msg) || !strings.Contains(body, "InvalidRequest") {
			t.Errorf("PATCH %.60s: %d %s, want 400 naming %q", c.props, status, body, c.msg)
		}
	}
	if after := fmt.Sprint(e.network()); after != before {
		t.Errorf("refused changes changed the settings:\n%s\n%s", before, after)
	}

	// Stray whitespace is trimmed, a CIDR is masked, a rule given twice is
	// kept once, and overlapping rules are both kept (the gate merges them).
	if status, body := e.patch(`{"networkRuleSet":{"ipRules":[{"value":" 10.1.2.3/24 "},{"value":"10.1.2.0/24"},{"value":"10.1.2.5"},{"value":"127.0.0.1"}]}}`); status != 200 {
		t.Fatalf("overlapping rules: %d %s", status, body)
	}
	if got := fmt.Sprint(e.network()["networkRuleSet"]); got != "map[defaultAction:Deny ipRules:[map[action:Allow value:10.1.2.0/24] map[action:Allow value:10.1.2.5] map[action:Allow value:127.0.0.1]]]" {
		t.Errorf("normalised rules: %s", got)
	}

	// No public access at all: even the allowed address is refused.
	if status, body := e.patch(`{"publicNetworkAccess":"Disabled"}`); status != 200 {
		t.Fatalf("disable public access: %d %s", status, body)
	}
	if status, _, _ := e.get(vm, "/v2/"); status != 403 {
		t.Errorf("public access disabled, from an allowed address: %d, want 403", status)
	}

	// Every denial is counted.
	_, metrics, _ := e.get(vm, "/metrics")
	if !bytes.Contains([]byte(metrics), []byte(`berth_network_denied_total{reason="denied",registry="default"}`)) ||
		!bytes.Contains([]byte(metrics), []byte(`berth_network_denied_total{reason="public-access-disabled",registry="default"}`)) {
		t.Errorf("denials are not in /metrics")
	}
}
