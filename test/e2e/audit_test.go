package e2e

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testserver"
)

// The audit of the network perimeter, as an owner reads it with the CLI
// from a real server: the changes they made, and a request from an address
// the rules refuse.
func TestNetworkAuditThroughCLI(t *testing.T) {
	srv := testserver.Start(t, testserver.Opts{})
	a := newMachine(t, "admin", func(s string) string { return strings.ReplaceAll(s, srv.Password, "<password>") })
	a.berth("login", "--server", srv.URL, "-u", testserver.AdminUser, "-p", srv.Password)
	a.berth("config", "set", "defaults.registry=default")

	if out := a.berth("registry", "list-changes"); out != "[]\n" {
		t.Fatalf("changes before any: %q", out)
	}
	a.berth("network-rule", "add", "--ip-address", "127.0.0.1")
	a.berth("registry", "update", "--default-action", "Deny")
	a.berth("registry", "update", "--default-action", "Deny") // changes nothing

	var changes []struct {
		PrincipalName string         `json:"principalName"`
		PrincipalType string         `json:"principalType"`
		Summary       string         `json:"summary"`
		Changes       map[string]any `json:"changes"`
	}
	a.berthJSON(&changes, "registry", "list-changes", "--since", "1h")
	if len(changes) != 2 || changes[0].PrincipalName != "admin" || changes[0].PrincipalType != "User" ||
		changes[0].Summary != "networkRuleSet.defaultAction: Allow -> Deny" || changes[1].Summary != "networkRuleSet.ipRules: +127.0.0.1" {
		t.Fatalf("changes %+v", changes)
	}
	if out := a.berth("registry", "list-changes", "--top", "1", "--query", "[].summary", "-o", "tsv"); out != "networkRuleSet.defaultAction: Allow -> Deny\n" {
		t.Errorf("newest change: %q", out)
	}

	// A client on 127.0.9.9 is refused; the denial is listed within a flush.
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.9.9")}}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	resp, err := c.Get(srv.URL + "/v2/_catalog")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("from 127.0.9.9: %d, want 403", resp.StatusCode)
	}
	var out string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out = a.berth("registry", "list-denials", "--since", "10m", "-o", "tsv", "--query", "[].[clientIp, method, path, reason]")
		if out != "" || time.Now().After(deadline) {
			break
		}
	}
	if out != "127.0.9.9\tGET\t/v2/_catalog\tdenied\n" {
		t.Errorf("denials: %q", out)
	}
	if msg := a.berthFails("registry", "list-denials", "--since", "yesterday"); !strings.Contains(msg, `Error: since "yesterday": give a duration`) {
		t.Errorf("bad --since: %q", msg)
	}
}
