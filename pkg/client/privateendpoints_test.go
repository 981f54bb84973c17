package client_test

import (
	"context"
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
	runCallCases(t, func(c *client.Client) client.PrivateEndpoints { return c.PrivateEndpoints("r1") }, []callCase[client.PrivateEndpoints]{
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
	})
}
