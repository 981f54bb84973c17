// Package importer copies images into a registry of this server: the
// server side of `berth import`. It reads the source over the network with
// package regclient, a registry of this same server too, so that the
// source registry's network rules judge the import as they judge any
// client; for a source on this server it presents a short-lived access
// token of the built-in trusted service "import", which passes a
// registry's firewall only where that registry allows trusted services.
// It writes the target through the registry service, manifest by manifest
// and blob by blob, streaming (never a whole blob in memory); the blobs of
// a source on this server are linked from the shared blob store, not
// copied.
//
// It decides no rights: its caller (package mgmt) checks that whoever
// asked may push to the target and pull from a source on this server. It
// must not know the management API's wire shapes or HTTP handlers.
package importer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/token"
)

// PrincipalName is the name of the import service's built-in principal,
// of kind meta.KindTrustedService.
const PrincipalName = "import"

// Errors a caller can act on; the messages that wrap them say the rest.
var (
	ErrInvalid        = errors.New("invalid import")    // bad source, tag or mode
	ErrExists         = errors.New("target tag exists") // without Force
	ErrSourceNotFound = errors.New("source not found")  // the source registry has no such image
	ErrSourceDenied   = errors.New("source refused")    // network rules or credentials
)

// store is what the import service reads and writes of the metadata store.
type store interface {
	PrincipalByName(ctx context.Context, kind, name string) (meta.Principal, error)
	Update(ctx context.Context, fn func(tx *meta.Tx) error) error
}

// target is what it needs of the registry service.
type target interface {
	Registries(ctx context.Context) ([]registry.Registry, error)
	StatBlob(ctx context.Context, reg int64, repo string, d oci.Digest) (meta.Blob, error)
	MountBlob(ctx context.Context, reg int64, repo, from string, d oci.Digest) (meta.Blob, bool, error)
	MountBlobFrom(ctx context.Context, reg int64, repo string, fromReg int64, from string, d oci.Digest) (meta.Blob, bool, error)
	StartUpload(ctx context.Context, reg int64, repo, alg string) (meta.Upload, error)
	FinishUpload(ctx context.Context, reg int64, repo, id string, d oci.Digest, start, length int64, r io.Reader) (meta.Blob, error)
	CancelUpload(ctx context.Context, reg int64, repo, id string) error
	PutManifest(ctx context.Context, reg int64, repo string, ref registry.Reference, contentType string, body []byte) (registry.PutResult, error)
	Tag(ctx context.Context, reg int64, repo, tag string) (meta.Tag, error)
}

var (
	_ store  = (*meta.DB)(nil)
	_ target = (*registry.Service)(nil)
)

// Options configure the import service.
type Options struct {
	Store      *meta.DB
	Registries *registry.Service
	Tokens     *token.Service
	// Domain makes <name>.<domain> a registry's login server.
	Domain string
	// PlainHTTP reaches registries of this server over http (a server
	// without TLS); external registries too (loopback tests).
	PlainHTTP bool
	// TLS configures https (nil: the system roots).
	TLS *tls.Config
	// Claims are the claims of a token issued to a principal, with its
	// network bypass (auth.PrincipalClaims: package auth decides who
	// bypasses what, and this package must not depend on the data plane).
	Claims func(meta.Principal) token.Claims
}

// Service imports images.
type Service struct {
	db     store
	regs   target
	tokens *token.Service
	domain string
	plain  bool
	tls    *tls.Config
	claims func(meta.Principal) token.Claims
}

// New returns the import service.
func New(o Options) *Service {
	return &Service{db: o.Store, regs: o.Registries, tokens: o.Tokens, domain: strings.ToLower(o.Domain),
		plain: o.PlainHTTP, tls: o.TLS, claims: o.Claims}
}

// EnsurePrincipal creates the import service's trusted-service principal
// when it does not exist yet (at start-up).
func (s *Service) EnsurePrincipal(ctx context.Context) error {
	_, err := s.db.PrincipalByName(ctx, meta.KindTrustedService, PrincipalName)
	if !errors.Is(err, meta.ErrNotFound) {
		return err
	}
	err = s.db.Update(ctx, func(tx *meta.Tx) error {
		return tx.CreatePrincipal(ctx, &meta.Principal{Kind: meta.KindTrustedService, Name: PrincipalName})
	})
	if errors.Is(err, meta.ErrConflict) {
		return nil // another replica made it
	}
	return err
}

