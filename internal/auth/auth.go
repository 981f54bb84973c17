// Package auth decides who a data-plane caller is and what it may do, and
// serves the token endpoints clients use to get there: /oauth2/token and
// /oauth2/exchange on each registry's login server, and
// /identity/oauth2/token for the management plane. Credentials are checked
// by package identity, tokens made by package token, rights decided by
// package rbac; this package joins them. It knows no registry content.
package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-project/berth/internal/dataplane"
	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/identity"
	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/token"
)

// NullUser is the user name under which docker-compatible clients send a
// registry refresh token as a password.
const NullUser = "00000000-0000-0000-0000-000000000000"

// store is what auth reads of the metadata store.
type store interface {
	RoleAssignments(ctx context.Context, principalID string) ([]meta.RoleAssignment, error)
	Principal(ctx context.Context, id string) (meta.Principal, error)
	ScopeMap(ctx context.Context, registryID int64, name string) (meta.ScopeMap, error)
	RegistryToken(ctx context.Context, registryID int64, name string) (meta.RegistryToken, error)
	AuthVersion(ctx context.Context) (int64, error)
	Run(ctx context.Context, registryID int64, runID string) (meta.Run, error)
	Registry(ctx context.Context, name string) (meta.Registry, error)
}

// Service authenticates data-plane callers.
type Service struct {
	ids    *identity.Service
	tokens *token.Service
	db     store
	now    func() time.Time

	// rights caches each principal's role assignments; it is dropped when
	// the store's auth version moves (checked at most every recheck) or
	// when this replica changes a credential.
	mu        sync.RWMutex
	rights    map[string]principalRights
	version   int64
	checkedAt atomic.Int64
	recheck   time.Duration

	limit *failureLimiter

	// realmHost names, for a request that must not be sent to its login
	// server for a token, the host to send it to instead (nil: none is).
	realmHost func(r *http.Request) (string, bool)
}

// Password guessing limits: this many failed checks per client address or
// user name within the window, then 429 until the oldest failure ages out.
const (
	maxFailures   = 10
	failureWindow = time.Minute
)

type principalRights struct {
	exists      bool
	kind        string
	bypass      string // token.Bypass* the principal may use now
	assignments []rbac.Assignment
}

// New returns the authentication service.
func New(ids *identity.Service, tokens *token.Service, db store) *Service {
	s := &Service{ids: ids, tokens: tokens, db: db, now: time.Now, rights: map[string]principalRights{}, recheck: 500 * time.Millisecond}
	s.limit = newFailureLimiter(maxFailures, failureWindow, func() time.Time { return s.now() })
	ids.OnChange(s.Invalidate)
	return s
}

// SetRealmHost makes challenges send a client for its token to the host
// f names, when it names one, rather than to the login server. Requests
// on a private endpoint need it: the login server may refuse their client
// (public access disabled), and the endpoint serves /oauth2/token too. The
// service, and with it the tokens' audience, stays the login server. Call
// it before serving.
func (s *Service) SetRealmHost(f func(r *http.Request) (string, bool)) { s.realmHost = f }

// Invalidate drops every cached right at once.
func (s *Service) Invalidate() {
	s.mu.Lock()
	s.rights = map[string]principalRights{}
	s.mu.Unlock()
}

// rightsOf returns a principal's assignments, cached.
func (s *Service) rightsOf(ctx context.Context, principalID string) (principalRights, error) {
	s.refreshVersion(ctx)
	s.mu.RLock()
	r, ok := s.rights[principalID]
	s.mu.RUnlock()
	if ok {
		return r, nil
	}
	p, err := s.db.Principal(ctx, principalID)
	if errors.Is(err, meta.ErrNotFound) {
		r = principalRights{}
	} else if err != nil {
		return r, err
	} else {
		as, err := s.db.RoleAssignments(ctx, principalID)
		if err != nil {
			return r, err
		}
		r = principalRights{exists: true, kind: p.Kind, bypass: PrincipalClaims(p).Bypass}
		for _, a := range as {
			role, err1 := rbac.ParseRole(a.Role)
			scope, err2 := rbac.ParseScope(a.Scope)
			if err1 == nil && err2 == nil {
				r.assignments = append(r.assignments, rbac.Assignment{PrincipalID: a.PrincipalID, Role: role, Scope: scope})
			}
		}
	}
	s.mu.Lock()
	if len(s.rights) > 10000 {
		s.rights = map[string]principalRights{}
	}
	s.rights[principalID] = r
	s.mu.Unlock()
	return r, nil
}

