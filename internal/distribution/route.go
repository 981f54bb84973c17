// Package distribution serves the OCI distribution API (/v2/) over the
// registry service. Handlers return errors; writeError alone turns them
// into protocol codes. It knows nothing of how credentials are checked
// (an Authenticator does that) or where content is stored.
package distribution

import (
	"strings"

	"github.com/berth-project/berth/internal/oci"
)

// kind is what a /v2 path addresses.
type kind int

const (
	kindNone kind = iota
	kindBase
	kindCatalog
	kindTags
	kindManifest
	kindBlob
	kindUploadStart
	kindUpload
	kindReferrers
)

var kindNames = [...]string{"none", "base", "catalog", "tags", "manifest", "blob", "upload_start", "upload", "referrers"}

func (k kind) String() string { return kindNames[k] }

// route is a parsed /v2 path.
type route struct {
	kind kind
	name string // repository
	ref  string // tag, digest or upload id
}

// parsePath reads a /v2 path from the right, since repository names
// contain slashes but the parts after them never do.
func parsePath(p string) route {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		if p == "/v2" {
			return route{kind: kindBase}
		}
		return route{}
	}
	switch rest {
	case "":
		return route{kind: kindBase}
	case "_catalog":
		return route{kind: kindCatalog}
	}
	if name, ok := strings.CutSuffix(rest, "/tags/list"); ok {
		return route{kind: kindTags, name: name}
	}
	if name, ok := strings.CutSuffix(rest, "/blobs/uploads/"); ok {
		return route{kind: kindUploadStart, name: name}
	}
	if name, ok := strings.CutSuffix(rest, "/blobs/uploads"); ok {
		return route{kind: kindUploadStart, name: name}
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return route{}
	}
	head, last := rest[:i], rest[i+1:]
	j := strings.LastIndexByte(head, '/')
	if j < 0 {
		return route{}
	}
	name, verb := head[:j], head[j+1:]
	switch verb {
	case "manifests":
		return route{kind: kindManifest, name: name, ref: last}
	case "blobs":
		return route{kind: kindBlob, name: name, ref: last}
	case "referrers":
		return route{kind: kindReferrers, name: name, ref: last}
	case "uploads":
		if n, ok := strings.CutSuffix(name, "/blobs"); ok {
			return route{kind: kindUpload, name: n, ref: last}
		}
	}
	return route{}
}

// validName reports whether the route's repository name is valid.
func (r route) validName() bool { return oci.ValidName(r.name) }
