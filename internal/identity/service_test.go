package identity_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/identity"
	"github.com/berth-project/berth/internal/storage/meta"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newService(t *testing.T) (*identity.Service, *meta.DB, *clock, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := meta.OpenSQLite(ctx, filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	seal, err := identity.LoadSealer(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := identity.NewService(db, seal, time.Hour)
	s.SetClock(c.now)
	db.SetClock(c.now)
	return s, db, c, dir
}

func registry(t *testing.T, db *meta.DB, name string) meta.Registry {
	t.Helper()
	ctx := context.Background()
	r := meta.Registry{Name: name}
	if err := db.Update(ctx, func(tx *meta.Tx) error { return tx.CreateRegistry(ctx, &r) }); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestServicePrincipalSecretExpires(t *testing.T) {
	ctx := context.Background()
	s, _, c, _ := newService(t)
	p, creds, err := s.CreateServicePrincipal(ctx, "ci", identity.DefaultSecretYears)
	if err != nil {
		t.Fatal(err)
	}
	if creds.AppID == "" || creds.Password == "" || creds.Tenant != identity.Tenant || creds.PrincipalID != p.ID {
		t.Fatalf("credentials %+v", creds)
	}
	if want := c.t.AddDate(1, 0, 0); !creds.ExpiresAt.Equal(want) {
		t.Errorf("secret expires %v, want %v (1 year)", creds.ExpiresAt, want)
	}
	if _, err := s.CheckServicePrincipal(ctx, creds.AppID, creds.Password); err != nil {
		t.Fatalf("fresh secret: %v", err)
	}
	// A second before expiry the remembered verdict still holds; at expiry
	// the secret is refused at once, cache or not.
	c.t = creds.ExpiresAt.Add(-time.Second)
	if _, err := s.CheckServicePrincipal(ctx, creds.AppID, creds.Password); err != nil {
		t.Fatalf("secret a second before expiry: %v", err)
	}
	c.t = creds.ExpiresAt
	if _, err := s.CheckServicePrincipal(ctx, creds.AppID, creds.Password); !errors.Is(err, identity.ErrBadCredentials) {
		t.Fatalf("expired secret: err = %v", err)
	}
	// A reset gives a working secret again and the old one stays refused.
	fresh, err := s.ResetServicePrincipalCredential(ctx, creds.AppID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckServicePrincipal(ctx, creds.AppID, fresh.Password); err != nil {
		t.Fatalf("reset secret: %v", err)
	}
	if _, err := s.CheckServicePrincipal(ctx, creds.AppID, creds.Password); err == nil {
		t.Fatal("old secret works after a reset")
	}
	// Deleting the principal revokes at once, even with a remembered verdict.
	if err := s.DeletePrincipal(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckServicePrincipal(ctx, creds.AppID, fresh.Password); err == nil {
		t.Fatal("a deleted service principal's secret still works")
	}
	if _, _, err := s.CreateServicePrincipal(ctx, "bad name!", 1); !errors.Is(err, identity.ErrInvalid) {
		t.Errorf("bad name: err = %v", err)
	}
}

func TestAdminUser(t *testing.T) {
	ctx := context.Background()
	s, db, _, _ := newService(t)
	reg := registry(t, db, "blogbuildtest")
	a, err := s.AdminCredentials(ctx, reg)
	if err != nil || a.Enabled || len(a.Passwords) != 0 {
		t.Fatalf("admin user is off with no passwords by default: %+v %v", a, err)
	}
	if ok, _ := s.CheckAdmin(ctx, reg, "blogbuildtest", ""); ok {
		t.Fatal("disabled admin user accepted")
	}
	if err := s.SetAdminEnabled(ctx, reg, true); err != nil {
		t.Fatal(err)
	}
	a, _ = s.AdminCredentials(ctx, reg)
	if !a.Enabled || a.Username != "blogbuildtest" || len(a.Passwords) != 2 || a.Passwords[0].Value == a.Passwords[1].Value {
		t.Fatalf("enabled admin user: %+v", a)
	}
	p1, p2 := a.Passwords[0].Value, a.Passwords[1].Value
	for _, p := range []string{p1, p2} {
		if ok, err := s.CheckAdmin(ctx, reg, "blogbuildtest", p); !ok || err != nil {
			t.Fatalf("admin password refused: %v", err)
		}
	}
	if ok, _ := s.CheckAdmin(ctx, reg, "otherregistry", p1); ok {
		t.Fatal("admin password accepted under another user name")
	}
	if err := s.RenewAdminPassword(ctx, reg, "password2"); err != nil {
		t.Fatal(err)
	}
	a, _ = s.AdminCredentials(ctx, reg)
	if a.Passwords[0].Value != p1 || a.Passwords[1].Value == p2 {
		t.Fatalf("renewing password2 must change only it: %+v", a.Passwords)
	}
	if ok, _ := s.CheckAdmin(ctx, reg, "blogbuildtest", p2); ok {
		t.Fatal("the old password2 still works")
	}
	if err := s.RenewAdminPassword(ctx, reg, "password3"); !errors.Is(err, identity.ErrInvalid) {
		t.Errorf("unknown password name: err = %v", err)
	}
	if err := s.SetAdminEnabled(ctx, reg, false); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.CheckAdmin(ctx, reg, "blogbuildtest", p1); ok {
		t.Fatal("a disabled admin user still works")
	}
}

func TestRegistryTokens(t *testing.T) {
	ctx := context.Background()
	s, db, c, _ := newService(t)
	reg := registry(t, db, "blogbuildtest")
	creds, err := s.CreateToken(ctx, reg, "ci-pull", "_repositories_pull")
	if err != nil {
		t.Fatal(err)
	}
	if len(creds.Passwords) != 2 {
		t.Fatalf("token credentials %+v", creds)
	}
	if _, err := s.CreateToken(ctx, reg, "ci-pull", "_repositories_pull"); !errors.Is(err, identity.ErrExists) {
		t.Errorf("second token of one name: err = %v", err)
	}
	if tok, err := s.CheckToken(ctx, reg, "ci-pull", creds.Passwords[0].Value); err != nil || tok.ScopeMap != "_repositories_pull" {
		t.Fatalf("token password1: %v, %+v", err, tok)
	}
	// password1 regenerated with a 1-day expiry: the old one stops at once,
	// the new one works for a day, password2 is untouched.
	gen, err := s.GenerateTokenPassword(ctx, reg, "ci-pull", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckToken(ctx, reg, "ci-pull", creds.Passwords[0].Value); err == nil {
		t.Fatal("replaced password1 still works")
	}
	if _, err := s.CheckToken(ctx, reg, "ci-pull", gen.Passwords[0].Value); err != nil {
		t.Fatalf("new password1: %v", err)
	}
	c.t = c.t.Add(24 * time.Hour)
	if _, err := s.CheckToken(ctx, reg, "ci-pull", gen.Passwords[0].Value); err == nil {
		t.Fatal("password1 works past its expiry")
	}
	if _, err := s.CheckToken(ctx, reg, "ci-pull", creds.Passwords[1].Value); err != nil {
		t.Fatalf("password2 without expiry: %v", err)
	}
	if err := s.SetTokenEnabled(ctx, reg, "ci-pull", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckToken(ctx, reg, "ci-pull", creds.Passwords[1].Value); err == nil {
		t.Fatal("a disabled token still works")
	}
	other := registry(t, db, "otherregistry")
	if _, err := s.CheckToken(ctx, other, "ci-pull", creds.Passwords[1].Value); err == nil {
		t.Fatal("a token works on another registry")
	}
}

// TestSecretsAtRest reads the database files and finds none of the
// passwords and secrets berth handed out.
func TestSecretsAtRest(t *testing.T) {
	ctx := context.Background()
	s, db, _, dir := newService(t)
	reg := registry(t, db, "blogbuildtest")
	var plain []string
	if _, err := s.CreateUser(ctx, "alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	plain = append(plain, "correct horse battery")
	_, sp, err := s.CreateServicePrincipal(ctx, "ci", 1)
	if err != nil {
		t.Fatal(err)
	}
	plain = append(plain, sp.Password)
	if err := s.SetAdminEnabled(ctx, reg, true); err != nil {
		t.Fatal(err)
	}
	a, _ := s.AdminCredentials(ctx, reg)
	for _, p := range a.Passwords {
		plain = append(plain, p.Value)
	}
	tok, err := s.CreateToken(ctx, reg, "ci-pull", "_repositories_pull")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tok.Passwords {
		plain = append(plain, p.Value)
	}
	db.Close() // checkpoint the WAL into meta.db
	files, _ := filepath.Glob(filepath.Join(dir, "meta.db*"))
	if len(files) == 0 {
		t.Fatal("no database files found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range plain {
			if bytes.Contains(b, []byte(p)) {
				t.Errorf("%s holds a plaintext secret (%.4s…)", filepath.Base(f), p)
			}
		}
	}
	if len(plain) != 6 {
		t.Fatalf("checked %d secrets, want 6", len(plain))
	}
}
