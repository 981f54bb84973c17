package registry

// The rules behind the /acr/v1 metadata API: reading and changing the
// locks (changeable attributes) of repositories, tags and manifests,
// listings that honour listEnabled, and deleting a whole repository.

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

// More errors of the metadata API's operations.
var (
	ErrTagUnknown = errors.New("tag unknown to repository")
	// ErrCursorUnknown is a listing by time asked to resume after an entry
	// that does not exist, so there is no time to resume from.
	ErrCursorUnknown = errors.New("last names no entry of the listing")
)

// AttributesPatch changes some locks: a nil field stays as it is.
type AttributesPatch struct {
	DeleteEnabled *bool
	WriteEnabled  *bool
	ListEnabled   *bool
	ReadEnabled   *bool
}

// Apply returns a with the patch's fields set.
func (p AttributesPatch) Apply(a meta.Attributes) meta.Attributes {
	for _, f := range []struct {
		from *bool
		to   *bool
	}{
		{p.DeleteEnabled, &a.DeleteEnabled}, {p.WriteEnabled, &a.WriteEnabled},
		{p.ListEnabled, &a.ListEnabled}, {p.ReadEnabled, &a.ReadEnabled},
	} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	return a
}

// RepositoryInfo is a repository with how much it holds.
type RepositoryInfo struct {
	meta.Repository
	ManifestCount int
	TagCount      int
}

// Repository describes a repository.
func (s *Service) Repository(ctx context.Context, reg int64, repo string) (RepositoryInfo, error) {
	r, err := s.repository(ctx, s.db, reg, repo)
	if err != nil {
		return RepositoryInfo{}, err
	}
	info := RepositoryInfo{Repository: r}
	info.ManifestCount, info.TagCount, err = s.db.ContentCounts(ctx, r.ID)
	return info, err
}

// reader is what both *meta.DB and *meta.Tx offer that this file reads.
type reader interface {
	Repository(ctx context.Context, registryID int64, name string) (meta.Repository, error)
	Tag(ctx context.Context, repoID int64, name string) (meta.Tag, error)
	ManifestWithTags(ctx context.Context, repoID int64, d oci.Digest) (meta.Manifest, error)
}

var (
	_ reader = (*meta.DB)(nil)
	_ reader = (*meta.Tx)(nil)
)

func (s *Service) repository(ctx context.Context, q reader, reg int64, repo string) (meta.Repository, error) {
	r, err := q.Repository(ctx, reg, repo)
	if errors.Is(err, meta.ErrNotFound) {
		return r, ErrNameUnknown
	}
	return r, err
}

func (s *Service) tag(ctx context.Context, q reader, reg int64, repo, tag string) (meta.Repository, meta.Tag, error) {
	r, err := s.repository(ctx, q, reg, repo)
	if err != nil {
		return r, meta.Tag{}, err
	}
	t, err := q.Tag(ctx, r.ID, tag)
	if errors.Is(err, meta.ErrNotFound) {
		return r, t, ErrTagUnknown
	}
	return r, t, err
}

// manifest finds a manifest by digest, or by the tag that names it.
func (s *Service) manifest(ctx context.Context, q reader, reg int64, repo string, ref Reference) (meta.Repository, meta.Manifest, error) {
	r, err := s.repository(ctx, q, reg, repo)
	if err != nil {
		return r, meta.Manifest{}, err
	}
	d := ref.Digest
	if ref.Tag != "" {
		t, err := q.Tag(ctx, r.ID, ref.Tag)
		if errors.Is(err, meta.ErrNotFound) {
			return r, meta.Manifest{}, ErrTagUnknown
		} else if err != nil {
			return r, meta.Manifest{}, err
		}
		d = t.Digest
	}
	m, err := q.ManifestWithTags(ctx, r.ID, d)
	if errors.Is(err, meta.ErrNotFound) {
		return r, m, ErrManifestUnknown
	}
	return r, m, err
}

// Tag describes a tag.
func (s *Service) Tag(ctx context.Context, reg int64, repo, tag string) (meta.Tag, error) {
	_, t, err := s.tag(ctx, s.db, reg, repo, tag)
	return t, err
}