// refreshVersion drops the cache when another replica changed credentials.
func (s *Service) refreshVersion(ctx context.Context) {
	now := s.now().UnixNano()
	last := s.checkedAt.Load()
	if now-last < int64(s.recheck) || !s.checkedAt.CompareAndSwap(last, now) {
		return
	}
	v, err := s.db.AuthVersion(ctx)
	if err != nil {
		return
	}
	s.mu.Lock()
	if v != s.version {
		s.version = v
		s.rights = map[string]principalRights{}
	}
	s.mu.Unlock()
}

// caller is an authenticated data-plane client.
type caller struct {
	grant     rbac.Grant
	access    []rbac.Access // bearer callers: what the token carries
	bearer    bool
	anonymous bool // no credentials at all, on a registry with anonymous pull
}

var _ dataplane.Caller = (*caller)(nil)

func (c *caller) Can(reg registry.Registry, repo, action string) bool {
	if c.bearer {
		return rbac.Covers(c.access, repo, action)
	}
	return c.grant != nil && c.grant.Can(reg.Name, repo, action)
}

func (c *caller) CanCatalog(reg registry.Registry) bool {
	if c.bearer {
		return rbac.CoversCatalog(c.access)
	}
	return c.grant != nil && c.grant.CanCatalog(reg.Name)
}

// Bearer is true for token holders and anonymous callers: both are
// challenged (401) for more rights, where a Basic caller is denied (403).
func (c *caller) Bearer() bool { return c.bearer || c.anonymous }

// Audience is the name a registry's tokens are minted for: its login
// server, or the address a client used for a registry that has none.
func Audience(reg registry.Registry, r *http.Request) string {
	if reg.LoginServer != "" {
		return reg.LoginServer
	}
	return r.Host
}

// Authenticate implements dataplane.Authenticator.
func (s *Service) Authenticate(ctx context.Context, reg registry.Registry, r *http.Request) (dataplane.Caller, error) {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		claims, err := s.tokens.Verify(strings.TrimSpace(t), token.KindAccess, Audience(reg, r))
		if err != nil {
			return nil, errcode.Unauthorized.WithMessage("invalid access token: " + tokenProblem(err))
		}
		if err := s.stillValid(ctx, reg, claims); err != nil {
			return nil, err
		}
		return &caller{bearer: true, access: toRBAC(claims.Access)}, nil
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		if reg.AnonymousPull && h == "" {
			return &caller{grant: anonymousGrant{}, anonymous: true}, nil
		}
		return nil, errcode.Unauthorized.New()
	}
	g, _, err := s.grantFor(ctx, reg, r, user, pass)
	if err != nil {
		return nil, err
	}
	return &caller{grant: g}, nil
}

// Challenge implements dataplane.Authenticator: a Bearer challenge naming
// the token endpoint of the login server and the scope the request needs.
func (s *Service) Challenge(reg registry.Registry, r *http.Request, want dataplane.Want) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	aud := Audience(reg, r)
	realm := scheme + "://" + aud + "/oauth2/token"
	if s.realmHost != nil {
		if h, ok := s.realmHost(r); ok {
			realm = scheme + "://" + h + "/oauth2/token"
		}
	}
	var scope string
	switch want.Action {
	case "":
	case dataplane.ActionCatalog:
		scope = "registry:catalog:*"
	case rbac.ActionPush:
		scope = "repository:" + want.Repository + ":pull,push"
	default:
		scope = "repository:" + want.Repository + ":" + want.Action
	}
	if scope == "" {
		return token.Challenge(realm, aud)
	}
	return token.Challenge(realm, aud, scope)
}

// SetClock replaces the clock of rate limits and caches (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// grantFor checks Basic credentials, within the failure limits, and returns
// what they may do, with the claims a token minted for them carries.
func (s *Service) grantFor(ctx context.Context, reg registry.Registry, r *http.Request, user, pass string) (rbac.Grant, token.Claims, error) {
	keys := limitKeys(r, user)
	if wait, ok := s.limit.blocked(keys...); ok {
		return nil, token.Claims{}, tooMany(wait)
	}
	g, c, err := s.checkCredentials(ctx, reg, r, user, pass)
	if e := errcode.As(err); e != nil && e.Code == errcode.Unauthorized {
		s.limit.fail(keys...)
	}
	return g, c, err
}

