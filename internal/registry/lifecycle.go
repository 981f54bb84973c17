package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth-project/berth/internal/storage/meta"
)

// LoginServer is the address a registry is reached at by name: its own
// login server, or <name>.<domain> when the server has a domain, or ""
// when it has neither (it is then reached only as the default registry).
func LoginServer(r Registry, domain string) string {
	switch {
	case r.LoginServer != "":
		return r.LoginServer
	case domain != "":
		return r.Name + "." + domain
	}
	return ""
}

// CreateRegistry adds a registry whose name and login server (see
// LoginServer) no other registry has; either taken is meta.ErrConflict.
func (s *Service) CreateRegistry(ctx context.Context, r Registry, domain string) (Registry, error) {
	want := strings.ToLower(LoginServer(r, domain))
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		regs, err := tx.Registries(ctx)
		if err != nil {
			return err
		}
		for _, o := range regs {
			if o.Name == r.Name {
				return fmt.Errorf("%w: the registry name %q is taken", meta.ErrConflict, r.Name)
			}
			if want != "" && strings.ToLower(LoginServer(o, domain)) == want {
				return fmt.Errorf("%w: the login server %q is taken by registry %s", meta.ErrConflict, want, o.Name)
			}
		}
		return tx.CreateRegistry(ctx, &r)
	})
	return r, err
}

// DeleteRegistry deletes a registry with all its content (see
// meta.Tx.DeleteRegistry) and the files of its unfinished uploads. Locks
// do not stop it: they guard content against its users, and deleting the
// registry is its owner's decision. Blobs stay for garbage collection.
func (s *Service) DeleteRegistry(ctx context.Context, reg int64) error {
	var uploads []string
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		var err error
		if uploads, err = tx.RegistryUploads(ctx, reg); err != nil {
			return err
		}
		return tx.DeleteRegistry(ctx, reg)
	})
	s.ForgetRegistry(reg)
	if err != nil {
		return err
	}
	for _, id := range uploads {
		if err := s.blobs.DeleteUpload(ctx, id); err != nil {
			s.log.WarnContext(ctx, "upload file left behind by a registry deletion", "upload", id, "err", err)
		}
	}
	return nil
}

// ForgetRegistry drops every read cached of a registry, after it changed
// outside this service's write paths (it was deleted).
func (s *Service) ForgetRegistry(reg int64) { s.cache.invalidateRegistry(reg) }
