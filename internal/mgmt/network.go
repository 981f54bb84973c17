package mgmt

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/berth-project/berth/internal/netrules"
	"github.com/berth-project/berth/internal/storage/meta"
)

// networkProps are a registry's network properties as the API shows them.
type networkProps struct {
	PublicNetworkAccess              string         `json:"publicNetworkAccess"`
	NetworkRuleSet                   networkRuleSet `json:"networkRuleSet"`
	NetworkRuleBypassOptions         string         `json:"networkRuleBypassOptions"`
	NetworkRuleBypassAllowedForTasks bool           `json:"networkRuleBypassAllowedForTasks"`
}

type networkRuleSet struct {
	DefaultAction string          `json:"defaultAction"`
	IPRules       []netrules.Rule `json:"ipRules"`
}

// networkPatch is what a PATCH may change; absent fields stay.
type networkPatch struct {
	PublicNetworkAccess *string `json:"publicNetworkAccess"`
	NetworkRuleSet      *struct {
		DefaultAction *string          `json:"defaultAction"`
		IPRules       *[]netrules.Rule `json:"ipRules"`
	} `json:"networkRuleSet"`
	NetworkRuleBypassOptions         *string `json:"networkRuleBypassOptions"`
	NetworkRuleBypassAllowedForTasks *bool   `json:"networkRuleBypassAllowedForTasks"`
}

// given reports whether the PATCH names any network property.
func (p *networkPatch) given() bool {
	return p.PublicNetworkAccess != nil || p.NetworkRuleSet != nil || p.NetworkRuleBypassOptions != nil ||
		p.NetworkRuleBypassAllowedForTasks != nil
}

func showNetwork(n meta.Network) networkProps {
	p := networkProps{PublicNetworkAccess: "Disabled", NetworkRuleBypassOptions: "None",
		NetworkRuleBypassAllowedForTasks: n.BypassForTasks,
		NetworkRuleSet:                   networkRuleSet{DefaultAction: n.DefaultAction, IPRules: []netrules.Rule{}}}
	if n.PublicNetworkAccess {
		p.PublicNetworkAccess = "Enabled"
	}
	if n.BypassTrustedServices {
		p.NetworkRuleBypassOptions = "AzureServices"
	}
	for _, v := range n.IPRules {
		p.NetworkRuleSet.IPRules = append(p.NetworkRuleSet.IPRules, netrules.Rule{Action: netrules.ActionAllow, Value: v})
	}
	return p
}

// applyNetwork merges a PATCH into stored settings and validates the
// result as the gate will compile it; an invalid change changes nothing.
func applyNetwork(n meta.Network, p *networkPatch) (meta.Network, error) {
	if v := p.PublicNetworkAccess; v != nil {
		switch {
		case strings.EqualFold(*v, "Enabled"):
			n.PublicNetworkAccess = true
		case strings.EqualFold(*v, "Disabled"):
			n.PublicNetworkAccess = false
		default:
			return n, invalid("properties.publicNetworkAccess must be Enabled or Disabled, not %q", *v)
		}
	}
	if rs := p.NetworkRuleSet; rs != nil {
		if v := rs.DefaultAction; v != nil {
			switch {
			case strings.EqualFold(*v, "Allow"):
				n.DefaultAction = "Allow"
			case strings.EqualFold(*v, "Deny"):
				n.DefaultAction = "Deny"
			default:
				return n, invalid("properties.networkRuleSet.defaultAction must be Allow or Deny, not %q", *v)
			}
		}
		if rs.IPRules != nil {
			set, err := netrules.NewRuleSet(*rs.IPRules)
			if err != nil {
				return n, invalid("properties.networkRuleSet.ipRules: %v", err)
			}
			n.IPRules = []string{}
			for _, r := range set {
				n.IPRules = append(n.IPRules, r.Value)
			}
		}
	}
	if v := p.NetworkRuleBypassOptions; v != nil {
		switch {
		case strings.EqualFold(*v, "AzureServices"):
			n.BypassTrustedServices = true
		case strings.EqualFold(*v, "None"):
			n.BypassTrustedServices = false
		default:
			return n, invalid("properties.networkRuleBypassOptions must be AzureServices or None, not %q", *v)
		}
	}
	if v := p.NetworkRuleBypassAllowedForTasks; v != nil {
		n.BypassForTasks = *v
	}
	if _, err := netrules.Compile(netrules.Policy{PublicNetworkAccess: n.PublicNetworkAccess, DefaultAction: n.DefaultAction,
		Rules: rules(n.IPRules), BypassTrustedServices: n.BypassTrustedServices, BypassForTasks: n.BypassForTasks}); err != nil {
		return n, invalid("network settings: %v", err)
	}
	return n, nil
}

func rules(values []string) []netrules.Rule {
	out := make([]netrules.Rule, 0, len(values))
	for _, v := range values {
		out = append(out, netrules.Rule{Value: v, Action: netrules.ActionAllow})
	}
	return out
}

// patchNetwork merges a PATCH into a registry's network settings as they
// are when the transaction runs, so that concurrent PATCHes of different
// fields both stand. A change is stored with its audit record, and the
// data plane's gates are recompiled at once; a PATCH that changes nothing
// stores and records nothing. It returns the settings now in force.
func (a *API) patchNetwork(ctx context.Context, c *caller, reg meta.Registry, p *networkPatch) (meta.Network, error) {
	var n meta.Network
	changed := false
	err := a.db.Update(ctx, func(tx *meta.Tx) error {
		cur, err := tx.Registry(ctx, reg.Name)
		if err == nil && cur.ID != reg.ID {
			err = meta.ErrNotFound
		}
		if err != nil {
			return err
		}
		if n, err = applyNetwork(cur.Network, p); err != nil {
			return err
		}
		changes := networkChanges(cur.Network, n)
		if len(changes) == 0 {
			return nil
		}
		if err := tx.SetNetwork(ctx, reg.ID, n); err != nil {
			return err
		}
		changed = true
		return recordNetworkChange(ctx, tx, c, reg.ID, changes)
	})
	if errors.Is(err, meta.ErrNotFound) {
		return n, notFound("registry %q not found", reg.Name)
	}
	if err != nil || !changed {
		return n, err
	}
	return n, a.registriesChanged(ctx)
}

// listServiceTags answers GET /api/serviceTags?location=L: the egress
// prefixes of the public agent pools of a region, for network rules.
func (a *API) listServiceTags(w http.ResponseWriter, r *http.Request, c *caller) error {
	loc := r.URL.Query().Get("location")
	if loc == "" {
		loc = a.region
	}
	return ok(w, map[string]any{"values": netrules.ServiceTags(loc, a.pools)})
}
