package mgmt

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Private endpoint connections of a registry: a listener of its own that
// the server opens while the connection is approved. Reads need manage
// read on the registry, changes manage write. The server's listener
// manager follows the stored state; this file only validates and stores.

// ListenerPolicy is what the server allows a private endpoint to listen
// on: the rule its public listeners follow, and the addresses it already
// listens on.
type ListenerPolicy struct {
	// TLS says the server serves TLS, which private endpoints then serve too.
	TLS bool
	// Insecure allows plain HTTP on non-loopback addresses (--insecure).
	Insecure bool
	// Taken are the addresses the server listens on itself (its public
	// listeners, pprof), which no endpoint may take.
	Taken []string
}

type endpointProps struct {
	Address         string          `json:"address"`
	ConnectionState connectionState `json:"privateLinkServiceConnectionState"`
	CreatedAt       time.Time       `json:"createdAt"`
}

type connectionState struct {
	Status      string `json:"status"`
	Description string `json:"description"`
}

func endpointResource(reg string, e meta.PrivateEndpoint) resource {
	return resource{ID: "/registries/" + reg + "/privateEndpointConnections/" + e.Name, Name: e.Name,
		Type: "privateEndpointConnections", Properties: endpointProps{Address: e.Address,
			ConnectionState: connectionState{Status: e.State, Description: e.Description}, CreatedAt: e.CreatedAt}}
}

// endpointResources are a registry's endpoints as its answer shows them:
// never null.
func (a *API) endpointResources(ctx context.Context, reg meta.Registry) ([]resource, error) {
	eps, err := a.db.RegistryPrivateEndpoints(ctx, reg.ID)
	if err != nil {
		return nil, err
	}
	out := []resource{}
	for _, e := range eps {
		out = append(out, endpointResource(reg.Name, e))
	}
	return out, nil
}

var endpointName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// maxDescription bounds a connection's description.
const maxDescription = 1024

func checkDescription(s string) error {
	if len(s) > maxDescription {
		return invalid("description: at most %d bytes, not %d", maxDescription, len(s))
	}
	return nil
}

// endpointAddress validates the address an endpoint is to listen on and
// returns it in the one form it is stored in (127.0.4.1:5000, [::1]:5000,
// localhost:5000), so that the store's uniqueness sees every spelling.
func (a *API) endpointAddress(s string) (string, error) {
	host, port, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil {
		return "", invalid("properties.address %q: want HOST:PORT, such as 127.0.4.1:5000 or [::1]:5000", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return "", invalid("properties.address %q: the port must be a number from 1 to 65535", s)
	}
	loopback := true
	if strings.EqualFold(host, "localhost") {
		host = "localhost"
	} else {
		ip, err := netip.ParseAddr(host)
		if err != nil || ip.Zone() != "" {
			return "", invalid("properties.address %q: the host must be an IP address or localhost, not a name", s)
		}
		ip = ip.Unmap()
		if ip.IsUnspecified() || ip.IsMulticast() {
			return "", invalid("properties.address %q: give the one address the endpoint is reached on, not %s", s, ip)
		}
		host, loopback = ip.String(), ip.IsLoopback()
	}
	if !loopback && !a.listeners.TLS && !a.listeners.Insecure {
		return "", invalid("properties.address %q: plain HTTP on a non-loopback address is refused; start the server with --tls-cert and --tls-key, or --insecure", s)
	}
	addr := net.JoinHostPort(host, strconv.Itoa(p))
	for _, t := range a.listeners.Taken {
		if sameListener(t, addr) {
			return "", conflict("properties.address %s: the server already listens there", addr)
		}
	}
	return addr, nil
}

// sameListener reports whether two listen addresses would take the same
// socket: the same port, and the same host, or either host every address.
func sameListener(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil {
		return strings.EqualFold(a, b)
	}
	if pa != pb {
		return false
	}
	ia, okA := listenIP(ha)
	ib, okB := listenIP(hb)
	switch {
	case okA && ia.IsUnspecified(), okB && ib.IsUnspecified():
		return true
	case okA && okB:
		return ia == ib
	}
	return strings.EqualFold(ha, hb)
}

// listenIP is the address a listen host binds: "" is every address, and
// localhost is 127.0.0.1, which Go's net.Listen prefers.
func listenIP(host string) (netip.Addr, bool) {
	switch {
	case host == "":
		return netip.IPv4Unspecified(), true
	case strings.EqualFold(host, "localhost"):
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), true
	}
	ip, err := netip.ParseAddr(host)
	return ip.Unmap(), err == nil
}

// privateEndpoint looks up the endpoint a path names.
func (a *API) privateEndpoint(ctx context.Context, reg meta.Registry, name string) (meta.PrivateEndpoint, error) {
	e, err := a.db.PrivateEndpoint(ctx, reg.ID, name)
	if errors.Is(err, meta.ErrNotFound) {
		return e, notFound("private endpoint connection %q of registry %q not found", name, reg.Name)
	}
	return e, err
}

