package meta

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Principal kinds.
const (
	KindUser             = "user"
	KindServicePrincipal = "servicePrincipal"
	KindManagedIdentity  = "managedIdentity"
	KindTrustedService   = "trustedService"
)

// Principal is anyone who can be given a role: a user, a service principal,
// a managed identity or a trusted service.
type Principal struct {
	ID           string // principalId
	Kind         string
	Name         string
	AppID        string // a service principal's appId, a managed identity's clientId
	PasswordHash string // users only
	Owner        string // a system-assigned identity's owner (e.g. a task id)
	Trusted      bool   // may use the trusted-services bypass
	CreatedAt    time.Time
}

// NewID returns a random identifier in the 8-4-4-4-12 form of a UUID v4.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

const principalCols = `principal_id, kind, name, app_id, password_hash, owner, trusted, created_at`

func scanPrincipal(sc interface{ Scan(...any) error }) (Principal, error) {
	var p Principal
	var c int64
	err := sc.Scan(&p.ID, &p.Kind, &p.Name, &p.AppID, &p.PasswordHash, &p.Owner, &p.Trusted, &c)
	p.CreatedAt = fromNanos(c)
	return p, notFound(err)
}

// CreatePrincipal adds a principal; ID is generated when empty. A kind and
// name already taken is ErrConflict.
func (tx *Tx) CreatePrincipal(ctx context.Context, p *Principal) error {
	if p.ID == "" {
		p.ID = NewID()
	}
	p.CreatedAt = tx.now.UTC()
	res, err := tx.c.exec(ctx, `INSERT INTO principals (`+principalCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, p.ID, p.Kind, p.Name, p.AppID, p.PasswordHash, p.Owner, p.Trusted, nanos(p.CreatedAt))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrConflict
	}
	return bumpAuth(ctx, tx)
}

// Principal looks a principal up by principalId.
func (q reads) Principal(ctx context.Context, id string) (Principal, error) {
	return scanPrincipal(q.c.queryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE principal_id = ?`, id))
}

// PrincipalByAppID looks a service principal or managed identity up by its
// appId or clientId.
func (q reads) PrincipalByAppID(ctx context.Context, appID string) (Principal, error) {
	if appID == "" {
		return Principal{}, ErrNotFound
	}
	return scanPrincipal(q.c.queryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE app_id = ?`, appID))
}