// Manifest describes a manifest, found by digest or by a tag.
func (s *Service) Manifest(ctx context.Context, reg int64, repo string, ref Reference) (ManifestSummary, error) {
	_, m, err := s.manifest(ctx, s.db, reg, repo, ref)
	if err != nil {
		return ManifestSummary{}, err
	}
	return s.summarize(ctx, m), nil
}

// UpdateRepositoryAttributes changes a repository's locks. Changing locks
// is never itself locked: it is how a lock is lifted.
func (s *Service) UpdateRepositoryAttributes(ctx context.Context, reg int64, repo string, p AttributesPatch) (RepositoryInfo, error) {
	defer s.cache.invalidate(reg, repo)
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		r, err := s.repository(ctx, tx, reg, repo)
		if err != nil {
			return err
		}
		return tx.UpdateRepositoryAttributes(ctx, r.ID, p.Apply(r.Attributes))
	})
	if err != nil {
		return RepositoryInfo{}, err
	}
	return s.Repository(ctx, reg, repo)
}

// UpdateTagAttributes changes a tag's locks.
func (s *Service) UpdateTagAttributes(ctx context.Context, reg int64, repo, tag string, p AttributesPatch) (meta.Tag, error) {
	defer s.cache.invalidate(reg, repo)
	var t meta.Tag
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		r, cur, err := s.tag(ctx, tx, reg, repo, tag)
		if err != nil {
			return err
		}
		t = cur
		t.Attributes = p.Apply(cur.Attributes)
		return tx.UpdateTagAttributes(ctx, r.ID, tag, t.Attributes)
	})
	return t, err
}

// UpdateManifestAttributes changes a manifest's locks; ref may name it by
// a tag.
func (s *Service) UpdateManifestAttributes(ctx context.Context, reg int64, repo string, ref Reference, p AttributesPatch) (ManifestSummary, error) {
	defer s.cache.invalidate(reg, repo)
	var m meta.Manifest
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		var err error
		if _, m, err = s.manifest(ctx, tx, reg, repo, ref); err != nil {
			return err
		}
		m.Attributes = p.Apply(m.Attributes)
		return tx.UpdateManifestAttributes(ctx, m.ID, m.Attributes)
	})
	if err != nil {
		return ManifestSummary{}, err
	}
	return s.summarize(ctx, m), nil
}

// ListTags lists the tags of a repository that listEnabled lets be listed.
// A listing by time resuming after a bare name (no time in the cursor)
// resumes after that tag's present time.
func (s *Service) ListTags(ctx context.Context, reg int64, repo string, q meta.ListQuery) ([]meta.Tag, error) {
	r, err := s.repository(ctx, s.db, reg, repo)
	if err != nil {
		return nil, err
	}
	if needsTime(q) {
		t, err := s.db.Tag(ctx, r.ID, q.After.Name)
		if errors.Is(err, meta.ErrNotFound) {
			return nil, ErrCursorUnknown
		} else if err != nil {
			return nil, err
		}
		q.After.Time = t.UpdatedAt
	}
	return s.db.ListedTags(ctx, r.ID, q)
}

// ListManifests lists the manifests of a repository that listEnabled lets
// be listed, each with every tag that names it.
func (s *Service) ListManifests(ctx context.Context, reg int64, repo string, q meta.ListQuery) ([]ManifestSummary, error) {
	r, err := s.repository(ctx, s.db, reg, repo)
	if err != nil {
		return nil, err
	}
	if needsTime(q) {
		d, err := oci.ParseDigest(q.After.Name)
		if err != nil {
			return nil, ErrCursorUnknown
		}
		m, err := s.db.ManifestWithTags(ctx, r.ID, d)
		if errors.Is(err, meta.ErrNotFound) {
			return nil, ErrCursorUnknown
		} else if err != nil {
			return nil, err
		}
		q.After.Time = m.UpdatedAt
	}
	ms, err := s.db.ListedManifests(ctx, r.ID, q)
	if err != nil {
		return nil, err
	}
	out := make([]ManifestSummary, len(ms))
	for i, m := range ms {
		out[i] = s.summarize(ctx, m)
	}
	return out, nil
}

func needsTime(q meta.ListQuery) bool {
	return q.Order != meta.ByName && q.After.Name != "" && q.After.Time.IsZero()
}

