package config

import (
	"strings"
	"testing"
)

func TestValidateAgentPools(t *testing.T) {
	pool := func(name, token string) AgentPool { return AgentPool{Name: name, Location: "local", Token: token} }
	tests := []struct {
		name    string
		pools   []AgentPool
		wantErr string
	}{
		{"no token: generated", []AgentPool{pool("local", "")}, ""},
		{"tokens", []AgentPool{pool("local", "a"), pool("west-1", "b")}, ""},
		{"two without a token", []AgentPool{pool("local", ""), pool("west", "")}, ""},
		{"same token", []AgentPool{pool("local", "a"), pool("west", "a")}, "agentPools[1].token: another pool has the same token"},
		{"same name", []AgentPool{pool("local", "a"), pool("local", "b")}, `agentPools[1].name "local": listed twice`},
		{"name with a slash", []AgentPool{pool("../x", "")}, `agentPools[0].name "../x": want 1 to 64 letters`},
		{"empty name", []AgentPool{pool("", "")}, `agentPools[0].name "": want`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.AgentPools = tt.pools
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
