package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/storage/meta"
)

// audit reads one of the default registry's audit lists.
func (e *netEnv) audit(kind string) []map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+e.addr+"/api/registries/default/"+kind, nil)
	req.Header.Set("Authorization", "Bearer "+e.tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var l struct{ Value []map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d %v", kind, resp.StatusCode, err)
	}
	return l.Value
}

func adminToken(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.PostForm("http://"+addr+"/identity/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var id struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&id)
	return id.AccessToken
}

// Denials reach the audit with who, what and where; changes of the network
// settings are recorded with their author, and only when they change
// something.
func TestNetworkAudit(t *testing.T) {
	addr := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{addr}
	startServer(t, cfg)
	e := &netEnv{t: t, addr: addr, tok: adminToken(t, addr)}
	nobody := from("127.0.9.9")

	if status, body := e.patch(`{"networkRuleSet":{"defaultAction":"Deny","ipRules":[{"value":"127.0.0.1"}]}}`); status != 200 {
		t.Fatalf("set rules: %d %s", status, body)
	}
	req, _ := http.NewRequest("DELETE", "http://"+addr+"/v2/lib/app/manifests/v1", nil)
	resp, err := nobody.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("DELETE from a denied address: %d", resp.StatusCode)
	}

	var denials []map[string]any
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if denials = e.audit("networkDenials"); len(denials) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(denials) != 1 {
		t.Fatalf("denials %v, want one within 5s", denials)
	}
	d := denials[0]
	if d["clientIp"] != "127.0.9.9" || d["method"] != "DELETE" || d["path"] != "/v2/lib/app/manifests/v1" ||
		d["reason"] != "denied" || d["registry"] != "default" || d["identity"] != "" {
		t.Errorf("denial %v", d)
	}
	if at, err := time.Parse(time.RFC3339Nano, d["time"].(string)); err != nil || time.Since(at) > time.Minute || time.Since(at) < 0 {
		t.Errorf("denial time %v: %v", d["time"], err)
	}

	changes := e.audit("networkChanges")
	if len(changes) != 1 {
		t.Fatalf("changes %v, want one", changes)
	}
	c := changes[0]
	b, _ := json.Marshal(c["changes"])
	if c["principalName"] != "admin" || c["principalType"] != "User" || c["principalId"] == "" ||
		string(b) != `{"networkRuleSet.defaultAction":{"from":"Allow","to":"Deny"},"networkRuleSet.ipRules":{"added":["127.0.0.1"],"removed":[]}}` {
		t.Errorf("change %v %s", c, b)
	}

	// Nothing changed, or a change refused: nothing recorded.
	if status, body := e.patch(`{"networkRuleSet":{"defaultAction":"deny","ipRules":[{"value":" 127.0.0.1 "}]}}`); status != 200 {
		t.Fatalf("same rules again: %d %s", status, body)
	}
	if status, body := e.patch(`{"publicNetworkAccess":"Disabled","networkRuleSet":{"ipRules":[{"value":"10.0.0.0/33"}]}}`); status != 400 {
		t.Fatalf("bad rule: %d %s", status, body)
	}
	if changes := e.audit("networkChanges"); len(changes) != 1 {
		t.Errorf("changes after a no-op and a refused PATCH: %v", changes)
	}

	// The buffer's drops are counted, next to the denials.
	_, metrics, _ := e.get(from("127.0.0.1"), "/metrics")
	if !strings.Contains(metrics, "berth_network_denials_dropped_total 0") ||
		!strings.Contains(metrics, `berth_network_denied_total{reason="denied",registry="default"} 1`) {
		t.Errorf("metrics lack the audit's counters")
	}
}

// A denial made just before shutdown is written before the store closes.
func TestNetworkAuditFlushedAtShutdown(t *testing.T) {
	addr := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{addr}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "pw", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	e := &netEnv{t: t, addr: addr, tok: adminToken(t, addr)}
	if status, body := e.patch(`{"publicNetworkAccess":"Disabled"}`); status != 200 {
		t.Fatalf("disable public access: %d %s", status, body)
	}
	if status, _, _ := e.get(from("127.0.9.9"), "/v2/"); status != 403 {
		t.Fatalf("denied address: %d", status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	db, err := meta.OpenSQLite(t.Context(), filepath.Join(cfg.DataDir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg, err := db.Registry(t.Context(), "default")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := db.NetworkDenials(t.Context(), reg.ID, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ClientIP != "127.0.9.9" || ds[0].Reason != "public-access-disabled" || ds[0].Path != "/v2/" {
		t.Errorf("denials after shutdown: %+v", ds)
	}
}
