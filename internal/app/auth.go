package app

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/identity"
	"github.com/berth-project/berth/internal/registry"
)

// basicAuth lets the bootstrap owner in with HTTP Basic auth. Registry
// tokens and roles replace it when identities arrive.
type basicAuth struct {
	verifier *identity.Verifier
}

func (a *basicAuth) Authenticate(ctx context.Context, reg registry.Registry, r *http.Request) error {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return errcode.Unauthorized.New()
	}
	if _, err := a.verifier.Check(ctx, user, pass); err != nil {
		if errors.Is(err, identity.ErrBadCredentials) {
			return errcode.Unauthorized.WithMessage("wrong user name or password")
		}
		return err
	}
	return nil
}

func (a *basicAuth) Challenge(reg registry.Registry, r *http.Request) string {
	realm := reg.LoginServer
	if realm == "" {
		realm = r.Host
	}
	return `Basic realm="` + strings.ReplaceAll(realm, `"`, "") + `"`
}
