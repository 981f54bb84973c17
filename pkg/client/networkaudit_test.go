package client_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/berth-project/berth/pkg/client"
)

func TestNetworkAuditCalls(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name  string
		call  func(c *client.Client) (any, error)
		path  string
		reply string
		want  any
	}{
		{"denials", func(c *client.Client) (any, error) {
			return c.Registries().ListNetworkDenials(ctx, "reg1x", client.AuditQuery{})
		}, "/api/registries/reg1x/networkDenials",
			`{"value":[{"time":"2026-01-02T03:04:05Z","registry":"reg1x","clientIp":"127.0.9.9","identity":"","method":"GET","path":"/v2/","reason":"denied"}]}`,
			[]client.NetworkDenial{{Time: at, Registry: "reg1x", ClientIP: "127.0.9.9", Method: "GET", Path: "/v2/", Reason: "denied"}}},
		{"denials since, top", func(c *client.Client) (any, error) {
			return c.Registries().ListNetworkDenials(ctx, "reg1x", client.AuditQuery{Since: "2026-01-02T03:04:05+01:00", Top: 5})
		}, "/api/registries/reg1x/networkDenials?since=2026-01-02T03%3A04%3A05%2B01%3A00&top=5", `{}`, []client.NetworkDenial{}},
		{"changes", func(c *client.Client) (any, error) {
			return c.Registries().ListNetworkChanges(ctx, "reg1x", client.AuditQuery{Since: "7d"})
		}, "/api/registries/reg1x/networkChanges?since=7d",
			`{"value":[{"time":"2026-01-02T03:04:05Z","registry":"reg1x","principalName":"admin","principalId":"p","principalType":"User",
"summary":"publicNetworkAccess: Enabled -> Disabled","changes":{"publicNetworkAccess":{"from":"Enabled","to":"Disabled"}}}]}`,
			[]client.NetworkChange{{Time: at, Registry: "reg1x", PrincipalName: "admin", PrincipalID: "p", PrincipalType: "User",
				Summary: "publicNetworkAccess: Enabled -> Disabled", Changes: json.RawMessage(`{"publicNetworkAccess":{"from":"Enabled","to":"Disabled"}}`)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != "GET" || r.URL.RequestURI() != tt.path {
					t.Errorf("request %s %s, want GET %s", r.Method, r.URL.RequestURI(), tt.path)
				}
				io.WriteString(w, tt.reply)
			}))
			defer srv.Close()
			c, _ := client.New(srv.URL, client.WithTokenSource(client.StaticToken("tok")))
			got, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