// DeletedRepository is what deleting a repository removed.
type DeletedRepository struct {
	Manifests []oci.Digest
	Tags      []string
}

// DeleteRepository deletes a repository with all its manifests and tags,
// unless the repository or anything in it is locked against deletion
// (deleteEnabled or writeEnabled false). Blobs stay for garbage collection.
func (s *Service) DeleteRepository(ctx context.Context, reg int64, repo string) (DeletedRepository, error) {
	defer s.cache.invalidate(reg, repo)
	var del DeletedRepository
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		r, err := s.repository(ctx, tx, reg, repo)
		if err != nil {
			return err
		}
		if err := checkDeletable(r.Attributes, "repository "+repo); err != nil {
			return err
		}
		tags, err := tx.Tags(ctx, r.ID, meta.Page{})
		if err != nil {
			return err
		}
		for _, t := range tags {
			if err := checkDeletable(t.Attributes, "tag "+repo+":"+t.Name); err != nil {
				return err
			}
			del.Tags = append(del.Tags, t.Name)
		}
		ms, err := tx.ManifestLocks(ctx, r.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if err := checkDeletable(m.Attributes, "manifest "+repo+"@"+string(m.Digest)); err != nil {
				return err
			}
			del.Manifests = append(del.Manifests, m.Digest)
		}
		return tx.DeleteRepository(ctx, r.ID)
	})
	return del, err
}

// ManifestSummary is a manifest as the metadata API describes it: what
// its content says about the image, beside its record.
type ManifestSummary struct {
	meta.Manifest
	// ImageSize is the config and layers of an image, or the size of the
	// manifest itself for an index or anything else.
	ImageSize       int64
	ConfigMediaType string
	Architecture    string
	OS              string
	// References are an index's manifests and their platforms.
	References []PlatformReference
}

// PlatformReference is a manifest an index lists.
type PlatformReference struct {
	Digest       oci.Digest
	Architecture string
	OS           string
}

// maxConfigRead bounds the image config read for a platform: real configs
// are a few KiB; an artifact "config" can be anything.
const maxConfigRead = 1 << 20

// imageConfigTypes are the configs that hold an architecture and an OS.
var imageConfigTypes = map[string]bool{
	"application/vnd.oci.image.config.v1+json":       true,
	"application/vnd.docker.container.image.v1+json": true,
}

// summarize reads what a manifest's content says. Content berth accepted is
// valid JSON; a config it cannot read only leaves the platform empty.
func (s *Service) summarize(ctx context.Context, m meta.Manifest) ManifestSummary {
	sum := ManifestSummary{Manifest: m, ImageSize: m.Size}
	var body struct {
		Config    *oci.Descriptor  `json:"config"`
		Layers    []oci.Descriptor `json:"layers"`
		Manifests []oci.Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(m.Content, &body); err != nil {
		return sum
	}
	if oci.IsIndex(m.MediaType) {
		for _, c := range body.Manifests {
			ref := PlatformReference{Digest: c.Digest}
			if c.Platform != nil {
				ref.Architecture, ref.OS = c.Platform.Architecture, c.Platform.OS
			}
			sum.References = append(sum.References, ref)
		}
		return sum
	}
	if body.Config == nil {
		return sum
	}
	sum.ConfigMediaType = body.Config.MediaType
	sum.ImageSize = body.Config.Size
	for _, l := range body.Layers {
		sum.ImageSize += l.Size
	}
	if imageConfigTypes[body.Config.MediaType] && body.Config.Size <= maxConfigRead {
		sum.Architecture, sum.OS = s.platform(ctx, body.Config.Digest)
	}
	return sum
}

func (s *Service) platform(ctx context.Context, config oci.Digest) (arch, os string) {
	r, err := s.blobs.Open(ctx, config)
	if err != nil {
		s.log.DebugContext(ctx, "image config unreadable", "digest", config, "err", err)
		return "", ""
	}
	defer r.Close()
	var c struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
	}
	if err := json.NewDecoder(io.LimitReader(r, maxConfigRead)).Decode(&c); err != nil {
		s.log.DebugContext(ctx, "image config unreadable", "digest", config, "err", err)
	}
	return c.Architecture, c.OS
}