// Request is one import.
type Request struct {
	// Target is the registry to import into.
	Target registry.Registry
	// RegistryURI is the source's login server (host[:port]); empty when
	// SourceImage names it.
	RegistryURI string
	// SourceImage is repo:tag or repo@digest (or host/repo… without
	// RegistryURI).
	SourceImage string
	// Username and Password are the source's credentials (external
	// registries; empty: anonymous).
	Username, Password string
	// TargetTags are repo:tag (default: the source's repo:tag).
	TargetTags []string
	// Force overwrites existing target tags.
	Force bool
}

// Plan is a checked request: what will be read and written.
type Plan struct {
	Request
	Source regclient.Reference
	// Local is the source registry when it is one of this server's.
	Local *registry.Registry
	// Targets are the target repositories with their tags (a repository
	// with no tag: an import by digest).
	Targets []Target
}

// Target is one repository of the target registry with the tags to set.
type Target struct {
	Repository string   `json:"repository"`
	Tags       []string `json:"tags"`
}

// Result is what an import did.
type Result struct {
	Source    string   `json:"source"`
	Digest    string   `json:"digest"`
	MediaType string   `json:"mediaType"`
	Targets   []Target `json:"targets"`
	Manifests int      `json:"manifests"`
	Blobs     int      `json:"blobs"`
	// BlobsCopied are the blobs read from the source (the others were
	// already in the target).
	BlobsCopied int   `json:"blobsCopied"`
	BytesCopied int64 `json:"bytesCopied"`
}

// Prepare checks r and finds a source on this server; it reads nothing
// from the source and writes nothing.
func (s *Service) Prepare(ctx context.Context, r Request) (Plan, error) {
	p := Plan{Request: r}
	src := strings.TrimSpace(r.SourceImage)
	if src == "" {
		return p, fmt.Errorf("%w: no source image", ErrInvalid)
	}
	if uri := strings.TrimSuffix(strings.TrimSpace(r.RegistryURI), "/"); uri != "" {
		uri = strings.TrimPrefix(strings.TrimPrefix(uri, "https://"), "http://")
		if strings.Contains(uri, "/") || strings.HasPrefix(src, uri+"/") {
			return p, fmt.Errorf("%w: registryUri %q must be a login server (host[:port])", ErrInvalid, r.RegistryURI)
		}
		src = uri + "/" + src
	}
	ref, err := regclient.ParseReference(src)
	if err != nil {
		return p, fmt.Errorf("%w: source %v", ErrInvalid, err)
	}
	p.Source = ref
	regs, err := s.regs.Registries(ctx)
	if err != nil {
		return p, err
	}
	for i := range regs {
		if ls := registry.LoginServer(regs[i], s.domain); ls != "" && strings.EqualFold(ls, ref.Host) {
			p.Local = &regs[i]
			break
		}
	}
	if p.Local != nil && (r.Username != "" || r.Password != "") {
		return p, fmt.Errorf("%w: credentials are for external registries; a registry of this server is read by the import service on your rights", ErrInvalid)
	}
	tags := r.TargetTags
	if len(tags) == 0 && ref.Tag != "" && !strings.Contains(r.SourceImage, "@") {
		tags = []string{ref.Repository + ":" + ref.Tag}
	}
	if len(tags) == 0 {
		p.Targets = []Target{{Repository: ref.Repository, Tags: []string{}}}
	}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		repo, tag, ok := oci.SplitTag(t)
		if !ok || !oci.ValidName(repo) || !oci.ValidTag(tag) {
			return p, fmt.Errorf("%w: target tag %q: want <repository>:<tag>", ErrInvalid, t)
		}
		p.add(repo, tag)
	}
	return p, nil
}

