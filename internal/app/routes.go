package app

import (
	"context"
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
	svc     *registry.Service
	domain  string
	defName string
	table   atomic.Pointer[routeTable]
}

type routeTable struct {
	byHost map[string]registry.Registry
	byName map[string]registry.Registry
	def    registry.Registry
}

func newRegistryRoutes(ctx context.Context, svc *registry.Service, cfg config.Config) (*registryRoutes, error) {
	rr := &registryRoutes{svc: svc, domain: strings.ToLower(cfg.Domain), defName: cfg.DefaultRegistry}
	return rr, rr.reload(ctx)
}

// reload rebuilds the table from the store; requests never wait for it.
func (rr *registryRoutes) reload(ctx context.Context) error {
	regs, err := rr.svc.Registries(ctx)
	if err != nil {
		return err
	}
	t := &routeTable{byHost: map[string]registry.Registry{}, byName: map[string]registry.Registry{}}
	for _, r := range regs {
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
