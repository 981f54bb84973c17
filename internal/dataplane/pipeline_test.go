package dataplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/dataplane"
	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/registry"
)

type passwordAuth struct{}

func (passwordAuth) Authenticate(ctx context.Context, reg registry.Registry, r *http.Request) error {
	if _, pw, ok := r.BasicAuth(); ok && pw == "pw" {
		return nil
	}
	return errcode.Unauthorized.New()
}

func (passwordAuth) Challenge(reg registry.Registry, r *http.Request) string {
	return `Basic realm="` + reg.Name + `"`
}

// api answers by path: /ok, /lock, /boom, /bytes.
type api struct{ served *registry.Registry }

func (a api) Route(r *http.Request) string { return strings.TrimPrefix(r.URL.Path, "/") }

func (a api) Serve(w http.ResponseWriter, r *http.Request, reg registry.Registry) error {
	*a.served = reg
	switch r.URL.Path {
	case "/ok":
		io.WriteString(w, "fine")
		return nil
	case "/lock":
		return &registry.LockError{What: "tag a:b", Attribute: "writeEnabled"}
	case "/unknown":
		return fmt.Errorf("wrapped: %w", registry.ErrManifestUnknown)
	case "/bytes":
		_, err := io.Copy(w, strings.NewReader("streamed"))
		return err
	}
	return errors.New("disk on fire")
}

func TestPipeline(t *testing.T) {
	var served registry.Registry
	type obs struct {
		route  string
		status int
	}
	var seen []obs
	resolve := func(r *http.Request) (registry.Registry, bool) {
		if r.Host == "nobody.example" {
			return registry.Registry{}, false
		}
		return registry.Registry{ID: 7, Name: "default"}, true
	}
	p := dataplane.New(passwordAuth{}, resolve, slog.New(slog.NewTextHandler(io.Discard, nil)),
		func(route, method string, status int, _ time.Duration) { seen = append(seen, obs{route, status}) })
	srv := httptest.NewServer(p.Handler(api{&served}))
	defer srv.Close()

	tests := []struct {
		name, path, host, password string
		status                     int
		code, body, challenge      string
	}{
		{name: "ok", path: "/ok", password: "pw", status: 200, body: "fine"},
		{name: "no credentials", path: "/ok", status: 401, code: "UNAUTHORIZED", challenge: `Basic realm="default"`},
		{name: "wrong password", path: "/ok", password: "no", status: 401, code: "UNAUTHORIZED", challenge: `Basic realm="default"`},
		{name: "no registry", path: "/ok", host: "nobody.example", password: "pw", status: 404, code: "NAME_UNKNOWN"},
		{name: "lock", path: "/lock", password: "pw", status: 403, code: "DENIED"},
		{name: "wrapped service error", path: "/unknown", password: "pw", status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "unexpected error hides its text", path: "/boom", password: "pw", status: 500, code: "UNKNOWN"},
		{name: "copy through ReadFrom", path: "/bytes", password: "pw", status: 200, body: "streamed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			if tt.host != "" {
				req.Host = tt.host
			}
			if tt.password != "" {
				req.SetBasicAuth("admin", tt.password)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
			if resp.Header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
				t.Error("no Docker-Distribution-API-Version header")
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("challenge %q, want %q", got, tt.challenge)
			}
			if tt.code != "" {
				var env struct{ Errors []struct{ Code, Message string } }
				if err := json.Unmarshal(body, &env); err != nil || len(env.Errors) != 1 || env.Errors[0].Code != tt.code {
					t.Fatalf("body %s, want one %s error", body, tt.code)
				}
				if strings.Contains(env.Errors[0].Message, "fire") {
					t.Errorf("an internal error's text reached the client: %q", env.Errors[0].Message)
				}
			} else if string(body) != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
			if len(seen) != 1 || seen[0].status != tt.status || seen[0].route != strings.TrimPrefix(tt.path, "/") {
				t.Errorf("observed %+v, want one %s with status %d", seen, tt.path, tt.status)
			}
		})
	}
	if served.ID != 7 {
		t.Errorf("the API was handed registry %+v, want the resolved one", served)
	}
}
