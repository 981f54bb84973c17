package regclient_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
)

func startBerth(t *testing.T) string {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	srv, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "pw", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return strings.TrimPrefix(ts.URL, "http://")
}

// image writes a one-layer image into l and returns its manifest.
func image(t *testing.T, l *ocilayout.Layout, text string) oci.Descriptor {
	t.Helper()
	layer, err := l.PutBytes("application/vnd.oci.image.layer.v1.tar", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := l.PutBytes("application/vnd.oci.image.config.v1+json", []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["`+string(layer.Digest)+`"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": oci.MediaTypeImageManifest, "config": cfg, "layers": []oci.Descriptor{layer}})
	d, err := l.PutBytes(oci.MediaTypeImageManifest, m)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPushPull(t *testing.T) {
	ctx := context.Background()
	host := startBerth(t)
	admin := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw"})

	src, _ := ocilayout.Create(t.TempDir())
	amd := image(t, src, "amd64 layer")
	arm := image(t, src, "arm64 layer")
	amd.Platform = &oci.Platform{OS: "linux", Architecture: "amd64"}
	arm.Platform = &oci.Platform{OS: "linux", Architecture: "arm64"}
	ix, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": oci.MediaTypeImageIndex, "manifests": []oci.Descriptor{arm, amd}})
	index, _ := src.PutBytes(oci.MediaTypeImageIndex, ix)

	ref, err := regclient.ParseReference(host + "/base/busybox:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Ping(ctx, host); err != nil {
		t.Fatalf("ping: %v", err)
	}
	got, err := admin.Push(ctx, src, index, ref)
	if err != nil || got != index.Digest {
		t.Fatalf("push: %s, %v", got, err)
	}

	dst, _ := ocilayout.Create(t.TempDir())
	p, err := admin.Pull(ctx, ref, dst, "linux/amd64")
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if p.Digest != index.Digest || p.Manifest.Digest != amd.Digest {
		t.Fatalf("pulled %+v, want index %s and manifest %s", p, index.Digest, amd.Digest)
	}
	if b, err := dst.Bytes(oci.FromBytes([]byte("amd64 layer"))); err != nil || string(b) != "amd64 layer" {
		t.Fatalf("layer: %q, %v", b, err)
	}
	if dst.Has(oci.FromBytes([]byte("arm64 layer"))) {
		t.Errorf("the other platform's layer was pulled too")
	}
	if _, err := admin.Pull(ctx, ref, dst, "linux/s390x"); err == nil || !strings.Contains(err.Error(), "no image for platform linux/s390x") {
		t.Errorf("pull of a missing platform: %v", err)
	}
	missing, _ := regclient.ParseReference(host + "/base/busybox:nope")
	if _, err := admin.Pull(ctx, missing, dst, "linux/amd64"); err == nil || !strings.HasPrefix(err.Error(), "manifest_unknown: ") {
		t.Errorf("pull of a missing tag: %v", err)
	}
	nobody := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "wrong"})
	if err := nobody.Ping(ctx, host); err == nil || !strings.HasPrefix(err.Error(), "unauthorized: ") {
		t.Errorf("ping with a wrong password: %v", err)
	}
}

// TestEgress checks that connections leave from the egress address: the
// registry's network rules refuse it with the message a run's log shows.
func TestEgress(t *testing.T) {
	ctx := context.Background()
	host := startBerth(t)
	resp, err := http.PostForm("http://"+host+"/identity/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"pw"}})
	if err != nil {
		t.Fatal(err)
	}
	var id struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&id)
	resp.Body.Close()
	req, _ := http.NewRequest("PATCH", "http://"+host+"/api/registries/default",
		strings.NewReader(`{"properties":{"networkRuleSet":{"defaultAction":"Deny","ipRules":[{"action":"Allow","value":"127.0.0.1"}]}}}`))
	req.Header.Set("Authorization", "Bearer "+id.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("set rules: %v %v", resp, err)
	}

	agent := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw", Egress: netip.MustParseAddr("127.0.1.10")})
	err = agent.Ping(ctx, host)
	want := "denied: client with IP '127.0.1.10' is not allowed access. Refer docs/network.md to grant access."
	if err == nil || err.Error() != want || !regclient.IsDenied(err) {
		t.Fatalf("ping from the agent's egress: %v, want %s", err, want)
	}
	vm := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw", Egress: netip.MustParseAddr("127.0.0.1")})
	if err := vm.Ping(ctx, host); err != nil {
		t.Fatalf("ping from an allowed address: %v", err)
	}
}

// TestResolve checks that a registry's name can be reached at another
// address, the name staying in every request: the token flow and the
// registry see the name, the connection goes elsewhere.
func TestResolve(t *testing.T) {
	ctx := context.Background()
	host := startBerth(t)
	var hosts []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts = append(hosts, r.Host)
		r.URL.Scheme, r.URL.Host, r.RequestURI = "http", host, ""
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	at := strings.TrimPrefix(proxy.URL, "http://")
	for _, name := range []string{"registry.invalid:5000", "registry.invalid"} {
		c := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw",
			Resolve: map[string]string{name: at}})
		hosts = nil
		if err := c.Ping(ctx, name); err != nil {
			t.Fatalf("ping %s through %s: %v", name, at, err)
		}
		if len(hosts) == 0 || hosts[0] != name {
			t.Errorf("ping %s: the requests named %v", name, hosts)
		}
	}
}

func TestParseReference(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"127.0.3.1:5000/base/busybox:1", "127.0.3.1:5000/base/busybox:1", ""},
		{"127.0.3.1:5000/hello", "127.0.3.1:5000/hello:latest", ""},
		{"r.example/a/b@sha256:" + strings.Repeat("a", 64), "r.example/a/b@sha256:" + strings.Repeat("a", 64), ""},
		{"busybox:1", "", "login server"},
		{"127.0.0.1:5000/Bad", "", "invalid repository"},
		{"127.0.0.1:5000/a:b@sha256:zz", "", ""},
	} {
		r, err := regclient.ParseReference(c.in)
		switch {
		case c.want != "" && (err != nil || r.String() != c.want):
			t.Errorf("ParseReference(%q) = %q, %v; want %q", c.in, r, err, c.want)
		case c.want == "" && err == nil:
			t.Errorf("ParseReference(%q) = %q, want an error", c.in, r)
		case c.err != "" && err != nil && !strings.Contains(err.Error(), c.err):
			t.Errorf("ParseReference(%q): %v, want %q", c.in, err, c.err)
		}
	}
}
