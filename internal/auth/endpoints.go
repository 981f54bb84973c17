package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/dataplane"
	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/identity"
	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/token"
)

// maxForm bounds a token request's body.
const maxForm = 64 << 10

// TokenAPI serves /oauth2/token and /oauth2/exchange of a login server.
type TokenAPI struct {
	s       *Service
	resolve dataplane.Resolver
}

// TokenEndpoints returns the registry token endpoints.
func (s *Service) TokenEndpoints(resolve dataplane.Resolver) *TokenAPI {
	return &TokenAPI{s: s, resolve: resolve}
}

func (a *TokenAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reg, ok := a.resolve(r)
	if !ok {
		errcode.Write(w, r, errcode.NameUnknown.WithMessage("no registry is served at this address"))
		return
	}
	var err error
	switch {
	case r.URL.Path == "/oauth2/token" && r.Method == http.MethodGet:
		err = a.getToken(w, r, reg)
	case r.URL.Path == "/oauth2/token" && r.Method == http.MethodPost:
		err = a.postToken(w, r, reg)
	case r.URL.Path == "/oauth2/exchange" && r.Method == http.MethodPost:
		err = a.exchange(w, r, reg)
	default:
		err = errcode.Unsupported.WithMessage(r.Method + " " + r.URL.Path + " is not a token endpoint")
	}
	if err != nil {
		e := errcode.As(err)
		if e == nil {
			e = errcode.Unknown.New()
		}
		errcode.Write(w, r, e)
	}
}

