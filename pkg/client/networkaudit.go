package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// NetworkDenial is a data-plane request that a registry's network rules
// refused.
type NetworkDenial struct {
	Time     time.Time `json:"time"`
	Registry string    `json:"registry"`
	ClientIP string    `json:"clientIp"`
	Identity string    `json:"identity"` // who the request's token named, when it had one
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Reason   string    `json:"reason"` // "denied", "public-access-disabled", …
}

// NetworkChange is a change of a registry's network settings: who made it,
// when, and what changed.
type NetworkChange struct {
	Time          time.Time `json:"time"`
	Registry      string    `json:"registry"`
	PrincipalName string    `json:"principalName"`
	PrincipalID   string    `json:"principalId"`
	PrincipalType string    `json:"principalType"` // "User", "ServicePrincipal", "ManagedIdentity"
	Summary       string    `json:"summary"`       // the changes in one line
	// Changes holds, by property path, {"from","to"} for a value and
	// {"added","removed"} for networkRuleSet.ipRules, as the server wrote it.
	Changes json.RawMessage `json:"changes"`
}

// AuditQuery narrows a listing of a registry's network audit.
type AuditQuery struct {
	// Since keeps records this recent: a duration back from now ("30m",
	// "24h", "7d", "1d12h") or an RFC 3339 time; "" keeps all.
	Since string
	// Top is the most records returned, the newest; 0 lets the server choose (100).
	Top int
}

func (q AuditQuery) encode() string {
	v := url.Values{}
	if q.Since != "" {
		v.Set("since", q.Since)
	}
	if q.Top != 0 {
		v.Set("top", strconv.Itoa(q.Top))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// ListNetworkDenials returns the requests registry name's network rules
// refused, newest first.
func (r Registries) ListNetworkDenials(ctx context.Context, name string, q AuditQuery) ([]NetworkDenial, error) {
	return getList[NetworkDenial](ctx, r.c, registryPath(name)+"/networkDenials"+q.encode())
}

// ListNetworkChanges returns the changes of registry name's network
// settings, newest first.
func (r Registries) ListNetworkChanges(ctx context.Context, name string, q AuditQuery) ([]NetworkChange, error) {
	return getList[NetworkChange](ctx, r.c, registryPath(name)+"/networkChanges"+q.encode())
}
