package metadataapi

import (
	"strings"

	"github.com/berth-project/berth/internal/oci"
)

// kind is what an /acr/v1 path addresses.
type kind int

const (
	kindNone kind = iota
	kindCatalog
	kindRepository
	kindTags
	kindTag
	kindManifests
	kindManifest
)

var kindNames = [...]string{"acr_none", "acr_catalog", "acr_repository", "acr_tags", "acr_tag", "acr_manifests", "acr_manifest"}

func (k kind) String() string { return kindNames[k] }

// route is a parsed /acr/v1 path.
type route struct {
	kind kind
	name string // repository
	ref  string // tag, or manifest digest (or tag)
}

// parsePath reads an /acr/v1 path from the right: repository names contain
// slashes, but the parts after them never do, and no name component starts
// with "_", so "_tags" and "_manifests" cannot be part of a name. The path
// is the decoded one: clients such as the Azure SDKs send "a%2Fb" for a/b
// and "sha256%3A…" for a digest.
func parsePath(p string) route {
	rest, ok := strings.CutPrefix(p, "/acr/v1/")
	if !ok || rest == "" {
		return route{}
	}
	if rest == "_catalog" {
		return route{kind: kindCatalog}
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		head, last := rest[:i], rest[i+1:]
		// The item forms first: a tag may itself be called "_tags".
		if j := strings.LastIndexByte(head, '/'); j >= 0 {
			switch name, verb := head[:j], head[j+1:]; verb {
			case "_tags":
				return route{kind: kindTag, name: name, ref: last}
			case "_manifests":
				return route{kind: kindManifest, name: name, ref: last}
			}
		}
		switch last {
		case "_tags":
			return route{kind: kindTags, name: head}
		case "_manifests":
			return route{kind: kindManifests, name: head}
		}
	}
	// Any other "_" segment is an endpoint berth does not serve (_metadata…).
	for _, seg := range strings.Split(rest, "/") {
		if strings.HasPrefix(seg, "_") {
			return route{}
		}
	}
	return route{kind: kindRepository, name: rest}
}

// validName reports whether the route's repository name is valid.
func (r route) validName() bool { return r.kind == kindCatalog || oci.ValidName(r.name) }
