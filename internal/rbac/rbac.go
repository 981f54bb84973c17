// Package rbac decides, in one place, what a principal may do: the roles and
// their permissions, role assignments and their scopes, per-registry scope
// maps, and the Docker token "access" claims that carry a decision to the
// data plane.
//
// It owns the vocabulary (role names, scope paths, scope-map actions, token
// scope strings), the parsers that validate it, and pure decisions over
// values its callers pass in. It must not know HTTP, storage, identities or
// clocks: the management API, the token service and the data plane load
// assignments and scope maps themselves and ask this package.
//
// A decision flows like this: the token service builds a Grant for the
// principal (RoleGrant for users, service principals and managed
// identities; ScopeMapGrant for registry tokens), parses the requested
// scopes with ParseScopes and keeps what the Grant allows with Intersect —
// missing rights narrow the token, they are never an error. The data plane
// then checks the token's claims with Covers and CoversCatalog. The
// management API checks Allowed with ManageRead, ManageWrite or AssignRoles.
package rbac

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched, with errors.Is, by every error this package's
// parsers return, so that callers can answer with a client error without
// reading the message.
var ErrInvalid = errors.New("rbac: invalid input")

type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// invalid formats an error that matches ErrInvalid: what is wrong, with the
// input quoted, and what would be right.
func invalid(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}