// PrincipalByName looks a principal of a kind up by name.
func (q reads) PrincipalByName(ctx context.Context, kind, name string) (Principal, error) {
	return scanPrincipal(q.c.queryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE kind = ? AND name = ?`, kind, name))
}

// Principals lists the principals of a kind ("" for all) by name.
func (q reads) Principals(ctx context.Context, kind string) ([]Principal, error) {
	rows, err := q.c.query(ctx, `SELECT `+principalCols+` FROM principals WHERE kind = ? OR ? = '' ORDER BY kind, name`, kind, kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Principal
	for rows.Next() {
		p, err := scanPrincipal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdatePrincipalPassword replaces a user's password hash.
func (tx *Tx) UpdatePrincipalPassword(ctx context.Context, id, hash string) error {
	return tx.changeOne(ctx, `UPDATE principals SET password_hash = ? WHERE principal_id = ?`, hash, id)
}

// SetPrincipalTrusted marks a principal as a trusted service or not.
func (tx *Tx) SetPrincipalTrusted(ctx context.Context, id string, trusted bool) error {
	return tx.changeOne(ctx, `UPDATE principals SET trusted = ? WHERE principal_id = ?`, trusted, id)
}

// DeletePrincipal removes a principal with its secrets and role assignments.
func (tx *Tx) DeletePrincipal(ctx context.Context, id string) error {
	return tx.changeOne(ctx, `DELETE FROM principals WHERE principal_id = ?`, id)
}

// changeOne runs a statement that must change exactly one row, and records
// that credentials changed.
func (tx *Tx) changeOne(ctx context.Context, query string, args ...any) error {
	res, err := tx.c.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return bumpAuth(ctx, tx)
}

// PutUser creates a user, or replaces the password hash and role of one;
// u.ID, u.PrincipalID and u.CreatedAt are filled in from the stored user.
func (tx *Tx) PutUser(ctx context.Context, u *User) error {
	var c int64
	err := tx.c.queryRow(ctx, `INSERT INTO principals (principal_id, kind, name, password_hash, role, created_at)
		VALUES (?, 'user', ?, ?, ?, ?)
		ON CONFLICT (kind, name) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role
		RETURNING id, principal_id, created_at`,
		NewID(), u.Name, u.PasswordHash, u.Role, nanos(tx.now)).Scan(&u.ID, &u.PrincipalID, &c)
	u.CreatedAt = fromNanos(c)
	if err != nil {
		return err
	}
	return bumpAuth(ctx, tx)
}

// User looks a user up by name.
func (q reads) User(ctx context.Context, name string) (User, error) {
	u := User{Name: name}
	var c int64
	err := q.c.queryRow(ctx, `SELECT id, principal_id, password_hash, role, created_at FROM principals
		WHERE kind = 'user' AND name = ?`, name).Scan(&u.ID, &u.PrincipalID, &u.PasswordHash, &u.Role, &c)
	u.CreatedAt = fromNanos(c)
	if err == sql.ErrNoRows {
		return u, ErrNotFound
	}
	return u, err
}

// Secret is a service principal's client secret, kept as a hash.
type Secret struct {
	ID          string
	PrincipalID string
	Hash        string
	Hint        string // the first characters, to tell secrets apart
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// AddSecret stores a secret's hash.
func (tx *Tx) AddSecret(ctx context.Context, s *Secret) error {
	if s.ID == "" {
		s.ID = NewID()
	}
	s.CreatedAt = tx.now.UTC()
	_, err := tx.c.exec(ctx, `INSERT INTO principal_secrets (id, principal_id, hash, hint, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, s.ID, s.PrincipalID, s.Hash, s.Hint, nanos(s.CreatedAt), nanos(s.ExpiresAt))
	if err != nil {
		return err
	}
	return bumpAuth(ctx, tx)
}

// DeleteSecrets removes every secret of a principal.
func (tx *Tx) DeleteSecrets(ctx context.Context, principalID string) error {
	if _, err := tx.c.exec(ctx, `DELETE FROM principal_secrets WHERE principal_id = ?`, principalID); err != nil {
		return err
	}
	return bumpAuth(ctx, tx)
}

// Secrets lists a principal's secrets, newest first.
func (q reads) Secrets(ctx context.Context, principalID string) ([]Secret, error) {
	rows, err := q.c.query(ctx, `SELECT id, hash, hint, created_at, expires_at FROM principal_secrets
		WHERE principal_id = ? ORDER BY created_at DESC`, principalID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Secret
	for rows.Next() {
		s := Secret{PrincipalID: principalID}
		var c, e int64
		if err := rows.Scan(&s.ID, &s.Hash, &s.Hint, &c, &e); err != nil {
			return nil, err
		}
		s.CreatedAt, s.ExpiresAt = fromNanos(c), fromNanos(e)
		out = append(out, s)
	}
	return out, rows.Err()
}

// RoleAssignment gives a principal a role at a scope.
type RoleAssignment struct {
	ID          string
	PrincipalID string
	Role        string
	Scope       string
	CreatedAt   time.Time
}

// CreateRoleAssignment adds an assignment; the same principal, role and
// scope twice is ErrConflict.
func (tx *Tx) CreateRoleAssignment(ctx context.Context, a *RoleAssignment) error {
	if a.ID == "" {
		a.ID = NewID()
	}
	a.CreatedAt = tx.now.UTC()
	res, err := tx.c.exec(ctx, `INSERT INTO role_assignments (id, principal_id, role, scope, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, a.ID, a.PrincipalID, a.Role, a.Scope, nanos(a.CreatedAt))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrConflict
	}
	return bumpAuth(ctx, tx)
}

// DeleteRoleAssignment removes an assignment by id.
func (tx *Tx) DeleteRoleAssignment(ctx context.Context, id string) error {
	return tx.changeOne(ctx, `DELETE FROM role_assignments WHERE id = ?`, id)
}

// RoleAssignments lists assignments, of one principal when principalID is
// not empty, by scope then role.
func (q reads) RoleAssignments(ctx context.Context, principalID string) ([]RoleAssignment, error) {
	rows, err := q.c.query(ctx, `SELECT id, principal_id, role, scope, created_at FROM role_assignments
		WHERE principal_id = ? OR ? = '' ORDER BY scope, role, principal_id`, principalID, principalID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RoleAssignment
	for rows.Next() {
		var a RoleAssignment
		var c int64
		if err := rows.Scan(&a.ID, &a.PrincipalID, &a.Role, &a.Scope, &c); err != nil {
			return nil, err
		}
		a.CreatedAt = fromNanos(c)
		out = append(out, a)
	}
	return out, rows.Err()
}

// ScopeMap is a named list of repository actions in a registry.
type ScopeMap struct {
	ID          int64
	RegistryID  int64
	Name        string
	Description string
	Actions     []string // "repositories/<repo>/<action>"
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// PutScopeMap creates a scope map or replaces its description and actions.
func (tx *Tx) PutScopeMap(ctx context.Context, m *ScopeMap) error {
	acts, _ := json.Marshal(m.Actions)
	var c, u int64
	err := tx.c.queryRow(ctx, `INSERT INTO scope_maps (registry_id, name, description, actions, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (registry_id, name)
		DO UPDATE SET description = excluded.description, actions = excluded.actions, updated_at = excluded.updated_at
		RETURNING id, created_at, updated_at`, m.RegistryID, m.Name, m.Description, string(acts), nanos(tx.now), nanos(tx.now)).
		Scan(&m.ID, &c, &u)
	m.CreatedAt, m.UpdatedAt = fromNanos(c), fromNanos(u)
	if err != nil {
		return err
	}
	return bumpAuth(ctx, tx)
}

const scopeMapCols = `id, registry_id, name, description, actions, created_at, updated_at`

func scanScopeMap(sc interface{ Scan(...any) error }) (ScopeMap, error) {
	var m ScopeMap
	var acts string
	var c, u int64
	if err := sc.Scan(&m.ID, &m.RegistryID, &m.Name, &m.Description, &acts, &c, &u); err != nil {
		return m, notFound(err)
	}
	m.CreatedAt, m.UpdatedAt = fromNanos(c), fromNanos(u)
	return m, json.Unmarshal([]byte(acts), &m.Actions)
}

// ScopeMap looks a registry's scope map up by name.
func (q reads) ScopeMap(ctx context.Context, registryID int64, name string) (ScopeMap, error) {
	return scanScopeMap(q.c.queryRow(ctx, `SELECT `+scopeMapCols+` FROM scope_maps WHERE registry_id = ? AND name = ?`, registryID, name))
}

// ScopeMaps lists a registry's scope maps by name.
func (q reads) ScopeMaps(ctx context.Context, registryID int64) ([]ScopeMap, error) {
	rows, err := q.c.query(ctx, `SELECT `+scopeMapCols+` FROM scope_maps WHERE registry_id = ? ORDER BY name`, registryID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ScopeMap
	for rows.Next() {
		m, err := scanScopeMap(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeleteScopeMap removes a scope map.
func (tx *Tx) DeleteScopeMap(ctx context.Context, registryID int64, name string) error {
	return tx.changeOne(ctx, `DELETE FROM scope_maps WHERE registry_id = ? AND name = ?`, registryID, name)
}

// TokenPassword is one of a registry token's two passwords, kept as a hash.
type TokenPassword struct {
	Hash      string
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
}

// RegistryToken is a registry's username/password credential bound to a
// scope map.
type RegistryToken struct {
	ID         int64
	RegistryID int64
	Name       string
	ScopeMap   string
	Enabled    bool
	Passwords  [2]TokenPassword
	CreatedAt  time.Time
}

// PutRegistryToken creates a token or replaces its scope map, status and
// passwords.
func (tx *Tx) PutRegistryToken(ctx context.Context, t *RegistryToken) error {
	p1, p2 := t.Passwords[0], t.Passwords[1]
	var c int64
	err := tx.c.queryRow(ctx, `INSERT INTO registry_tokens (registry_id, name, scope_map, enabled,
		password1_hash, password1_created_at, password1_expires_at, password2_hash, password2_created_at, password2_expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (registry_id, name) DO UPDATE SET
		scope_map = excluded.scope_map, enabled = excluded.enabled,
		password1_hash = excluded.password1_hash, password1_created_at = excluded.password1_created_at, password1_expires_at = excluded.password1_expires_at,
		password2_hash = excluded.password2_hash, password2_created_at = excluded.password2_created_at, password2_expires_at = excluded.password2_expires_at
		RETURNING id, created_at`,
		t.RegistryID, t.Name, t.ScopeMap, t.Enabled,
		p1.Hash, nanosOrZero(p1.CreatedAt), nanosOrZero(p1.ExpiresAt), p2.Hash, nanosOrZero(p2.CreatedAt), nanosOrZero(p2.ExpiresAt),
		nanos(tx.now)).Scan(&t.ID, &c)
	t.CreatedAt = fromNanos(c)
	if err != nil {
		return err
	}
	return bumpAuth(ctx, tx)
}

func nanosOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanosOrZero(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromNanos(n)
}

const tokenCols = `id, registry_id, name, scope_map, enabled, password1_hash, password1_created_at, password1_expires_at,
	password2_hash, password2_created_at, password2_expires_at, created_at`

func scanToken(sc interface{ Scan(...any) error }) (RegistryToken, error) {
	var t RegistryToken
	var c1, e1, c2, e2, c int64
	err := sc.Scan(&t.ID, &t.RegistryID, &t.Name, &t.ScopeMap, &t.Enabled, &t.Passwords[0].Hash, &c1, &e1,
		&t.Passwords[1].Hash, &c2, &e2, &c)
	t.Passwords[0].CreatedAt, t.Passwords[0].ExpiresAt = fromNanosOrZero(c1), fromNanosOrZero(e1)
	t.Passwords[1].CreatedAt, t.Passwords[1].ExpiresAt = fromNanosOrZero(c2), fromNanosOrZero(e2)
	t.CreatedAt = fromNanos(c)
	return t, notFound(err)
}

// RegistryToken looks a registry's token up by name.
func (q reads) RegistryToken(ctx context.Context, registryID int64, name string) (RegistryToken, error) {
	return scanToken(q.c.queryRow(ctx, `SELECT `+tokenCols+` FROM registry_tokens WHERE registry_id = ? AND name = ?`, registryID, name))
}

// RegistryTokens lists a registry's tokens by name.
func (q reads) RegistryTokens(ctx context.Context, registryID int64) ([]RegistryToken, error) {
	rows, err := q.c.query(ctx, `SELECT `+tokenCols+` FROM registry_tokens WHERE registry_id = ? ORDER BY name`, registryID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RegistryToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteRegistryToken removes a token.
func (tx *Tx) DeleteRegistryToken(ctx context.Context, registryID int64, name string) error {
	return tx.changeOne(ctx, `DELETE FROM registry_tokens WHERE registry_id = ? AND name = ?`, registryID, name)
}

// AdminCredentials are a registry's admin user: its two passwords, sealed
// (encrypted) by the caller, since they can be shown again.
type AdminCredentials struct {
	Enabled   bool
	Passwords [2][]byte
}

// AdminCredentials reads a registry's admin user.
func (q reads) AdminCredentials(ctx context.Context, registryID int64) (AdminCredentials, error) {
	var a AdminCredentials
	err := q.c.queryRow(ctx, `SELECT admin_enabled, admin_password1, admin_password2 FROM registries WHERE id = ?`, registryID).
		Scan(&a.Enabled, &a.Passwords[0], &a.Passwords[1])
	return a, notFound(err)
}

// SetAdminCredentials replaces a registry's admin user.
func (tx *Tx) SetAdminCredentials(ctx context.Context, registryID int64, a AdminCredentials) error {
	if a.Passwords[0] == nil {
		a.Passwords[0] = []byte{}
	}
	if a.Passwords[1] == nil {
		a.Passwords[1] = []byte{}
	}
	return tx.changeOne(ctx, `UPDATE registries SET admin_enabled = ?, admin_password1 = ?, admin_password2 = ? WHERE id = ?`,
		a.Enabled, a.Passwords[0], a.Passwords[1], registryID)
}

// SigningKey is a key that signs berth's tokens, sealed by the caller.
type SigningKey struct {
	ID        string
	Secret    []byte
	CreatedAt time.Time
	RetiredAt time.Time // zero while it signs
}

// SigningKeys lists every signing key, oldest first.
func (q reads) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	rows, err := q.c.query(ctx, `SELECT id, secret, created_at, retired_at FROM signing_keys ORDER BY created_at`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		var k SigningKey
		var c, r int64
		if err := rows.Scan(&k.ID, &k.Secret, &c, &r); err != nil {
			return nil, err
		}
		k.CreatedAt, k.RetiredAt = fromNanos(c), fromNanosOrZero(r)
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddSigningKey stores a new signing key.
func (tx *Tx) AddSigningKey(ctx context.Context, k SigningKey) error {
	_, err := tx.c.exec(ctx, `INSERT INTO signing_keys (id, secret, created_at, retired_at) VALUES (?, ?, ?, ?)`,
		k.ID, k.Secret, nanos(k.CreatedAt), nanosOrZero(k.RetiredAt))
	return err
}

// RetireSigningKey stops a key from signing; it still verifies.
func (tx *Tx) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	return tx.changeOne(ctx, `UPDATE signing_keys SET retired_at = ? WHERE id = ?`, nanos(at), id)
}

// DeleteSigningKey removes a key: tokens it signed stop verifying.
func (tx *Tx) DeleteSigningKey(ctx context.Context, id string) error {
	return tx.changeOne(ctx, `DELETE FROM signing_keys WHERE id = ?`, id)
}

// AuthVersion is a counter that every change to credentials, roles, scope
// maps or tokens increases; replicas compare it to drop their caches.
func (q reads) AuthVersion(ctx context.Context) (int64, error) {
	var v int64
	err := q.c.queryRow(ctx, `SELECT version FROM auth_version`).Scan(&v)
	return v, err
}

func bumpAuth(ctx context.Context, tx *Tx) error {
	_, err := tx.c.exec(ctx, `UPDATE auth_version SET version = version + 1`)
	return err
}
