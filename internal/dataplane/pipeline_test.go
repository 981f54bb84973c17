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

// passwordAuth lets "pw" do anything and "reader" only pull; a bearer
// "token" may only pull.
type passwordAuth struct{}

type testCaller struct{ pullOnly, bearer bool }

func (c testCaller) Can(reg registry.Registry, repo, action string) bool {
	return !c.pullOnly || action == "pull"
}
func (c testCaller) CanCatalog(reg registry.Registry) bool { return !c.pullOnly }
func (c testCaller) Bearer() bool                          { return c.bearer }

func (passwordAuth) Authenticate(ctx context.Context, reg registry.Registry, r *http.Request) (dataplane.Caller, error) {
	if r.Header.Get("Authorization") == "Bearer token" {
		return testCaller{pullOnly: true, bearer: true}, nil
	}
	switch _, pw, _ := r.BasicAuth(); pw {
	case "pw":
		return testCaller{}, nil
	case "reader":
		return testCaller{pullOnly: true}, nil
	}
	return nil, errcode.Unauthorized.New()
}

func (passwordAuth) Challenge(reg registry.Registry, r *http.Request, want dataplane.Want) string {
	return `Bearer realm="` + reg.Name + `",scope="` + want.Repository + ":" + want.Action + `"`
}

// api answers by path: /ok, /lock, /boom, /bytes.
type api struct{ served *registry.Registry }

func (a api) Route(r *http.Request) string { return strings.TrimPrefix(r.URL.Path, "/") }

// Want: /push needs push on repo "r"; everything else pull on "r".
func (a api) Want(r *http.Request) dataplane.Want {
	if r.URL.Path == "/push" {
		return dataplane.Want{Repository: "r", Action: "push"}
	}
	return dataplane.Want{Repository: "r", Action: "pull"}
}

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
	case "/push":
		io.WriteString(w, "pushed")
		return nil
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
		bearer                     bool
		status                     int
		code, body, challenge      string
	}{
		{name: "ok", path: "/ok", password: "pw", status: 200, body: "fine"},
		{name: "no credentials", path: "/ok", status: 401, code: "UNAUTHORIZED", challenge: `Bearer realm="default",scope="r:pull"`},
		{name: "wrong password", path: "/ok", password: "no", status: 401, code: "UNAUTHORIZED", challenge: `Bearer realm="default",scope="r:pull"`},
		{name: "allowed push", path: "/push", password: "pw", status: 200, body: "pushed"},
		{name: "basic caller without the right is denied", path: "/push", password: "reader", status: 403, code: "DENIED"},
		{name: "bearer caller without the scope is challenged", path: "/push", bearer: true, status: 401, code: "UNAUTHORIZED", challenge: `Bearer realm="default",scope="r:push"`},
		{name: "bearer caller with the scope", path: "/ok", bearer: true, status: 200, body: "fine"},
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
			if tt.bearer {
				req.Header.Set("Authorization", "Bearer token")
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
				var env struct {
					Errors []struct{ Code, Message string }
				}
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
