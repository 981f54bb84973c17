package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/config"
)

// apiClient calls the management API of a server as its owner.
type apiClient struct {
	t    *testing.T
	base string // http://host:port
	tok  string
}

func newAPIClient(t *testing.T, base string) *apiClient {
	t.Helper()
	resp, err := http.PostForm(base+"/identity/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var id struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&id); err != nil || id.AccessToken == "" {
		t.Fatalf("owner login: %d %v", resp.StatusCode, err)
	}
	return &apiClient{t: t, base: base, tok: id.AccessToken}
}

func (c *apiClient) call(method, path, body string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// must calls and fails the test unless the answer has status want and,
// when given, a private endpoint state of wantState.
func (c *apiClient) must(want int, wantState, method, path, body string) {
	c.t.Helper()
	status, b := c.call(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
	}
	if wantState != "" && !strings.Contains(b, `"status":"`+wantState+`"`) {
		c.t.Fatalf("%s %s: %s, want the state %s", method, path, b, wantState)
	}
}

// refused reports whether nothing listens on addr: a dial is refused.
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// waitFor polls cond until it holds, and fails the test after 2 s: how
// long a listener may take to follow an approval, rejection or deletion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 2s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func getWith(t *testing.T, c *http.Client, u, host string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// Create (pending, nothing listens) → approve (serving, private-link
// traffic for the gate, one registry only, no management plane) → reject
// (refused, open connections end) → approve → delete (closed).
func TestPrivateEndpointLifecycle(t *testing.T) {
	pub, teamPub := freePort(t, "127.0.0.1"), freePort(t, "127.0.3.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{pub, teamPub}
	cfg.Registries = []config.Registry{{Name: "teamone", LoginServer: teamPub}}
	startServer(t, cfg)
	api := newAPIClient(t, "http://"+pub)
	pe := freePort(t, "127.0.8.1")
	const path = "/api/registries/teamone/privateEndpointConnections/build"

	api.must(201, "Pending", "PUT", path, `{"properties":{"address":"`+pe+`","description":"build network"}}`)
	if !refused(pe) {
		t.Fatalf("a pending endpoint listens on %s", pe)
	}

	api.must(200, "Approved", "POST", path+"/approve", "")
	waitFor(t, "the approved endpoint listens", func() bool { return !refused(pe) })
	keepAlive := &http.Client{Transport: &http.Transport{}}
	defer keepAlive.CloseIdleConnections()
	status, _, h := getWith(t, keepAlive, "http://"+pe+"/v2/", "")
	// The client is sent to the endpoint for its token, for teamone's login server.
	if want := `Bearer realm="http://` + pe + `/oauth2/token",service="` + teamPub + `"`; status != 401 || h.Get("WWW-Authenticate") != want {
		t.Fatalf("GET /v2/ on the endpoint: %d %q, want 401 %s", status, h.Get("WWW-Authenticate"), want)
	}
	// The Host header of another registry does not lead elsewhere.
	if status, _, h := getWith(t, http.DefaultClient, "http://"+pe+"/v2/", pub); status != 401 ||
		!strings.Contains(h.Get("WWW-Authenticate"), `service="`+teamPub+`"`) {
		t.Errorf("Host of the default registry on teamone's endpoint: %d %q, want teamone's challenge", status, h.Get("WWW-Authenticate"))
	}
	// Only the data plane is served there.
	for _, p := range []string{"/api/openapi.json", "/api/registries", "/metrics", "/readyz", "/portal/"} {
		if status, _, _ := getWith(t, http.DefaultClient, "http://"+pe+p, ""); status != 404 {
			t.Errorf("GET %s on the endpoint: %d, want 404", p, status)
		}
	}
	if resp, err := http.PostForm("http://"+pe+"/identity/oauth2/token", url.Values{"grant_type": {"password"}}); err != nil || resp.StatusCode != 404 {
		t.Errorf("identity endpoint on the private endpoint: %v %v, want 404", resp, err)
	} else {
		resp.Body.Close()
	}
	if status, body, _ := getWith(t, http.DefaultClient, "http://"+pe+"/oauth2/token?scope=repository:a:pull", ""); status != 401 {
		t.Errorf("token endpoint on the private endpoint: %d %s, want 401 (served, no credentials)", status, body)
	}

	// No public access: the public listener refuses, the endpoint serves.
	api.must(200, "", "PATCH", "/api/registries/teamone", `{"properties":{"publicNetworkAccess":"Disabled"}}`)
	status, body, _ := getWith(t, http.DefaultClient, "http://"+teamPub+"/v2/", "")
	if status != 403 || !strings.Contains(body, `"code":"DENIED"`) || !strings.Contains(body, "client with IP '127.0.0.1' is not allowed access") {
		t.Errorf("public listener with public access disabled: %d %s, want 403 DENIED", status, body)
	}
	if status, _, _ := getWith(t, keepAlive, "http://"+pe+"/v2/", ""); status != 401 {
		t.Errorf("private endpoint with public access disabled: %d, want 401", status)
	}
	// The whole token flow works there: a token from the endpoint, then a call.
	req, _ := http.NewRequest("GET", "http://"+pe+"/oauth2/token?service="+url.QueryEscape(teamPub)+"&scope=registry:catalog:*", nil)
	req.SetBasicAuth(app.AdminUser, "pw")
	resp, err := keepAlive.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("token on the endpoint: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", "http://"+pe+"/v2/_catalog", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if resp, err = keepAlive.Do(req); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != `{"repositories":[]}` {
		t.Errorf("catalog on the endpoint with a token from it: %d %s", resp.StatusCode, b)
	}
	// Another registry keeps its public access.
	if status, _, _ := getWith(t, http.DefaultClient, "http://"+pub+"/v2/", ""); status != 401 {
		t.Errorf("the default registry: %d, want 401", status)
	}

	api.must(200, "Rejected", "POST", path+"/reject", `{"description":"not this network"}`)
	waitFor(t, "the rejected endpoint stops listening", func() bool { return refused(pe) })
	// The connection kept alive before is gone too: a request fails.
	if resp, err := keepAlive.Get("http://" + pe + "/v2/"); err == nil {
		resp.Body.Close()
		t.Errorf("a kept-alive connection still answers after reject: %s", resp.Status)
	}

	api.must(200, "Approved", "POST", path+"/approve", "")
	waitFor(t, "the endpoint approved again listens", func() bool { return !refused(pe) })
	api.must(204, "", "DELETE", path, "")
	waitFor(t, "the deleted endpoint stops listening", func() bool { return refused(pe) })
	api.must(404, "", "GET", path, "")
}

// Nothing listens before Run or after it; an endpoint approved before Run
// listens once Run starts.
func TestPrivateEndpointOnlyWhileRunning(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{freePort(t, "127.0.0.1")}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "pw", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	api := newAPIClient(t, hs.URL)
	pe := freePort(t, "127.0.8.2")
	api.must(201, "Pending", "PUT", "/api/registries/default/privateEndpointConnections/early", `{"properties":{"address":"`+pe+`"}}`)
	api.must(200, "Approved", "POST", "/api/registries/default/privateEndpointConnections/early/approve", "")
	if !refused(pe) {
		t.Fatal("an endpoint listens before Run")
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	waitFor(t, "the endpoint listens once Run starts", func() bool { return !refused(pe) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if !refused(pe) {
		t.Error("the endpoint still listens after Run returned")
	}
}

// An address that cannot be bound is tried again on the next reload.
func TestPrivateEndpointBindRetried(t *testing.T) {
	pub := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{pub}
	startServer(t, cfg)
	api := newAPIClient(t, "http://"+pub)
	squatter, err := net.Listen("tcp", "127.0.8.3:0")
	if err != nil {
		t.Fatal(err)
	}
	pe := squatter.Addr().String()
	const path = "/api/registries/default/privateEndpointConnections/"
	api.must(201, "", "PUT", path+"busy", `{"properties":{"address":"`+pe+`"}}`)
	api.must(200, "Approved", "POST", path+"busy/approve", "")
	squatter.Close()
	if !refused(pe) {
		t.Fatal("something else listens on the freed address")
	}
	// Any change of registries reloads the routes, and with them the listeners.
	api.must(201, "", "PUT", path+"other", `{"properties":{"address":"`+freePort(t, "127.0.8.4")+`"}}`)
	waitFor(t, "the freed address is bound on the next reload", func() bool { return !refused(pe) })
	if status, _, _ := getWith(t, http.DefaultClient, "http://"+pe+"/v2/", ""); status != 401 {
		t.Errorf("GET /v2/ on the endpoint: %d, want 401", status)
	}
}

// With TLS configured, endpoints serve TLS as the public listeners do.
func TestPrivateEndpointTLS(t *testing.T) {
	pub := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{pub}
	cfg.TLS.Cert, cfg.TLS.Key = selfSigned(t)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "pw", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	hs := httptest.NewServer(srv.Handler()) // the API in plain HTTP, for the test's convenience
	defer hs.Close()
	api := newAPIClient(t, hs.URL)
	pe := freePort(t, "127.0.8.5")
	api.must(201, "", "PUT", "/api/registries/default/privateEndpointConnections/tls", `{"properties":{"address":"`+pe+`"}}`)
	api.must(200, "Approved", "POST", "/api/registries/default/privateEndpointConnections/tls/approve", "")
	waitFor(t, "the endpoint listens", func() bool { return !refused(pe) })
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://" + pe + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.TLS == nil || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="https://`) {
		t.Errorf("GET /v2/ over TLS: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp, err := http.Get("http://" + pe + "/v2/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to a TLS endpoint: %s", resp.Status)
		}
	}
}

// selfSigned writes a certificate for 127.0.0.0/8 and its key, and
// returns their paths.
func selfSigned(t *testing.T) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "berth test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("127.0.8.5")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}
