package app

import (
	"context"
	"log/slog"
	"net/netip"

	"github.com/berth-project/berth/internal/netrules"
	"github.com/berth-project/berth/internal/storage/meta"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/registry"
)

// registryRoutes finds the registry a request is for: by its login server
// (an explicit address, or <name>.<domain>), else the default registry.
type registryRoutes struct {
	log     *slog.Logger
	docsURL string
	denied  func(registry, reason string)
	svc     *registry.Service
	domain  string
	defName string
	table   atomic.Pointer[routeTable]
}

type routeTable struct {
	byHost map[string]registry.Registry
	byName map[string]registry.Registry
	def    registry.Registry
	gates  map[int64]*netrules.Gate // nil gate: the stored settings did not compile, deny all
}

func newRegistryRoutes(ctx context.Context, svc *registry.Service, cfg config.Config, log *slog.Logger, denied func(registry, reason string)) (*registryRoutes, error) {
	rr := &registryRoutes{svc: svc, domain: strings.ToLower(cfg.Domain), defName: cfg.DefaultRegistry,
		log: log, docsURL: cfg.NetworkDocsURL, denied: denied}
	return rr, rr.reload(ctx)
}

// reload rebuilds the table from the store; requests never wait for it.
func (rr *registryRoutes) reload(ctx context.Context) error {
	regs, err := rr.svc.Registries(ctx)
	if err != nil {
		return err
	}
	t := &routeTable{byHost: map[string]registry.Registry{}, byName: map[string]registry.Registry{}, gates: map[int64]*netrules.Gate{}}
	for _, r := range regs {
		g, err := netrules.Compile(policy(r.Network))
		if err != nil {
			rr.log.Error("registry network settings do not compile; denying all its traffic", "registry", r.Name, "err", err)
		}
		t.gates[r.ID] = g
		t.byName[r.Name] = r
		if r.LoginServer != "" {
			t.byHost[strings.ToLower(r.LoginServer)] = r
		}
		if r.Name == rr.defName {
			t.def = r
		}
	}
	rr.table.Store(t)
	return nil
}

func (rr *registryRoutes) resolve(r *http.Request) (registry.Registry, bool) {
	t := rr.table.Load()
	host := r.Host
	if reg, ok := t.byHost[host]; ok {
		return reg, true
	}
	host = strings.ToLower(host)
	if reg, ok := t.byHost[host]; ok {
		return reg, true
	}
	if rr.domain != "" {
		h := host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			h = hh
		}
		if name, ok := strings.CutSuffix(h, "."+rr.domain); ok {
			if reg, ok := t.byName[name]; ok {
				return reg, true
			}
		}
	}
	return t.def, t.def.ID != 0
}

// policy turns stored network settings into what netrules compiles.
func policy(n meta.Network) netrules.Policy {
	p := netrules.Policy{PublicNetworkAccess: n.PublicNetworkAccess, DefaultAction: n.DefaultAction,
		BypassTrustedServices: n.BypassTrustedServices, BypassForTasks: n.BypassForTasks}
	for _, v := range n.IPRules {
		p.Rules = append(p.Rules, netrules.Rule{Value: v, Action: netrules.ActionAllow})
	}
	return p
}

// Admit is the network gate (dataplane.Gatekeeper): it judges the TCP peer
// of the request against the registry's compiled rules, and records every
// denial.
func (rr *registryRoutes) Admit(reg registry.Registry, r *http.Request) string {
	g := rr.table.Load().gates[reg.ID]
	ip := clientIP(r)
	d := g.Decide(netrules.Request{ClientIP: ip})
	if d.Allowed {
		return ""
	}
	rr.log.Info("network access denied", "registry", reg.Name, "client_ip", ip.String(),
		"method", r.Method, "path", r.URL.Path, "reason", d.Reason)
	rr.denied(reg.Name, d.Reason)
	return netrules.DeniedMessage(ip, rr.docsURL)
}

// clientIP is the request's TCP peer. (Forwarded headers are honoured only
// from configured trusted proxies, which berth does not have yet.)
func clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
