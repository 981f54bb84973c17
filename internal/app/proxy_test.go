package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/config"
)

// TestForwardedClientIP checks that only a configured trusted proxy may
// name the client: a forged X-Forwarded-For or Forwarded from anyone else
// is ignored, and the denial names the TCP peer.
func TestForwardedClientIP(t *testing.T) {
	addr := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{addr}
	cfg.TrustedProxies = []string{"127.0.5.0/24"}
	startServer(t, cfg)
	m := newMatrixEnv(t, nil, addr)
	m.patch(`{"networkRuleSet":{"defaultAction":"Deny","ipRules":[{"action":"Allow","value":"127.0.0.1"}]}}`)

	for _, c := range []struct {
		name, peer, header, value string
		status                    int
		deniedIP                  string
	}{
		{"forged XFF from an untrusted peer", "127.0.9.9", "X-Forwarded-For", "127.0.0.1", 403, "127.0.9.9"},
		{"forged Forwarded from an untrusted peer", "127.0.9.9", "Forwarded", "for=127.0.0.1", 403, "127.0.9.9"},
		{"trusted proxy names an allowed client", "127.0.5.1", "X-Forwarded-For", "127.0.0.1", 401, ""},
		{"trusted proxy names an allowed client (Forwarded)", "127.0.5.1", "Forwarded", `for="127.0.0.1:5555"`, 401, ""},
		{"trusted proxy names a denied client", "127.0.5.1", "X-Forwarded-For", "127.0.0.1, 127.0.9.9", 403, "127.0.9.9"},
		{"trusted proxy without a header is the client", "127.0.5.1", "", "", 403, "127.0.5.1"},
		{"garbage from a trusted proxy", "127.0.5.1", "X-Forwarded-For", "127.0.0.1, nonsense", 403, "127.0.5.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://"+addr+"/v2/", nil)
			if c.header != "" {
				req.Header.Set(c.header, c.value)
			}
			resp, err := from(c.peer).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, b, c.status)
			}
			if c.deniedIP != "" && !strings.Contains(string(b), "client with IP '"+c.deniedIP+"' is not allowed") {
				t.Errorf("body %s does not name %s", b, c.deniedIP)
			}
		})
	}
}

func TestBadTrustedProxyRefused(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.TrustedProxies = []string{"10.0.0.0/24", "not-an-ip"}
	_, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "pw", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "trustedProxies") || !strings.Contains(err.Error(), "not-an-ip") {
		t.Fatalf("app.New with a bad trusted proxy: %v", err)
	}
}