func tooMany(wait time.Duration) error {
	e := errcode.TooManyRequests.WithMessage("too many failed sign-ins from this address or for this user; try again later")
	e.RetryAfter = wait
	return e
}

// checkCredentials is grantFor without the limits.
func (s *Service) checkCredentials(ctx context.Context, reg registry.Registry, r *http.Request, user, pass string) (rbac.Grant, token.Claims, error) {
	bad := errcode.Unauthorized.WithMessage("wrong user name or password")
	if user == NullUser {
		claims, err := s.tokens.Verify(pass, token.KindRefresh, Audience(reg, r))
		if err != nil {
			return nil, claims, errcode.Unauthorized.WithMessage("invalid refresh token: " + tokenProblem(err))
		}
		if err := s.stillValid(ctx, reg, claims); err != nil {
			return nil, claims, err
		}
		g, err := s.grantOfClaims(ctx, reg, claims)
		if err == nil {
			// A renewed token carries the bypass the principal has now, not
			// the one it had when the refresh token was minted.
			claims.Bypass, err = s.currentBypass(ctx, claims)
		}
		return g, claims, err
	}
	if user == reg.Name {
		if ok, err := s.ids.CheckAdmin(ctx, reg, user, pass); err != nil {
			return nil, token.Claims{}, err
		} else if ok {
			return adminGrant(reg), token.Claims{Subject: "admin:" + reg.Name, PrincipalKind: token.PrincipalAdmin, PrincipalName: user}, nil
		}
	}
	if p, err := s.ids.CheckUser(ctx, user, pass); err == nil {
		g, err := s.principalGrant(ctx, p.ID)
		return g, PrincipalClaims(p), err
	} else if !errors.Is(err, identity.ErrBadCredentials) {
		return nil, token.Claims{}, err
	}
	if p, err := s.ids.CheckServicePrincipal(ctx, user, pass); err == nil {
		g, err := s.principalGrant(ctx, p.ID)
		return g, PrincipalClaims(p), err
	} else if !errors.Is(err, identity.ErrBadCredentials) {
		return nil, token.Claims{}, err
	}
	t, err := s.ids.CheckToken(ctx, reg, user, pass)
	if errors.Is(err, identity.ErrBadCredentials) {
		return nil, token.Claims{}, bad
	} else if err != nil {
		return nil, token.Claims{}, err
	}
	g, err := s.scopeMapGrant(ctx, reg, t.ScopeMap)
	return g, token.Claims{Subject: tokenSubject(reg, t.Name), PrincipalKind: token.PrincipalToken, PrincipalName: t.Name}, err
}

// anonymousGrant is what anyone may do on a registry with anonymous pull:
// pull, and nothing else (not even list the catalog).
type anonymousGrant struct{}

func (anonymousGrant) Can(registry, repo, action string) bool { return action == rbac.ActionPull }
func (anonymousGrant) CanCatalog(registry string) bool        { return false }

// adminGrant is what a registry's admin user may do: everything in it.
func adminGrant(reg registry.Registry) rbac.Grant {
	return rbac.ScopeMapGrant{Registry: reg.Name, Actions: rbac.SystemScopeMaps()[rbac.ScopeMapAdmin]}
}

// grantOfClaims is what the holder of a refresh token may do now.
func (s *Service) grantOfClaims(ctx context.Context, reg registry.Registry, c token.Claims) (rbac.Grant, error) {
	switch c.PrincipalKind {
	case token.PrincipalAdmin:
		return adminGrant(reg), nil
	case token.PrincipalToken:
		t, err := s.db.RegistryToken(ctx, reg.ID, c.PrincipalName)
		if err != nil {
			return nil, errcode.Unauthorized.WithMessage("the registry token is disabled or deleted")
		}
		return s.scopeMapGrant(ctx, reg, t.ScopeMap)
	case token.PrincipalRun:
		return s.runGrantOf(ctx, reg, c)
	}
	return s.principalGrant(ctx, c.Subject)
}

func tokenSubject(reg registry.Registry, name string) string {
	return "token:" + reg.Name + ":" + name
}

