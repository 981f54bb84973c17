package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/config"
)

// TestNetworkRulesReachEveryReplica runs two replicas on one metadata
// store: a rule changed through one is enforced by the other within a
// second, with no restart and no request to the store per data-plane
// request (the replica polls the registries version).
func TestNetworkRulesReachEveryReplica(t *testing.T) {
	dir := t.TempDir()
	start := func() string {
		addr := freePort(t, "127.0.0.1")
		cfg := config.Default()
		cfg.DataDir = dir
		cfg.Listen = []string{addr}
		startServer(t, cfg)
		return addr
	}
	a, b := start(), start()
	nobody := from("127.0.9.9")
	status := func(addr string) int {
		resp, err := nobody.Get("http://" + addr + "/v2/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := status(b); s != http.StatusUnauthorized {
		t.Fatalf("replica b before the change: %d, want 401", s)
	}
	m := newMatrixEnv(t, nil, a)
	for _, step := range []struct {
		props string
		want  int
	}{
		{`{"networkRuleSet":{"defaultAction":"Deny"}}`, http.StatusForbidden},
		{`{"networkRuleSet":{"ipRules":[{"action":"Allow","value":"127.0.9.0/24"}]}}`, http.StatusUnauthorized},
		{`{"publicNetworkAccess":"Disabled"}`, http.StatusForbidden},
	} {
		m.patch(step.props)
		changed := time.Now()
		for status(b) != step.want {
			if time.Since(changed) > time.Second {
				t.Fatalf("replica b after %s: still %d after 1s, want %d", step.props, status(b), step.want)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("%s reached replica b after %v", step.props, time.Since(changed).Round(time.Millisecond))
	}
}
