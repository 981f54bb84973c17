package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/netrules"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/storage/meta"
)

// registryRoutes finds the registry a request is for and gates it: by the
// private endpoint it arrived on, else by its login server (an explicit
// address, or <name>.<domain>), else the default registry. Its table is
// rebuilt from the metadata store whenever the registries version there
// changes, so a change made on any replica is seen by all within one
// reload interval, and no request ever queries the store.
type registryRoutes struct {
	log      *slog.Logger
	docsURL  string
	svc      *registry.Service
	store    routeStore
	domain   string
	defName  string
	proxies  netrules.Proxies
	interval time.Duration

	// onDenied is told of every request the gate refuses (metrics, audit).
	onDenied func(meta.NetworkDenial)
	// bypass names the identity behind a request's token, for the gate's
	// bypasses; nil: no bypass ever applies.
	bypass func(reg registry.Registry, r *http.Request) (kind netrules.IdentityKind, who string)

	table    atomic.Pointer[routeTable]
	mu       sync.Mutex // serialises reloads
	version  int64      // of the store, when the table was built
	onReload []func(context.Context, *routeTable)
}

// routeStore is what the routes read from the metadata store.
type routeStore interface {
	RegistriesVersion(ctx context.Context) (int64, error)
	PrivateEndpoints(ctx context.Context) ([]meta.PrivateEndpoint, error)
}

type routeTable struct {
	byHost    map[string]registry.Registry
	byName    map[string]registry.Registry
	byID      map[int64]registry.Registry
	def       registry.Registry
	gates     map[int64]*netrules.Gate // nil gate: the stored settings did not compile, deny all
	endpoints map[int64]meta.PrivateEndpoint
}

func newRegistryRoutes(ctx context.Context, svc *registry.Service, store routeStore, cfg config.Config, log *slog.Logger) (*registryRoutes, error) {
	proxies, err := netrules.ParseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("trustedProxies: %w", err)
	}
	rr := &registryRoutes{svc: svc, store: store, domain: strings.ToLower(cfg.Domain), defName: cfg.DefaultRegistry,
		log: log, docsURL: cfg.NetworkDocsURL, proxies: proxies, interval: cfg.ReloadInterval,
		onDenied: func(meta.NetworkDenial) {}}
	return rr, rr.reload(ctx)
}

// reload rebuilds the table from the store; requests never wait for it.
func (rr *registryRoutes) reload(ctx context.Context) error {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	// Read the version first: a change that lands during the reload bumps
	// it again and the next check reloads once more.
	v, err := rr.store.RegistriesVersion(ctx)
	if err != nil {
		return err
	}
	regs, err := rr.svc.Registries(ctx)
	if err != nil {
		return err
	}
	eps, err := rr.store.PrivateEndpoints(ctx)
	if err != nil {
		return err
	}
	t := &routeTable{byHost: map[string]registry.Registry{}, byName: map[string]registry.Registry{},
		byID: map[int64]registry.Registry{}, gates: map[int64]*netrules.Gate{}, endpoints: map[int64]meta.PrivateEndpoint{}}
	for _, r := range regs {
		g, err := netrules.Compile(policy(r.Network))
		if err != nil {
			rr.log.Error("registry network settings do not compile; denying all its traffic", "registry", r.Name, "err", err)
		}
		t.gates[r.ID] = g
		t.byName[r.Name] = r
		t.byID[r.ID] = r
		if r.LoginServer != "" {
			t.byHost[strings.ToLower(r.LoginServer)] = r
		}
		if r.Name == rr.defName {
			t.def = r
		}
	}
	for _, e := range eps {
		t.endpoints[e.ID] = e
	}
	rr.table.Store(t)
	rr.version = v
	for _, f := range rr.onReload {
		f(ctx, t)
	}
	return nil
}

// watch reloads the table whenever the registries version in the store
// changes, until ctx ends.
func (rr *registryRoutes) watch(ctx context.Context) {
	tick := time.NewTicker(rr.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		v, err := rr.store.RegistriesVersion(ctx)
		rr.mu.Lock()
		stale := err == nil && v != rr.version
		rr.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			rr.log.Warn("registries version check failed", "err", err)
		}
		if stale {
			if err := rr.reload(ctx); err != nil && ctx.Err() == nil {
				rr.log.Warn("registries reload failed", "err", err)
			}
		}
	}
}

// endpointKey marks the context of a request that arrived on a private
// endpoint listener; its value is the endpoint's id.
type endpointKey struct{}

// endpointOf returns the private endpoint a request arrived on.
func endpointOf(r *http.Request) (int64, bool) {
	id, ok := r.Context().Value(endpointKey{}).(int64)
	return id, ok
}

// endpointHost is the host a request on a private endpoint reached it
// by: where its client gets tokens, since the registry's login server may
// refuse that client.
func endpointHost(r *http.Request) (string, bool) {
	_, ok := endpointOf(r)
	return r.Host, ok
}

// resolve names the registry of a request. A request on a private endpoint
// reaches only that endpoint's registry, and only while it is approved.
func (rr *registryRoutes) resolve(r *http.Request) (registry.Registry, bool) {
	t := rr.table.Load()
	if id, ok := endpointOf(r); ok {
		e, ok := t.endpoints[id]
		if !ok || e.State != meta.EndpointApproved {
			return registry.Registry{}, false
		}
		reg, ok := t.byID[e.RegistryID]
		return reg, ok
	}
	if reg, ok := rr.atHost(t, r.Host); ok {
		return reg, true
	}
	return t.def, t.def.ID != 0
}

// atHost finds in t the registry whose login server is host: an explicit
// one, or <name>.<domain>.
func (rr *registryRoutes) atHost(t *routeTable, host string) (registry.Registry, bool) {
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
	return registry.Registry{}, false
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

// Admit is the network gate (dataplane.Gatekeeper): it judges the client
// address of the request, and whether it came on a private endpoint,
// against the registry's compiled rules. Only when that denies and the
// registry allows a bypass is the request's token looked at. Every denial
// is logged and handed to onDenied.
func (rr *registryRoutes) Admit(reg registry.Registry, r *http.Request) string {
	g := rr.table.Load().gates[reg.ID]
	ip := rr.clientIP(r)
	_, pe := endpointOf(r)
	req := netrules.Request{ClientIP: ip, PrivateEndpoint: pe}
	d := g.Decide(req)
	if d.Allowed {
		return ""
	}
	var who string
	if g.MayBypass() && rr.bypass != nil {
		req.Identity, who = rr.bypass(reg, r)
		if d2 := g.Decide(req); d2.Allowed {
			return ""
		}
	}
	rr.log.Info("network access denied", "registry", reg.Name, "client_ip", ip.String(), "identity", who,
		"method", r.Method, "path", r.URL.Path, "reason", d.Reason)
	rr.onDenied(meta.NetworkDenial{At: time.Now(), Registry: reg.Name, RegistryID: reg.ID, ClientIP: ip.String(),
		Identity: who, Method: r.Method, Path: r.URL.Path, Reason: d.Reason})
	return netrules.DeniedMessage(ip, rr.docsURL)
}

// clientIP is the request's TCP peer, or the client a trusted proxy names.
func (rr *registryRoutes) clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	if len(rr.proxies) == 0 {
		return ap.Addr().Unmap()
	}
	return rr.proxies.ClientIP(ap.Addr(), r.Header.Values("Forwarded"), r.Header.Values("X-Forwarded-For"))
}
