// Package meta is berth's metadata store: registries, repositories, manifests,
// tags, blob records, upload sessions and users, kept in SQL. SQLite is the
// embedded default; the SQL is written to run on PostgreSQL too, so a second
// dialect adds no change for callers. It knows no HTTP and no protocol rules:
// callers (package registry) decide what is allowed, then read and write here.
//
// Reads run anywhere on *DB; writes run only inside DB.Update, on one *Tx.
// Every backend passes the suite in package metatest.
package meta

import (
	"errors"
	"time"

	"github.com/berth-project/berth/internal/oci"
)

// ErrNotFound is returned when a looked-up record does not exist.
var ErrNotFound = errors.New("meta: not found")

// ErrConflict is returned when a write lost a race or breaks a uniqueness rule.
var ErrConflict = errors.New("meta: conflict")

// Attributes are the locks of a repository, manifest or tag. All are true
// unless someone set them false.
type Attributes struct {
	DeleteEnabled bool `json:"deleteEnabled"`
	WriteEnabled  bool `json:"writeEnabled"`
	ListEnabled   bool `json:"listEnabled"`
	ReadEnabled   bool `json:"readEnabled"`
}

// Unlocked is the attributes of new content.
var Unlocked = Attributes{DeleteEnabled: true, WriteEnabled: true, ListEnabled: true, ReadEnabled: true}

// Registry is one registry served by this instance.
type Registry struct {
	ID            int64
	Name          string
	LoginServer   string
	Location      string
	AnonymousPull bool // anyone may pull, without credentials
	Network       Network
	CreatedAt     time.Time
}

// Network is a registry's network perimeter, as stored; package netrules
// validates and compiles it.
type Network struct {
	PublicNetworkAccess   bool
	DefaultAction         string   // "Allow" or "Deny"
	IPRules               []string // normalised IPv4 addresses and CIDRs
	BypassTrustedServices bool
	BypassForTasks        bool
}

// Repository is a named collection of manifests and tags in a registry.
type Repository struct {
	ID         int64
	RegistryID int64
	Name       string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Attributes Attributes
}

// Blob is a record of committed content, shared by every repository linked to it.
type Blob struct {
	Digest    oci.Digest
	Size      int64
	CreatedAt time.Time
}

// Manifest is a manifest stored in one repository.
type Manifest struct {
	ID           int64
	RepositoryID int64
	Digest       oci.Digest
	MediaType    string
	ArtifactType string
	Size         int64
	Content      []byte // empty in listings
	Subject      oci.Digest
	Annotations  map[string]string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Attributes   Attributes

	Blobs    []oci.Digest // written with the manifest: config and layers
	Children []oci.Digest // written with the manifest: index members
	Tags     []string     // filled by listings
}

// Tag names a manifest in a repository.
type Tag struct {
	Name       string
	Digest     oci.Digest
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Attributes Attributes
}

// Upload is a blob upload session; it lives here, not in one server's memory,
// so that it survives restarts and works across replicas.
type Upload struct {
	ID         string
	RegistryID int64
	Repository string
	Size       int64  // bytes received so far
	HashState  []byte // the marshalled hash of those bytes
	Algorithm  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// User is a person who signs in with a password: a principal of kind
// "user".
type User struct {
	ID           int64
	PrincipalID  string
	Name         string
	PasswordHash string
	Role         string
	CreatedAt    time.Time
}

// Order is the order of a listing by time.
type Order int

// Listing orders.
const (
	ByName Order = iota
	ByTimeDesc
	ByTimeAsc
)

// Page asks for at most N entries after the entry named Last (N <= 0: all).
type Page struct {
	Last  string
	N     int
	Order Order
}
