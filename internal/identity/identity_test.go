package identity_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/identity"
	"github.com/berth-project/berth/internal/storage/meta"
)

func TestPasswordHashes(t *testing.T) {
	long := strings.Repeat("x", 100) // past bcrypt's 72 bytes
	for _, pw := range []string{"secret", "", long} {
		h := identity.HashPassword(pw)
		if strings.Contains(h, pw) && pw != "" {
			t.Fatalf("hash %q contains the password", h)
		}
		if ok, err := identity.CheckPassword(h, pw); !ok || err != nil {
			t.Errorf("CheckPassword(hash of %.10q, same) = %v, %v; want true", pw, ok, err)
		}
		if ok, _ := identity.CheckPassword(h, pw+"!"); ok {
			t.Errorf("CheckPassword accepted a wrong password for %.10q", pw)
		}
	}
	// Two passwords that share their first 72 bytes must not match.
	if ok, _ := identity.CheckPassword(identity.HashPassword(long), long[:72]); ok {
		t.Error("a long password matched its first 72 bytes")
	}
	if _, err := identity.CheckPassword("not a hash", "x"); err == nil {
		t.Error("a malformed hash gave no error")
	}
	if a, b := identity.RandomPassword(), identity.RandomPassword(); a == b || len(a) < 20 {
		t.Errorf("random passwords %q, %q", a, b)
	}
}

// countingUsers counts how often the verifier reaches the store.
type countingUsers struct {
	db    *meta.DB
	calls int
}

func (c *countingUsers) User(ctx context.Context, name string) (meta.User, error) {
	c.calls++
	return c.db.User(ctx, name)
}

func TestVerifierRemembersGoodCredentialsOnly(t *testing.T) {
	ctx := context.Background()
	db, err := meta.OpenSQLite(ctx, filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u := meta.User{Name: "admin", PasswordHash: identity.HashPassword("pw"), Role: "Owner"}
	if err := db.Update(ctx, func(tx *meta.Tx) error { return tx.PutUser(ctx, &u) }); err != nil {
		t.Fatal(err)
	}
	users := &countingUsers{db: db}
	v := identity.NewVerifier(users, time.Minute)

	for i := 0; i < 3; i++ {
		if _, err := v.Check(ctx, "admin", "pw"); err != nil {
			t.Fatalf("good credentials: %v", err)
		}
	}
	if users.calls != 1 {
		t.Errorf("store reached %d times for one good password, want 1", users.calls)
	}
	for i := 0; i < 2; i++ {
		if _, err := v.Check(ctx, "admin", "wrong"); err != identity.ErrBadCredentials {
			t.Fatalf("wrong password: err = %v", err)
		}
	}
	if users.calls != 2 {
		t.Errorf("a repeated wrong password is remembered for a while: %d store calls, want 2", users.calls)
	}
	if _, err := v.Check(ctx, "admin", "wrong2"); err != identity.ErrBadCredentials || users.calls != 3 {
		t.Errorf("another wrong password: err = %v after %d store calls, want ErrBadCredentials after 3", err, users.calls)
	}
	if _, err := v.Check(ctx, "nobody", "pw"); err != identity.ErrBadCredentials {
		t.Errorf("unknown user: err = %v", err)
	}
	// Concurrent first checks of the same credentials share one hash.
	v2 := identity.NewVerifier(users, time.Minute)
	before := users.calls
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v2.Check(ctx, "admin", "pw"); err != nil {
				t.Errorf("concurrent check: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := users.calls - before; n > 2 {
		t.Errorf("16 concurrent checks reached the store %d times, want 1 (or 2 if one came after the first finished)", n)
	}
	// After a password change, Forget makes the old password stop working at once.
	u.PasswordHash = identity.HashPassword("new")
	if err := db.Update(ctx, func(tx *meta.Tx) error { return tx.PutUser(ctx, &u) }); err != nil {
		t.Fatal(err)
	}
	v.Forget()
	if _, err := v.Check(ctx, "admin", "pw"); err != identity.ErrBadCredentials {
		t.Errorf("old password after Forget: err = %v", err)
	}
	if _, err := v.Check(ctx, "admin", "new"); err != nil {
		t.Errorf("new password: %v", err)
	}
}