// principalGrant is what a user, service principal or managed identity may
// do through its role assignments.
func (s *Service) principalGrant(ctx context.Context, principalID string) (rbac.Grant, error) {
	r, err := s.rightsOf(ctx, principalID)
	if err != nil {
		return nil, err
	}
	if !r.exists {
		return nil, errcode.Unauthorized.WithMessage("the identity no longer exists")
	}
	return rbac.RoleGrant{Assignments: r.assignments}, nil
}

func (s *Service) scopeMapGrant(ctx context.Context, reg registry.Registry, name string) (rbac.Grant, error) {
	if acts, ok := rbac.SystemScopeMaps()[name]; ok {
		return rbac.ScopeMapGrant{Registry: reg.Name, Actions: acts}, nil
	}
	m, err := s.db.ScopeMap(ctx, reg.ID, name)
	if errors.Is(err, meta.ErrNotFound) {
		return rbac.ScopeMapGrant{Registry: reg.Name}, nil // a token whose map is gone may do nothing
	} else if err != nil {
		return nil, err
	}
	g := rbac.ScopeMapGrant{Registry: reg.Name}
	for _, a := range m.Actions {
		if act, err := rbac.ParseScopeMapAction(a); err == nil {
			g.Actions = append(g.Actions, act)
		}
	}
	return g, nil
}

// stillValid refuses a token whose principal was deleted or whose registry
// token was disabled since it was minted: revocation takes effect at once.
func (s *Service) stillValid(ctx context.Context, reg registry.Registry, c token.Claims) error {
	// The audience is a login server; a deleted registry's login server may
	// now route to another registry, so the token names its registry too.
	if c.Registry != reg.Name {
		return errcode.Unauthorized.WithMessage("the token was issued for another registry")
	}
	switch c.PrincipalKind {
	case token.PrincipalAnonymous:
		if !reg.AnonymousPull {
			return errcode.Unauthorized.WithMessage("anonymous pull is disabled")
		}
	case token.PrincipalAdmin:
		a, err := s.ids.AdminCredentials(ctx, reg)
		if err != nil {
			return err
		}
		if !a.Enabled {
			return errcode.Unauthorized.WithMessage("the admin user is disabled")
		}
	case token.PrincipalToken:
		t, err := s.db.RegistryToken(ctx, reg.ID, c.PrincipalName)
		if err != nil || !t.Enabled || tokenSubject(reg, t.Name) != c.Subject {
			return errcode.Unauthorized.WithMessage("the registry token is disabled or deleted")
		}
	case token.PrincipalRun:
		if _, err := s.liveRun(ctx, reg, c); err != nil {
			return err
		}
	default:
		r, err := s.rightsOf(ctx, c.Subject)
		if err != nil {
			return err
		}
		if !r.exists {
			return errcode.Unauthorized.WithMessage("the identity no longer exists")
		}
	}
	return nil
}

func toRBAC(as []token.Access) []rbac.Access {
	out := make([]rbac.Access, len(as))
	for i, a := range as {
		out[i] = rbac.Access{Type: a.Type, Name: a.Name, Actions: a.Actions}
	}
	return out
}

func fromRBAC(as []rbac.Access) []token.Access {
	out := make([]token.Access, len(as))
	for i, a := range as {
		out[i] = token.Access{Type: a.Type, Name: a.Name, Actions: a.Actions}
	}
	return out
}

// tokenProblem says what is wrong with a token without echoing it.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, token.ErrExpired):
		return "expired"
	case errors.Is(err, token.ErrAudience):
		return "minted for another registry"
	case errors.Is(err, token.ErrKind):
		return "not a token of this kind"
	case errors.Is(err, token.ErrNotYetValid):
		return "not valid yet"
	}
	return "malformed or not signed by this server"
}

// currentBypass is the network bypass the principal of c may use now:
// none for admin users, registry tokens and anonymous callers, and for
// principals what their record says at this moment.
func (s *Service) currentBypass(ctx context.Context, c token.Claims) (string, error) {
	switch c.PrincipalKind {
	case token.PrincipalAdmin, token.PrincipalToken, token.PrincipalAnonymous, token.PrincipalRun:
		return "", nil
	}
	r, err := s.rightsOf(ctx, c.Subject)
	return r.bypass, err
}
