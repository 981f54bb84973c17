package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/berth-project/berth/pkg/client"
)

// Each agent pool call sends the method, path and body of the contract
// and decodes the answer.
func TestAgentPoolCalls(t *testing.T) {
	ctx := context.Background()
	const reply = `{"id":"/registries/r1/agentPools/vnet","name":"vnet","type":"agentPools","properties":{"kind":"dedicated",
"count":2,"privateEndpoint":"pe1","location":"local","egressPrefixes":["127.0.2.1/32"],"createdAt":"2026-01-02T03:04:05Z"}}`
	pool := client.AgentPool{ID: "/registries/r1/agentPools/vnet", Name: "vnet", Type: "agentPools",
		Properties: client.AgentPoolProperties{Kind: "dedicated", Count: 2, PrivateEndpoint: "pe1", Location: "local",
			EgressPrefixes: []string{"127.0.2.1/32"}, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	two, none := 2, ""
	const path = "/api/registries/r1/agentPools/vnet"
	runCallCases(t, func(c *client.Client) client.AgentPools { return c.AgentPools("r1") }, []callCase[client.AgentPools]{
		{"create", func(p client.AgentPools) (any, error) { return p.Create(ctx, "vnet", 2, "pe1") },
			"PUT", path, `{"properties":{"count":2,"privateEndpoint":"pe1"}}`, reply, pool},
		{"create without an endpoint", func(p client.AgentPools) (any, error) { return p.Create(ctx, "vnet", 1, "") },
			"PUT", path, `{"properties":{"count":1}}`, reply, pool},
		{"get", func(p client.AgentPools) (any, error) { return p.Get(ctx, "vnet") }, "GET", path, "", reply, pool},
		{"list", func(p client.AgentPools) (any, error) { return p.List(ctx) },
			"GET", "/api/registries/r1/agentPools", "", `{"value":[` + reply + `]}`, []client.AgentPool{pool}},
		{"update the count", func(p client.AgentPools) (any, error) {
			return p.Update(ctx, "vnet", client.AgentPoolUpdate{Count: &two})
		}, "PATCH", path, `{"properties":{"count":2}}`, reply, pool},
		{"detach the endpoint", func(p client.AgentPools) (any, error) {
			return p.Update(ctx, "vnet", client.AgentPoolUpdate{PrivateEndpoint: &none})
		}, "PATCH", path, `{"properties":{"privateEndpoint":""}}`, reply, pool},
		{"delete", func(p client.AgentPools) (any, error) { return nil, p.Delete(ctx, "vnet") },
			"DELETE", path, "", "", nil},
	})
}
