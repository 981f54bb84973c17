package regclient_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/regclient"
)

// A client with a token of its own mints one before the first request,
// and a new one when the registry says the last has expired; it never
// asks the challenge's token endpoint.
func TestMintedTokenIsRenewedOn401(t *testing.T) {
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	valid := "Bearer t2"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != valid {
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="x"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Write(manifest)
	}))
	defer srv.Close()
	var minted []string
	c := regclient.New(regclient.Options{PlainHTTP: true, Token: func(context.Context) (string, error) {
		minted = append(minted, fmt.Sprintf("t%d", len(minted)+1))
		return minted[len(minted)-1], nil
	}})
	ref, _ := regclient.ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/app:v1")
	_, d, err := c.Manifest(context.Background(), ref, "v1")
	if err != nil || d.Digest != oci.FromBytes(manifest) {
		t.Fatalf("manifest: %v %v", d, err)
	}
	if len(minted) != 2 {
		t.Errorf("minted %v, want t1 then t2 after the 401", minted)
	}
	if _, _, err := c.Manifest(context.Background(), ref, "v1"); err != nil || len(minted) != 2 {
		t.Errorf("second request: %v, minted %v: want t2 kept", err, minted)
	}
	valid = "Bearer never"
	if _, _, err := c.Manifest(context.Background(), ref, "v1"); err == nil || len(minted) != 3 {
		t.Errorf("a refused new token: %v, minted %v: want an error after one renewal", err, minted)
	}
}