func (p *Plan) add(repo, tag string) {
	for i := range p.Targets {
		if p.Targets[i].Repository == repo {
			if !slices.Contains(p.Targets[i].Tags, tag) {
				p.Targets[i].Tags = append(p.Targets[i].Tags, tag)
			}
			return
		}
	}
	p.Targets = append(p.Targets, Target{Repository: repo, Tags: []string{tag}})
}

// Import runs a plan: it reads the source's manifest, refuses existing
// target tags without Force (before writing anything), then copies the
// manifests (an index with all its members) and blobs into every target
// repository and sets the tags.
func (s *Service) Import(ctx context.Context, p Plan) (Result, error) {
	res := Result{Source: p.Source.String(), Targets: p.Targets}
	if !p.Force {
		for _, t := range p.Targets {
			for _, tag := range t.Tags {
				if _, err := s.regs.Tag(ctx, p.Target.ID, t.Repository, tag); err == nil {
					return res, fmt.Errorf("%w: %s:%s already exists in registry %s; use --force (mode Force) to overwrite it", ErrExists, t.Repository, tag, p.Target.Name)
				}
			}
		}
	}
	c := s.client(p)
	body, desc, err := c.Manifest(ctx, p.Source, p.Source.Version())
	if err != nil {
		return res, sourceError(p.Source, err)
	}
	res.Digest, res.MediaType = string(desc.Digest), desc.MediaType
	cp := &copier{s: s, src: c, ref: p.Source, local: p.Local, reg: p.Target, res: &res, seen: map[string]bool{}, manifests: map[oci.Digest]fetched{}}
	for _, t := range p.Targets {
		cp.repo = t.Repository
		if err := cp.manifest(ctx, body, desc, 0); err != nil {
			return res, err
		}
		for _, tag := range t.Tags {
			if _, err := s.regs.PutManifest(ctx, p.Target.ID, t.Repository, registry.Reference{Tag: tag}, desc.MediaType, body); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// client is the regclient that reads the source: with a trusted-service
// access token for a registry of this server, else with the request's
// credentials.
func (s *Service) client(p Plan) *regclient.Client {
	o := regclient.Options{PlainHTTP: s.plain, TLS: s.tls, Username: p.Username, Password: p.Password, Timeout: time.Minute}
	if p.Local != nil {
		// Minted afresh whenever the last one expires: an access token
		// lives minutes, an import of large images may take longer.
		reg, ref := *p.Local, p.Source
		o.Username, o.Password = "", ""
		o.Token = func(ctx context.Context) (string, error) { return s.token(ctx, reg, ref) }
	}
	return regclient.New(o)
}

// token mints the import service's access token for pulling the source
// repository of a registry of this server: the trusted-service claims of
// its built-in principal, scoped to that one repository.
func (s *Service) token(ctx context.Context, reg registry.Registry, ref regclient.Reference) (string, error) {
	pr, err := s.db.PrincipalByName(ctx, meta.KindTrustedService, PrincipalName)
	if err != nil {
		return "", fmt.Errorf("the import service's principal: %w", err)
	}
	if s.claims == nil {
		return "", errors.New("the import service cannot mint tokens (no Options.Claims)")
	}
	c := s.claims(pr)
	c.Kind, c.Audience, c.Registry, c.GrantType = token.KindAccess, ref.Host, reg.Name, "import"
	c.Access = []token.Access{{Type: "repository", Name: ref.Repository, Actions: []string{"pull"}}}
	return s.tokens.Issue(c)
}

// sourceError says what the source registry's refusal means for the import.
func sourceError(ref regclient.Reference, err error) error {
	var re *regclient.Error
	if errors.As(err, &re) {
		switch {
		case re.Status == 404 || re.Code == "MANIFEST_UNKNOWN" || re.Code == "NAME_UNKNOWN" || re.Code == "BLOB_UNKNOWN":
			return fmt.Errorf("%w: %s: %v", ErrSourceNotFound, ref, err)
		case re.Status == 401 || re.Status == 403:
			return fmt.Errorf("%w: %s: %v", ErrSourceDenied, ref, err)
		}
	}
	return fmt.Errorf("source %s: %w", ref, err)
}

// copier copies one image into one repository of the target.
type copier struct {
	s   *Service
	src *regclient.Client
	ref regclient.Reference
	// local is the source registry when it is one of this server's: its
	// blobs are in the same store, so they are linked, not copied.
	local *registry.Registry
	reg   registry.Registry
	repo  string
	res   *Result
	seen  map[string]bool // digests counted
	// manifests are the members read from the source, for the next
	// target repository.
	manifests map[oci.Digest]fetched
}

type fetched struct {
	body []byte
	desc oci.Descriptor
}

// maxDepth bounds index nesting: an index of indexes is legal, but a
// hostile source could nest without end.
const maxDepth = 4

func (cp *copier) manifest(ctx context.Context, body []byte, desc oci.Descriptor, depth int) error {
	m, err := oci.ParseManifest(desc.MediaType, body)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalid, cp.ref, err)
	}
	for _, child := range m.Children {
		if depth >= maxDepth {
			return fmt.Errorf("%w: %s: indexes nested more than %d deep", ErrInvalid, cp.ref, maxDepth)
		}
		f, ok := cp.manifests[child.Digest]
		if !ok {
			body, desc, err := cp.src.Manifest(ctx, cp.ref, string(child.Digest))
			if err != nil {
				return sourceError(cp.ref, err)
			}
			if desc.MediaType == "" {
				desc.MediaType = child.MediaType
			}
			f = fetched{body, desc}
			cp.manifests[child.Digest] = f
		}
		cbody, cdesc := f.body, f.desc
		if err := cp.manifest(ctx, cbody, cdesc, depth+1); err != nil {
			return err
		}
	}
	for _, b := range m.Blobs {
		if err := cp.blob(ctx, b); err != nil {
			return err
		}
	}
	if _, err := cp.s.regs.PutManifest(ctx, cp.reg.ID, cp.repo, registry.Reference{Digest: desc.Digest}, desc.MediaType, body); err != nil {
		return err
	}
	if !cp.seen[string(desc.Digest)] {
		cp.seen[string(desc.Digest)] = true
		cp.res.Manifests++
	}
	return nil
}

// blob links blob d into the repository: already there, mounted from a
// repository of the target that has it, or streamed from the source.
func (cp *copier) blob(ctx context.Context, d oci.Descriptor) error {
	first := !cp.seen["blob "+string(d.Digest)]
	if first {
		cp.seen["blob "+string(d.Digest)] = true
		cp.res.Blobs++
	}
	if _, err := cp.s.regs.StatBlob(ctx, cp.reg.ID, cp.repo, d.Digest); err == nil {
		return nil
	}
	if _, ok, err := cp.s.regs.MountBlob(ctx, cp.reg.ID, cp.repo, "", d.Digest); err != nil {
		return err
	} else if ok {
		return nil
	}
	// The source's manifest was read through its data plane, so its
	// network rules and the import service's rights judged the import;
	// its blobs are then linked from the source repository.
	if cp.local != nil {
		if _, ok, err := cp.s.regs.MountBlobFrom(ctx, cp.reg.ID, cp.repo, cp.local.ID, cp.ref.Repository, d.Digest); err != nil {
			return err
		} else if ok {
			return nil
		}
	}
	rc, err := cp.src.Blob(ctx, cp.ref, d)
	if err != nil {
		return sourceError(cp.ref, err)
	}
	defer rc.Close()
	u, err := cp.s.regs.StartUpload(ctx, cp.reg.ID, cp.repo, d.Digest.Algorithm())
	if err != nil {
		return err
	}
	if _, err := cp.s.regs.FinishUpload(ctx, cp.reg.ID, cp.repo, u.ID, d.Digest, 0, d.Size, io.LimitReader(rc, d.Size)); err != nil {
		cp.s.regs.CancelUpload(ctx, cp.reg.ID, cp.repo, u.ID)
		return fmt.Errorf("blob %s from %s: %w", d.Digest, cp.ref, err)
	}
	cp.res.BlobsCopied++
	cp.res.BytesCopied += d.Size
	return nil
}