func (a *API) createPrivateEndpoint(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body struct {
		Properties *struct {
			Address     string `json:"address"`
			Description string `json:"description"`
		} `json:"properties"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	name := r.PathValue("pe")
	if !endpointName.MatchString(name) {
		return invalid("name %q: a private endpoint name is 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit", name)
	}
	if body.Properties == nil || strings.TrimSpace(body.Properties.Address) == "" {
		return invalid("properties.address: give the HOST:PORT the endpoint listens on, such as 127.0.4.1:5000")
	}
	if err := checkDescription(body.Properties.Description); err != nil {
		return err
	}
	addr, err := a.endpointAddress(body.Properties.Address)
	if err != nil {
		return err
	}
	ctx := r.Context()
	// The store refuses the same name or address spelt the same; this
	// also finds an address that takes the same socket spelt otherwise.
	all, err := a.db.PrivateEndpoints(ctx)
	if err != nil {
		return err
	}
	for _, e := range all {
		if e.RegistryID == reg.ID && e.Name == name {
			return conflict("private endpoint connection %q of registry %q already exists", name, reg.Name)
		}
		if sameListener(e.Address, addr) {
			return conflict("properties.address %s: another private endpoint listens there", addr)
		}
	}
	e := meta.PrivateEndpoint{RegistryID: reg.ID, Registry: reg.Name, Name: name, Address: addr,
		State: meta.EndpointPending, Description: body.Properties.Description}
	err = a.db.Update(ctx, func(tx *meta.Tx) error {
		if err := tx.CreatePrivateEndpoint(ctx, &e); err != nil {
			return err
		}
		return recordNetworkChange(ctx, tx, c, reg.ID, endpointChange(e, "", e.State))
	})
	if errors.Is(err, meta.ErrConflict) {
		return conflict("private endpoint connection %q of registry %q, or another at %s, already exists", name, reg.Name, addr)
	}
	if err != nil {
		return err
	}
	if err := a.registriesChanged(ctx); err != nil {
		return err
	}
	return created(w, endpointResource(reg.Name, e))
}

func (a *API) listPrivateEndpoints(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	out, err := a.endpointResources(r.Context(), reg)
	if err != nil {
		return err
	}
	return ok(w, newList(out))
}

func (a *API) showPrivateEndpoint(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	e, err := a.privateEndpoint(r.Context(), reg, r.PathValue("pe"))
	if err != nil {
		return err
	}
	return ok(w, endpointResource(reg.Name, e))
}

// setEndpointState answers approve and reject. Either may follow the
// other, so a rejected connection can still be approved; repeating one
// changes only the description. The listener follows within a reload.
func (a *API) setEndpointState(state string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
		if err != nil {
			return err
		}
		var body struct {
			Description *string `json:"description"`
		}
		if err := decode(r, &body, true); err != nil {
			return err
		}
		ctx := r.Context()
		e, err := a.privateEndpoint(ctx, reg, r.PathValue("pe"))
		if err != nil {
			return err
		}
		if e.State == meta.EndpointDisconnected {
			return conflict("private endpoint connection %q of registry %q is Disconnected: delete it and create it again", e.Name, reg.Name)
		}
		if body.Description != nil {
			if err := checkDescription(*body.Description); err != nil {
				return err
			}
			e.Description = *body.Description
		}
		err = a.db.Update(ctx, func(tx *meta.Tx) error {
			was, err := tx.PrivateEndpoint(ctx, reg.ID, e.Name)
			if err == nil && was.ID != e.ID {
				err = meta.ErrNotFound
			}
			if err != nil {
				return err
			}
			if err := tx.SetPrivateEndpointState(ctx, e.ID, state, e.Description); err != nil {
				return err
			}
			if was.State == state { // only the description changed
				return nil
			}
			return recordNetworkChange(ctx, tx, c, reg.ID, endpointChange(e, was.State, state))
		})
		if errors.Is(err, meta.ErrNotFound) {
			return notFound("private endpoint connection %q of registry %q not found", e.Name, reg.Name)
		}
		if err != nil {
			return err
		}
		if err := a.registriesChanged(ctx); err != nil {
			return err
		}
		e.State = state
		return ok(w, endpointResource(reg.Name, e))
	}
}

func (a *API) deletePrivateEndpoint(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	ctx := r.Context()
	e, err := a.privateEndpoint(ctx, reg, r.PathValue("pe"))
	if err != nil {
		return err
	}
	err = a.db.Update(ctx, func(tx *meta.Tx) error {
		was, err := tx.PrivateEndpoint(ctx, reg.ID, e.Name)
		if err == nil && was.ID != e.ID {
			err = meta.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := poolsUsing(ctx, tx, was); err != nil {
			return err
		}
		if err := tx.DeletePrivateEndpoint(ctx, e.ID); err != nil {
			return err
		}
		return recordNetworkChange(ctx, tx, c, reg.ID, endpointChange(was, was.State, ""))
	})
	if errors.Is(err, meta.ErrNotFound) {
		return notFound("private endpoint connection %q of registry %q not found", e.Name, reg.Name)
	}
	if err != nil {
		return err
	}
	if err := a.registriesChanged(ctx); err != nil {
		return err
	}
	return noContent(w)
}
