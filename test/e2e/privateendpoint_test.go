package e2e

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The private endpoint half of SCENARIOS.md S6: no public access at all.
// The owner disables public access and reaches the registry only through
// a private endpoint (127.0.2.0/24) created and approved with the berth
// CLI; crane pulls through it, and is refused on the login server.

// peRefused reports whether nothing listens on addr.
func peRefused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// waitUntil polls cond for up to 2 s, the time a listener may take to
// follow a change.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 2s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sameLogin gives server to in docker's config the credentials it keeps
// for from, without showing them in the test's log.
func sameLogin(t *testing.T, path, from, to string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	decodeJSON(t, path, string(b), &cfg)
	auths, _ := cfg["auths"].(map[string]any)
	if auths[from] == nil {
		t.Fatalf("%s has no auths entry for %s", path, from)
	}
	auths[to] = auths[from]
	if b, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestS6PrivateEndpoint(t *testing.T) {
	n := newNetScenario(t)
	o := n.owner
	ln, err := net.Listen("tcp", "127.0.2.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pe := ln.Addr().String()
	ln.Close()
	peRef := pe + "/buildtest/hello-world:v1"
	digest := strings.TrimSpace(o.tool("crane", "--insecure", "digest", n.ref))

	t.Log("== S6: public access off; the login server refuses")
	o.berth("registry", "update", "-n", netReg, "--public-network-enabled", "false")
	o.refused("crane", "--insecure", "manifest", n.ref)

	t.Log("== a private endpoint, pending: nothing listens yet")
	var conn struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Properties struct {
			Address string `json:"address"`
			State   struct {
				Status string `json:"status"`
			} `json:"privateLinkServiceConnectionState"`
		} `json:"properties"`
	}
	o.berthJSON(&conn, "private-endpoint", "create", "-r", netReg, "-n", "pe1", "--address", pe)
	if conn.ID != "/registries/"+netReg+"/privateEndpointConnections/pe1" || conn.Properties.Address != pe || conn.Properties.State.Status != "Pending" {
		t.Fatalf("private-endpoint create answered %+v", conn)
	}
	if !peRefused(pe) {
		t.Fatalf("a pending endpoint listens on %s", pe)
	}
	out := o.berthFails("private-endpoint", "create", "-r", netReg, "-n", "pe2", "--address", pe)
	if !strings.Contains(out, "another private endpoint listens there") {
		t.Errorf("a second endpoint at the same address: %q", out)
	}

	t.Log("== approved: crane pulls through it")
	if got := strings.TrimSpace(o.berth("private-endpoint", "approve", "-r", netReg, "-n", "pe1",
		"--query", "properties.privateLinkServiceConnectionState.status", "-o", "tsv")); got != "Approved" {
		t.Fatalf("approve answered %q", got)
	}
	waitUntil(t, "the approved endpoint listens", func() bool { return !peRefused(pe) })
	// The endpoint is another address of the registry: its clients log in
	// to it as to the login server, with the same registry refresh token.
	sameLogin(t, filepath.Join(o.dockerConfig, "config.json"), n.loginServer, pe)
	if got := strings.TrimSpace(o.tool("crane", "--insecure", "digest", peRef)); got != digest {
		t.Fatalf("digest through the endpoint %q, want %q", got, digest)
	}
	o.tool("crane", "--insecure", "pull", peRef, filepath.Join(o.home, "image.tar"))
	o.refused("crane", "--insecure", "manifest", n.ref) // the login server still refuses
	if got := strings.TrimSpace(o.berth("registry", "show", "-n", netReg, "--query",
		"properties.privateEndpointConnections[].[name, properties.privateLinkServiceConnectionState.status]", "-o", "tsv")); got != "pe1\tApproved" {
		t.Errorf("registry show lists the connections as %q", got)
	}

	t.Log("== rejected: the endpoint closes")
	o.berth("private-endpoint", "reject", "-r", netReg, "-n", "pe1", "--description", "not this network", "-o", "none")
	waitUntil(t, "the rejected endpoint stops listening", func() bool { return peRefused(pe) })
	if got := strings.TrimSpace(o.berth("private-endpoint", "list", "-r", netReg, "-o", "tsv",
		"--query", "[].[name, properties.address, properties.privateLinkServiceConnectionState.status, properties.privateLinkServiceConnectionState.description]")); got != "pe1\t"+pe+"\tRejected\tnot this network" {
		t.Errorf("private-endpoint list: %q", got)
	}

	t.Log("== approved again, then deleted")
	o.berth("private-endpoint", "approve", "-r", netReg, "-n", "pe1", "-o", "none")
	waitUntil(t, "the endpoint approved again listens", func() bool { return !peRefused(pe) })
	o.berth("private-endpoint", "delete", "-r", netReg, "-n", "pe1", "--yes")
	waitUntil(t, "the deleted endpoint stops listening", func() bool { return peRefused(pe) })
	if out := o.berthFails("private-endpoint", "show", "-r", netReg, "-n", "pe1"); !strings.Contains(out, "not found") {
		t.Errorf("show after delete: %q", out)
	}
}
