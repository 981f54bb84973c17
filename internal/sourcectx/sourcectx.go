// Package sourcectx fetches a run's source context from where it lives —
// a git repository or an oci:// artifact — into a directory of the agent.
// Both are untrusted input: what lands in the directory obeys the rules of
// internal/buildcontext (no entry outside it, no escaping link, bounded
// size). Uploaded contexts are internal/buildcontext's alone.
//
// It knows nothing of runs, agents' pools or berth's servers.
package sourcectx

import "strings"

// SourceKind is where a context comes from.
type SourceKind int

const (
	// Local is a directory or archive on the client's machine, which the
	// CLI packs and uploads.
	Local SourceKind = iota
	// Empty is /dev/null: a run with no context.
	Empty
	// Git is a git repository: https://host/repo.git#ref:folder.
	Git
	// OCI is an ORAS artifact: oci://<login server>/<repository>:<tag>.
	OCI
	// URL is an http(s) URL that names no git repository, such as a
	// remote tarball; berth does not fetch those.
	URL
)

func (k SourceKind) String() string {
	switch k {
	case Local:
		return "local"
	case Empty:
		return "empty"
	case Git:
		return "git"
	case OCI:
		return "oci"
	case URL:
		return "url"
	}
	return "unknown"
}

// Kind classifies a context as the CLI is given it. SSH and git://
// addresses are Git, so that ParseGit can say why it refuses them.
func Kind(s string) SourceKind {
	switch {
	case s == "/dev/null":
		return Empty
	case hasPrefixFold(s, "oci://"):
		return OCI
	case hasPrefixFold(s, "git@"), hasPrefixFold(s, "git://"), hasPrefixFold(s, "ssh://"), hasPrefixFold(s, "git+ssh://"):
		return Git
	case hasPrefixFold(s, "https://"), hasPrefixFold(s, "http://"):
		if looksLikeGit(s) {
			return Git
		}
		return URL
	}
	return Local
}

// looksLikeGit reports whether an http(s) URL names a git repository: its
// path ends in .git, or it is a repository page of a well-known forge
// (https://github.com/owner/repo), fragment aside.
func looksLikeGit(s string) bool {
	u, _, _ := strings.Cut(s, "#")
	u, _, _ = strings.Cut(u, "?")
	_, rest, _ := strings.Cut(u, "://")
	host, p, _ := strings.Cut(rest, "/")
	p = strings.TrimSuffix(p, "/")
	if strings.HasSuffix(strings.ToLower(p), ".git") {
		return true
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	switch strings.ToLower(host) {
	case "github.com", "gitlab.com", "bitbucket.org":
		parts := strings.Split(p, "/")
		return len(parts) == 2 && parts[0] != "" && parts[1] != ""
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