// getToken is the Docker token flow: Basic credentials, scopes in the query.
func (a *TokenAPI) getToken(w http.ResponseWriter, r *http.Request, reg registry.Registry) error {
	q := r.URL.Query()
	if err := a.checkService(reg, r, q.Get("service")); err != nil {
		return err
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		if reg.AnonymousPull {
			// An anonymous token: pull scopes only, never a refresh token.
			return a.issue(w, r, reg, anonymousGrant{}, token.Claims{Subject: "anonymous", PrincipalKind: token.PrincipalAnonymous}, q["scope"], false)
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="`+Audience(reg, r)+`"`)
		return errcode.Unauthorized.WithMessage("send the credentials with HTTP Basic auth")
	}
	g, claims, err := a.s.grantFor(r.Context(), reg, r, user, pass)
	if err != nil {
		return err
	}
	return a.issue(w, r, reg, g, claims, q["scope"], q.Get("offline_token") == "true")
}

// postToken is the OAuth2 form flow: refresh_token or password grants.
func (a *TokenAPI) postToken(w http.ResponseWriter, r *http.Request, reg registry.Registry) error {
	f, err := form(w, r)
	if err != nil {
		return err
	}
	if err := a.checkService(reg, r, f.Get("service")); err != nil {
		return err
	}
	var g rbac.Grant
	var claims token.Claims
	switch f.Get("grant_type") {
	case "refresh_token":
		g, claims, err = a.s.grantFor(r.Context(), reg, r, NullUser, f.Get("refresh_token"))
	case "password":
		g, claims, err = a.s.grantFor(r.Context(), reg, r, f.Get("username"), f.Get("password"))
	default:
		return errcode.Unsupported.WithMessage("grant_type must be refresh_token or password")
	}
	if err != nil {
		return err
	}
	return a.issue(w, r, reg, g, claims, f["scope"], f.Get("offline_token") == "true")
}

// exchange turns an identity token into a registry refresh token.
func (a *TokenAPI) exchange(w http.ResponseWriter, r *http.Request, reg registry.Registry) error {
	f, err := form(w, r)
	if err != nil {
		return err
	}
	if gt := f.Get("grant_type"); gt != "access_token" && gt != "access_token_refresh_token" {
		return errcode.Unsupported.WithMessage("grant_type must be access_token")
	}
	if err := a.checkService(reg, r, f.Get("service")); err != nil {
		return err
	}
	id, err := a.s.tokens.Verify(f.Get("access_token"), token.KindIdentity, token.ManagementAudience)
	if err != nil {
		return errcode.Unauthorized.WithMessage("invalid identity token: " + tokenProblem(err))
	}
	if _, err := a.s.principalGrant(r.Context(), id.Subject); err != nil {
		return err
	}
	if err := a.s.runStillLive(r.Context(), id); err != nil {
		return err
	}
	bypass, err := a.s.currentBypass(r.Context(), id)
	if err != nil {
		return err
	}
	c := token.Claims{
		Subject: id.Subject, Audience: Audience(reg, r), Kind: token.KindRefresh,
		PrincipalKind: id.PrincipalKind, PrincipalName: id.PrincipalName, RunID: id.RunID, GrantType: "exchange", Registry: reg.Name,
		Bypass: bypass,
	}
	if id.RunID != "" {
		// A run's identity token makes a refresh token that ends with it.
		c.ExpiresAt = id.ExpiresAt
	}
	refresh, err := a.s.tokens.Issue(c)
	if err != nil {
		return err
	}
	return writeJSON(w, map[string]any{"refresh_token": refresh})
}

// checkService refuses a token request naming another registry.
func (a *TokenAPI) checkService(reg registry.Registry, r *http.Request, service string) error {
	if service != "" && service != Audience(reg, r) {
		return errcode.Unauthorized.WithMessage("service " + strconv.Quote(service) + " is not this registry's login server " + strconv.Quote(Audience(reg, r)))
	}
	return nil
}

// issue writes an access token for the intersection of what was asked and
// what g grants, never an error for missing rights.
func (a *TokenAPI) issue(w http.ResponseWriter, r *http.Request, reg registry.Registry, g rbac.Grant, who token.Claims, scopes []string, offline bool) error {
	var params []string
	for _, s := range scopes {
		params = append(params, strings.Fields(s)...)
	}
	asked, err := rbac.ParseScopes(params)
	if err != nil {
		return errcode.Unsupported.WithMessage("malformed scope: " + err.Error())
	}
	granted := rbac.Intersect(asked, rbac.GrantedBy(g, reg.Name))
	c := token.Claims{Subject: who.Subject, Audience: Audience(reg, r), Kind: token.KindAccess, Access: fromRBAC(granted),
		PrincipalKind: who.PrincipalKind, PrincipalName: who.PrincipalName, RunID: who.RunID, Registry: reg.Name,
		Bypass: who.Bypass}
	access, err := a.s.tokens.Issue(c)
	if err != nil {
		return err
	}
	now := a.s.now().UTC()
	out := map[string]any{
		"token": access, "access_token": access,
		"expires_in": int(a.s.tokens.Lifetime(token.KindAccess) / time.Second),
		"issued_at":  now.Format(time.RFC3339),
	}
	if offline {
		c.Kind, c.Access = token.KindRefresh, nil
		refresh, err := a.s.tokens.Issue(c)
		if err != nil {
			return err
		}
		out["refresh_token"] = refresh
	}
	return writeJSON(w, out)
}

func form(w http.ResponseWriter, r *http.Request) (values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return nil, errcode.Unsupported.WithMessage("malformed form body: " + err.Error())
	}
	return values(r.PostForm), nil
}

type values map[string][]string

func (v values) Get(k string) string {
	if len(v[k]) == 0 {
		return ""
	}
	return v[k][0]
}

func writeJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

// IdentityEndpoint serves /identity/oauth2/token: identity tokens for the
// management plane, from a user's password or a service principal's secret.
func (s *Service) IdentityEndpoint() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST with a form body")
			return
		}
		f, err := form(w, r)
		if err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		v := f
		ctx := r.Context()
		who := v.Get("username")
		if who == "" {
			who = v.Get("client_id")
		}
		keys := limitKeys(r, who)
		if wait, ok := s.limit.blocked(keys...); ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			oauthError(w, http.StatusTooManyRequests, "slow_down", "too many failed sign-ins from this address or for this user; try again later")
			return
		}
		var c token.Claims
		switch v.Get("grant_type") {
		case "password":
			p, err := s.ids.CheckUser(ctx, v.Get("username"), v.Get("password"))
			if err != nil {
				s.credentialError(w, err, keys)
				return
			}
			c = PrincipalClaims(p)
		case "client_credentials":
			p, err := s.ids.CheckServicePrincipal(ctx, v.Get("client_id"), v.Get("client_secret"))
			if err != nil {
				s.credentialError(w, err, keys)
				return
			}
			c = PrincipalClaims(p)
		default:
			oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be password or client_credentials")
			return
		}
		c.Audience, c.Kind, c.GrantType = token.ManagementAudience, token.KindIdentity, v.Get("grant_type")
		t, err := s.tokens.Issue(c)
		if err != nil {
			oauthError(w, http.StatusInternalServerError, "server_error", "could not issue a token")
			return
		}
		writeJSON(w, map[string]any{"access_token": t, "token_type": "Bearer",
			"expires_in": int(s.tokens.Lifetime(token.KindIdentity) / time.Second)})
	})
}

func (s *Service) credentialError(w http.ResponseWriter, err error, keys []string) {
	if errors.Is(err, identity.ErrBadCredentials) {
		s.limit.fail(keys...)
	}
	if errors.Is(err, identity.ErrBadCredentials) || errors.Is(err, context.Canceled) {
		oauthError(w, http.StatusUnauthorized, "invalid_grant", "wrong user name, client id, password or secret")
		return
	}
	oauthError(w, http.StatusInternalServerError, "server_error", "could not check the credentials")
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	b, _ := json.Marshal(map[string]string{"error": code, "error_description": desc})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}
