package meta

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order, each once; the schema_version table
// records how many ran. Append only: never edit a migration that shipped.
var migrations = []string{
	`CREATE TABLE registries (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		login_server TEXT NOT NULL DEFAULT '',
		location TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL
	);
	CREATE TABLE repositories (
		id INTEGER PRIMARY KEY,
		registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		delete_enabled BOOLEAN NOT NULL DEFAULT TRUE,
		write_enabled BOOLEAN NOT NULL DEFAULT TRUE,
		list_enabled BOOLEAN NOT NULL DEFAULT TRUE,
		read_enabled BOOLEAN NOT NULL DEFAULT TRUE,
		UNIQUE (registry_id, name)
	);
	CREATE TABLE blobs (
		digest TEXT PRIMARY KEY,
		size INTEGER NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE TABLE repository_blobs (
		repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
		digest TEXT NOT NULL REFERENCES blobs(digest),
		created_at INTEGER NOT NULL,
		PRIMARY KEY (repository_id, digest)
	) WITHOUT ROWID;
	CREATE INDEX repository_blobs_digest ON repository_blobs(digest);
	CREATE TABLE manifests (
		id INTEGER PRIMARY KEY,
		repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
		digest TEXT NOT NULL,
		media_type TEXT NOT NULL,
		artifact_type TEXT NOT NULL DEFAULT '',
		size INTEGER NOT NULL,
		content BLOB NOT NULL,
		subject TEXT NOT NULL DEFAULT '',
		annotations TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		delete_enabled BOOLEAN NOT NULL DEFAULT TRUE,
		write_enabled BOOLEAN NOT NULL DEFAULT TRUE,
		list_enabled BOOLEAN NOT NULL DEFAULT TRUE,
		read_enabled BOOLEAN NOT NULL DEFAULT TRUE,
		UNIQUE (repository_id, digest)
	);
	CREATE INDEX manifests_subject ON manifests(repository_id, subject);
	CREATE TABLE manifest_blobs (
		manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
		digest TEXT NOT NULL REFERENCES blobs(digest),
		PRIMARY KEY (manifest_id, digest)
	) WITHOUT ROWID;
	CREATE INDEX manifest_blobs_digest ON manifest_blobs(digest);
	CREATE TABLE manifest_children (
		manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
		child_digest TEXT NOT NULL,
		PRIMARY KEY (manifest_id, child_digest)
	) WITHOUT ROWID;
	CREATE TABLE tags (
		id INTEGER PRIMARY KEY,
		repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		digest TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		delete_enabled BOOLEAN NOT NULL DEFAULT TRUE,
		write_enabled BOOLEAN NOT NULL DEFAULT TRUE,
		list_enabled BOOLEAN NOT NULL DEFAULT TRUE,
		read_enabled BOOLEAN NOT NULL DEFAULT TRUE,
		UNIQUE (repository_id, name)
	);
	CREATE INDEX tags_digest ON tags(repository_id, digest);
	CREATE INDEX tags_time ON tags(repository_id, updated_at, name);
	CREATE TABLE uploads (
		id TEXT PRIMARY KEY,
		registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
		repository TEXT NOT NULL,
		size INTEGER NOT NULL,
		hash_state BLOB NOT NULL,
		algorithm TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE TABLE users (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		password_hash TEXT NOT NULL,
		role TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);`,
	// Identities: every kind of principal in one table, with the secrets,
	// role assignments, scope maps, registry tokens, admin credentials and
	// signing keys that make up who may do what.
	`CREATE TABLE principals (
		id INTEGER PRIMARY KEY,
		principal_id TEXT NOT NULL UNIQUE,
		kind TEXT NOT NULL,
		name TEXT NOT NULL,
		app_id TEXT NOT NULL DEFAULT '',
		password_hash TEXT NOT NULL DEFAULT '',
		role TEXT NOT NULL DEFAULT '',
		owner TEXT NOT NULL DEFAULT '',
		trusted BOOLEAN NOT NULL DEFAULT FALSE,
		created_at INTEGER NOT NULL,
		UNIQUE (kind, name)
	);
	CREATE INDEX principals_app_id ON principals(app_id);
	INSERT INTO principals (id, principal_id, kind, name, password_hash, role, created_at)
		SELECT id, lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a'
			|| substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))), 'user', name, password_hash, role, created_at FROM users;
	DROP TABLE users;
	CREATE TABLE principal_secrets (
		id TEXT PRIMARY KEY,
		principal_id TEXT NOT NULL REFERENCES principals(principal_id) ON DELETE CASCADE,
		hash TEXT NOT NULL,
		hint TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	);
	CREATE INDEX principal_secrets_principal ON principal_secrets(principal_id);
	CREATE TABLE role_assignments (
		id TEXT PRIMARY KEY,
		principal_id TEXT NOT NULL REFERENCES principals(principal_id) ON DELETE CASCADE,
		role TEXT NOT NULL,
		scope TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		UNIQUE (principal_id, role, scope)
	);
	CREATE TABLE scope_maps (
		id INTEGER PRIMARY KEY,
		registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		description TEXT NOT NULL DEFAULT '',
		actions TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		UNIQUE (registry_id, name)
	);
	CREATE TABLE registry_tokens (
		id INTEGER PRIMARY KEY,
		registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		scope_map TEXT NOT NULL,
		enabled BOOLEAN NOT NULL DEFAULT TRUE,
		password1_hash TEXT NOT NULL DEFAULT '',
		password1_created_at INTEGER NOT NULL DEFAULT 0,
		password1_expires_at INTEGER NOT NULL DEFAULT 0,
		password2_hash TEXT NOT NULL DEFAULT '',
		password2_created_at INTEGER NOT NULL DEFAULT 0,
		password2_expires_at INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL,
		UNIQUE (registry_id, name)
	);
	ALTER TABLE registries ADD COLUMN admin_enabled BOOLEAN NOT NULL DEFAULT FALSE;
	ALTER TABLE registries ADD COLUMN admin_password1 BLOB NOT NULL DEFAULT x'';
	ALTER TABLE registries ADD COLUMN admin_password2 BLOB NOT NULL DEFAULT x'';
	CREATE TABLE signing_keys (
		id TEXT PRIMARY KEY,
		secret BLOB NOT NULL,
		created_at INTEGER NOT NULL,
		retired_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE auth_version (version INTEGER NOT NULL);
	INSERT INTO auth_version (version) VALUES (1);`,
	// Anonymous pull: a registry whose content anyone may pull.
	`ALTER TABLE registries ADD COLUMN anonymous_pull BOOLEAN NOT NULL DEFAULT FALSE;`,
	// The network perimeter of each registry.
	`ALTER TABLE registries ADD COLUMN public_network_access BOOLEAN NOT NULL DEFAULT TRUE;
	ALTER TABLE registries ADD COLUMN default_action TEXT NOT NULL DEFAULT 'Allow';
	ALTER TABLE registries ADD COLUMN ip_rules TEXT NOT NULL DEFAULT '[]';
	ALTER TABLE registries ADD COLUMN bypass_trusted_services BOOLEAN NOT NULL DEFAULT TRUE;
	ALTER TABLE registries ADD COLUMN bypass_for_tasks BOOLEAN NOT NULL DEFAULT FALSE;`,
	// A counter that every change to what the data plane routes and gates
	// on (registries, their network settings, private endpoints) increases;
	// replicas poll it to reload.
	`CREATE TABLE registries_version (version INTEGER NOT NULL);
	INSERT INTO registries_version (version) VALUES (1);`,
	// Private endpoints: listeners bound to one registry.
	`CREATE TABLE private_endpoints (
		id INTEGER PRIMARY KEY,
		registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		address TEXT NOT NULL UNIQUE,
		state TEXT NOT NULL,
		description TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		UNIQUE (registry_id, name)
	);`,
	// The audit of the network perimeter: denied requests, and changes to
	// network settings.
	`CREATE TABLE network_denials (
		id INTEGER PRIMARY KEY,
		registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
		at INTEGER NOT NULL,
		client_ip TEXT NOT NULL,
		identity TEXT NOT NULL DEFAULT '',
		method TEXT NOT NULL,
		path TEXT NOT NULL,
		reason TEXT NOT NULL
	);
	CREATE INDEX network_denials_by_time ON network_denials (registry_id, at);
	CREATE TABLE network_changes (
		id INTEGER PRIMARY KEY,
		registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
		at INTEGER NOT NULL,
		principal TEXT NOT NULL,
		change TEXT NOT NULL
	);
	CREATE INDEX network_changes_by_time ON network_changes (registry_id, at);`,
	// Runs, their queue and live logs, and the build contexts they read.
	// A registry's run ids come from its run_seq, taken in the transaction
	// that creates the run.
	`ALTER TABLE registries ADD COLUMN run_seq INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE runs (
		id INTEGER PRIMARY KEY,
		registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
		run_id TEXT NOT NULL,
		seq INTEGER NOT NULL,
		run_type TEXT NOT NULL,
		status TEXT NOT NULL,
		agent_pool TEXT NOT NULL,
		agent TEXT NOT NULL DEFAULT '',
		run_trigger TEXT NOT NULL,
		request TEXT NOT NULL,
		secrets BLOB,
		timeout_seconds INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		started_at INTEGER NOT NULL DEFAULT 0,
		finished_at INTEGER NOT NULL DEFAULT 0,
		lease_id TEXT NOT NULL DEFAULT '',
		lease_expires_at INTEGER NOT NULL DEFAULT 0,
		cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
		error TEXT NOT NULL DEFAULT '',
		output_images TEXT NOT NULL DEFAULT '[]',
		dependencies TEXT NOT NULL DEFAULT '',
		log_digest TEXT NOT NULL DEFAULT '',
		log_size INTEGER NOT NULL DEFAULT 0,
		log_seq INTEGER NOT NULL DEFAULT 0,
		UNIQUE (registry_id, run_id)
	);
	CREATE INDEX runs_by_seq ON runs (registry_id, seq);
	CREATE INDEX runs_queue ON runs (agent_pool, status, id);
	CREATE INDEX runs_live ON runs (status, lease_expires_at);
	CREATE INDEX runs_unarchived ON runs (id) WHERE finished_at > 0 AND log_digest = '';
	CREATE TABLE run_log_chunks (
		run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		seq INTEGER NOT NULL,
		data BLOB NOT NULL,
		PRIMARY KEY (run_id, seq)
	);
	CREATE TABLE build_contexts (
		registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
		digest TEXT NOT NULL,
		size INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		PRIMARY KEY (registry_id, digest)
	);`,
	// Dedicated agent pools: one registry's, each with its own token
	// (hashed to find the pool, sealed for the server's own agents) and
	// egress address, and optionally the private endpoint its agents
	// reach the registry through (which cannot be deleted while used).
	`CREATE TABLE agent_pools (
		id INTEGER PRIMARY KEY,
		registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		agent_count INTEGER NOT NULL,
		private_endpoint_id INTEGER REFERENCES private_endpoints(id),
		egress TEXT NOT NULL UNIQUE,
		token_hash TEXT NOT NULL UNIQUE,
		token BLOB NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		UNIQUE (registry_id, name)
	);
	CREATE INDEX agent_pools_endpoint ON agent_pools (private_endpoint_id);`,
	// Online blob garbage collection: when a blob was last pushed, committed
	// or linked (its grace period runs from there), the blobs whose files a
	// collector is deleting, and indexes for the references it checks.
	`ALTER TABLE blobs ADD COLUMN touched_at INTEGER NOT NULL DEFAULT 0;
	UPDATE blobs SET touched_at = created_at;
	CREATE INDEX blobs_touched ON blobs (touched_at);
	CREATE TABLE blob_deletions (
		digest TEXT PRIMARY KEY,
		started_at INTEGER NOT NULL
	);
	CREATE INDEX build_contexts_digest ON build_contexts (digest);
	CREATE INDEX runs_log_digest ON runs (log_digest) WHERE log_digest <> '';`,
	// Tasks: stored runs of a registry (spec as JSON the tasks service
	// composes, secrets sealed by it), the owner of a system-assigned
	// identity, when their timers were last looked at, and the base
	// images their last successful run was built on. Runs name their task
	// and what triggered them.
	`CREATE TABLE tasks (
		id INTEGER PRIMARY KEY,
		registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		task_id TEXT NOT NULL UNIQUE,
		spec TEXT NOT NULL,
		secrets BLOB,
		system_principal_id TEXT NOT NULL DEFAULT '',
		timers_checked_at INTEGER NOT NULL DEFAULT 0,
		base_images TEXT NOT NULL DEFAULT '[]',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		UNIQUE (registry_id, name)
	);
	ALTER TABLE runs ADD COLUMN task_name TEXT NOT NULL DEFAULT '';
	ALTER TABLE runs ADD COLUMN triggered_by TEXT NOT NULL DEFAULT '';`,
}

func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	var v int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	switch {
	case err == sql.ErrNoRows:
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("store schema version %d is newer than this berth (%d)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(migrations)); err != nil {
		return err
	}
	return tx.Commit()
}
