package app_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/pkg/client"
)

// TestRunCredential checks a run's own credential: while the run lives it
// pulls what its queuer may pull and pushes only to the run's images; it
// never passes the network rules; once the run ends it stops working.
func TestRunCredential(t *testing.T) {
	addr := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{addr}
	cfg.Agent.Enabled = false // the run stays queued: nobody leases it
	srv := startServer(t, cfg)
	ctx := context.Background()
	m := newMatrixEnv(t, srv, addr)
	c, err := client.New("http://"+addr, client.WithTokenSource(client.StaticToken(m.idToken)))
	if err != nil {
		t.Fatal(err)
	}
	runs := c.Runs("default")
	emptyTarGz := emptyContext(t)
	bc, err := runs.UploadContext(ctx, bytes.NewReader(emptyTarGz), int64(len(emptyTarGz)))
	if err != nil {
		t.Fatal(err)
	}
	run, err := runs.QueueBuild(ctx, client.QuickBuild{Images: []string{"app/web:v1"}, ContextID: bc.ContextID})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := srv.RunTokenFor(ctx, "default", run.Name, addr)
	if err != nil {
		t.Fatal(err)
	}
	status := func(scope string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/oauth2/token?service="+addr+"&scope="+scope, nil)
		req.SetBasicAuth("00000000-0000-0000-0000-000000000000", tok)
		resp, err := from("127.0.1.10").Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			AccessToken string `json:"access_token"`
		}
		decodeBody(t, resp, &out)
		return resp.StatusCode, grantedActions(t, out.AccessToken)
	}
	for _, c := range []struct{ scope, want string }{
		{"repository:app/web:pull,push", "pull,push"}, // the run's image
		{"repository:base/busybox:pull,push", "pull"}, // anything the queuer may pull, but no push
		{"repository:app/other:delete", ""},           // never delete
	} {
		if code, got := status(c.scope); code != 200 || got != c.want {
			t.Errorf("%s: %d %q, want 200 %q", c.scope, code, got, c.want)
		}
	}

	// A run's credential never passes the network rules.
	m.patch(`{"networkRuleSet":{"defaultAction":"Deny","ipRules":[{"action":"Allow","value":"127.0.0.1"}]}}`)
	if code, _ := status("repository:app/web:pull"); code != 403 {
		t.Errorf("run credential from a denied address: %d, want 403", code)
	}
	m.patch(`{"networkRuleSet":{"defaultAction":"Allow","ipRules":[]}}`)

	// Once the run ends, its credential stops working at once.
	if _, err := runs.Cancel(ctx, run.Name); err != nil {
		t.Fatal(err)
	}
	if code, _ := status("repository:app/web:pull"); code != 401 {
		t.Errorf("run credential after the run ended: %d, want 401", code)
	}
}

// emptyContext is a build context with an empty Dockerfile.
func emptyContext(t *testing.T) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: 0, Typeflag: tar.TypeReg})
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return b.Bytes()
}

func decodeBody(t *testing.T, resp *http.Response, out any) {
	t.Helper()
	json.NewDecoder(resp.Body).Decode(out)
}

// grantedActions reads the actions an access token grants (its one
// "access" entry), comma-joined; "" when none or no token.
func grantedActions(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Access []struct{ Actions []string }
	}
	json.Unmarshal(b, &claims)
	if len(claims.Access) == 0 {
		return ""
	}
	return strings.Join(claims.Access[0].Actions, ",")
}
