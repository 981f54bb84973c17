package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/berth-project/berth/pkg/client"
)

// Each private endpoint call sends the method, path and body of the
// contract and decodes the answer.
func TestPrivateEndpointCalls(t *testing.T) {
	ctx := context.Background()
	const reply = `{"id":"/registries/r1/privateEndpointConnections/pe 1","name":"pe 1","type":"privateEndpointConnections",
"properties":{"address":"127.0.4.1:5000","privateLinkServiceConnectionState":{"status":"Approved","description":"ok"},"createdAt":"2026-01-02T03:04:05Z"}}`
	conn := client.PrivateEndpointConnection{ID: "/registries/r1/privateEndpointConnections/pe 1", Name: "pe 1", Type: "privateEndpointConnections",
		Properties: client.PrivateEndpointConnectionProperties{Address: "127.0.4.1:5000",
			ConnectionState: client.ConnectionState{Status: client.ConnectionApproved, Description: "ok"},
			CreatedAt:       time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	desc := "why"
	const path = "/api/registries/r1/privateEndpointConnections/pe%201"
	tests := []struct {
		name         string
		call         func(p client.PrivateEndpoints) (any, error)
		method, path string
		body, reply  string
		want         any
	}{
		{"create", func(p client.PrivateEndpoints) (any, error) { return p.Create(ctx, "pe 1", "127.0.4.1:5000", "") },
			"PUT", path, `{"properties":{"address":"127.0.4.1:5000"}}`, reply, conn},
		{"create with a description", func(p client.PrivateEndpoints) (any, error) {
			return p.Create(ctx, "pe 1", "127.0.4.1:5000", "build network")
		}, "PUT", path, `{"properties":{"address":"127.0.4.1:5000","description":"build network"}}`, reply, conn},
		{"get", func(p client.PrivateEndpoints) (any, error) { return p.Get(ctx, "pe 1") }, "GET", path, "", reply, conn},
		{"list", func(p client.PrivateEndpoints) (any, error) { return p.List(ctx) },
			"GET", "/api/registries/r1/privateEndpointConnections", "", `{"value":[` + reply + `]}`, []client.PrivateEndpointConnection{conn}},
		{"list, none", func(p client.PrivateEndpoints) (any, error) { return p.List(ctx) },
			"GET", "/api/registries/r1/privateEndpointConnections", "", `{"value":[]}`, []client.PrivateEndpointConnection{}},
		{"approve", func(p client.PrivateEndpoints) (any, error) { return p.Approve(ctx, "pe 1", nil) },
			"POST", path + "/approve", "", reply, conn},
		{"reject with a description", func(p client.PrivateEndpoints) (any, error) { return p.Reject(ctx, "pe 1", &desc) },
			"POST", path + "/reject", `{"description":"why"}`, reply, conn},
		{"delete", func(p client.PrivateEndpoints) (any, error) { return nil, p.Delete(ctx, "pe 1") },
			"DELETE", path, "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if r.Method != tt.method || r.URL.EscapedPath() != tt.path || string(b) != tt.body {
					t.Errorf("got %s %s %s, want %s %s %s", r.Method, r.URL.EscapedPath(), b, tt.method, tt.path, tt.body)
				}
				if tt.reply == "" {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				io.WriteString(w, tt.reply)
			}))
			defer srv.Close()
			c, err := client.New(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tt.call(c.PrivateEndpoints("r1"))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}
