package registry

import (
	"context"
	"errors"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Reference is a tag or a digest, as the last path element of a manifest URL.
type Reference struct {
	Tag    string
	Digest oci.Digest
}

func (r Reference) String() string {
	if r.Tag != "" {
		return r.Tag
	}
	return string(r.Digest)
}

// PutResult is what a manifest push stored.
type PutResult struct {
	Digest  oci.Digest
	Subject oci.Digest
}

// PutManifest validates and stores a manifest under a tag or a digest.
func (s *Service) PutManifest(ctx context.Context, reg int64, repo string, ref Reference, contentType string, body []byte) (PutResult, error) {
	parsed, err := oci.ParseManifest(contentType, body)
	if err != nil {
		return PutResult{}, err
	}
	alg := "sha256"
	if ref.Digest != "" {
		alg = ref.Digest.Algorithm()
	}
	d := oci.FromBytesAlg(alg, body)
	if ref.Digest != "" && d != ref.Digest {
		return PutResult{}, ErrDigestMismatch
	}
	m := meta.Manifest{
		Digest: d, MediaType: parsed.MediaType, ArtifactType: parsed.ArtifactType,
		Size: int64(len(body)), Content: body, Annotations: parsed.Annotations,
	}
	for _, b := range parsed.Blobs {
		m.Blobs = appendUnique(m.Blobs, b.Digest)
	}
	for _, c := range parsed.Children {
		m.Children = appendUnique(m.Children, c.Digest)
	}
	if parsed.Subject != nil {
		m.Subject = parsed.Subject.Digest
	}
	err = s.db.Update(ctx, func(tx *meta.Tx) error {
		r, err := tx.UpsertRepository(ctx, reg, repo)
		if err != nil {
			return err
		}
		repoID := r.ID
		if err := checkLock(r.Attributes.WriteEnabled, "repository "+repo, "writeEnabled"); err != nil {
			return err
		}
		missing, err := tx.MissingBlobs(ctx, repoID, m.Blobs)
		if err != nil {
			return err
		}
		more, err := tx.MissingManifests(ctx, repoID, m.Children)
		if err != nil {
			return err
		}
		if missing = append(missing, more...); len(missing) > 0 {
			return &BlobsUnknownError{Digests: missing}
		}
		if ref.Tag != "" {
			t, err := tx.Tag(ctx, repoID, ref.Tag)
			if err == nil && t.Digest != d {
				if err := checkLock(t.Attributes.WriteEnabled, "tag "+repo+":"+ref.Tag, "writeEnabled"); err != nil {
					return err
				}
			} else if err != nil && !errors.Is(err, meta.ErrNotFound) {
				return err
			}
		}
		m.RepositoryID = repoID
		if _, err := tx.InsertManifest(ctx, &m); err != nil {
			return err
		}
		if ref.Tag != "" {
			return tx.PutTag(ctx, repoID, ref.Tag, d)
		}
		return nil
	})
	s.cache.invalidate(reg, repo)
	return PutResult{Digest: d, Subject: m.Subject}, err
}

func appendUnique(ds []oci.Digest, d oci.Digest) []oci.Digest {
	for _, x := range ds {
		if x == d {
			return ds
		}
	}
	return append(ds, d)
}

// GetManifest returns a manifest with its content, by tag or digest.
func (s *Service) GetManifest(ctx context.Context, reg int64, repo string, ref Reference) (meta.Manifest, error) {
	rc := s.cache.repo(reg, repo)
	key := ref.Tag
	if key == "" {
		key = "@" + string(ref.Digest)
	}
	r, ok := rc.get(s.cache, key)
	if !ok {
		var err error
		if ref.Tag != "" {
			r.m, r.t, err = s.db.ResolveTag(ctx, reg, repo, ref.Tag)
		} else {
			r.m, err = s.db.Manifest(ctx, reg, repo, ref.Digest)
			r.t.Attributes = meta.Unlocked
		}
		if errors.Is(err, meta.ErrNotFound) {
			return r.m, ErrManifestUnknown
		} else if err != nil {
			return r.m, err
		}
		repository, err := s.db.Repository(ctx, reg, repo)
		if err != nil {
			return r.m, err
		}
		r.repo = repository.Attributes
		rc.put(s.cache, key, r)
	}
	if err := checkLock(r.repo.ReadEnabled, "repository "+repo, "readEnabled"); err != nil {
		return r.m, err
	}
	if err := checkLock(r.t.Attributes.ReadEnabled, "tag "+repo+":"+ref.Tag, "readEnabled"); err != nil {
		return r.m, err
	}
	return r.m, checkLock(r.m.Attributes.ReadEnabled, "manifest "+repo+"@"+string(r.m.Digest), "readEnabled")
}

// DeleteManifest deletes a tag, or a manifest by digest with every tag that
// names it, unless a lock forbids it.
func (s *Service) DeleteManifest(ctx context.Context, reg int64, repo string, ref Reference) error {
	defer s.cache.invalidate(reg, repo)
	return s.db.Update(ctx, func(tx *meta.Tx) error {
		r, err := tx.Repository(ctx, reg, repo)
		if errors.Is(err, meta.ErrNotFound) {
			return ErrManifestUnknown
		} else if err != nil {
			return err
		}
		if err := checkDeletable(r.Attributes, "repository "+repo); err != nil {
			return err
		}
		if ref.Tag != "" {
			t, err := tx.Tag(ctx, r.ID, ref.Tag)
			if errors.Is(err, meta.ErrNotFound) {
				return ErrManifestUnknown
			} else if err != nil {
				return err
			}
			if err := checkDeletable(t.Attributes, "tag "+repo+":"+ref.Tag); err != nil {
				return err
			}
			if err := tx.DeleteTag(ctx, r.ID, ref.Tag); err != nil {
				return err
			}
			return tx.TouchRepository(ctx, r.ID)
		}
		m, err := tx.ManifestByDigest(ctx, r.ID, ref.Digest)
		if errors.Is(err, meta.ErrNotFound) {
			return ErrManifestUnknown
		} else if err != nil {
			return err
		}
		// Its referrers (signatures, SBOMs, and theirs) go with it: a
		// referrer without its subject is of no use to anyone.
		gone, err := withReferrers(ctx, tx, reg, repo, r.ID, m)
		if err != nil {
			return err
		}
		for i := len(gone) - 1; i >= 0; i-- {
			if err := deletableWithTags(ctx, tx, r.ID, repo, gone[i]); err != nil {
				return err
			}
		}
		for i := len(gone) - 1; i >= 0; i-- {
			if err := tx.DeleteManifest(ctx, r.ID, gone[i].Digest); err != nil {
				return err
			}
		}
		return tx.TouchRepository(ctx, r.ID)
	})
}

// withReferrers returns m and, after it, every manifest of the repository
// whose subject is m or, transitively, one of those.
func withReferrers(ctx context.Context, tx *meta.Tx, reg int64, repo string, repoID int64, m meta.Manifest) ([]meta.Manifest, error) {
	out := []meta.Manifest{m}
	seen := map[oci.Digest]bool{m.Digest: true}
	for i := 0; i < len(out); i++ {
		refs, err := tx.Referrers(ctx, reg, repo, out[i].Digest)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			if seen[r.Digest] {
				continue
			}
			seen[r.Digest] = true
			withTags, err := tx.ManifestByDigest(ctx, repoID, r.Digest)
			if err != nil {
				return nil, err
			}
			out = append(out, withTags)
		}
	}
	return out, nil
}

// deletableWithTags says why m, or a tag that names it, may not be deleted.
func deletableWithTags(ctx context.Context, tx *meta.Tx, repoID int64, repo string, m meta.Manifest) error {
	if err := checkDeletable(m.Attributes, "manifest "+repo+"@"+string(m.Digest)); err != nil {
		return err
	}
	for _, name := range m.Tags {
		t, err := tx.Tag(ctx, repoID, name)
		if err != nil {
			return err
		}
		if err := checkDeletable(t.Attributes, "tag "+repo+":"+name); err != nil {
			return err
		}
	}
	return nil
}

func checkDeletable(a meta.Attributes, what string) error {
	if err := checkLock(a.WriteEnabled, what, "writeEnabled"); err != nil {
		return err
	}
	return checkLock(a.DeleteEnabled, what, "deleteEnabled")
}

// TagNames lists the tags of a repository for tags/list.
func (s *Service) TagNames(ctx context.Context, reg int64, repo, last string, n int) ([]string, error) {
	rc := s.cache.repo(reg, repo)
	if tags, ok := rc.tagPage(s.cache, last, n); ok {
		return tags, nil
	}
	all, err := s.db.TagNames(ctx, reg, repo, "", 0)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		if _, err := s.db.Repository(ctx, reg, repo); errors.Is(err, meta.ErrNotFound) {
			return nil, ErrNameUnknown
		} else if err != nil {
			return nil, err
		}
	}
	rc.putTags(s.cache, all)
	return page(all, last, n), nil
}

// Catalog lists the names of a registry's repositories that hold content.
func (s *Service) Catalog(ctx context.Context, reg int64, last string, n int) ([]string, error) {
	repos, err := s.db.Repositories(ctx, reg, meta.Page{Last: last, N: n})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(repos))
	for _, r := range repos {
		names = append(names, r.Name)
	}
	return names, nil
}

// Referrers lists the descriptors of the manifests whose subject is d,
// keeping those of artifactType when it is given. A subject the
// repository does not hold has an empty list, as the spec asks.
func (s *Service) Referrers(ctx context.Context, reg int64, repo string, d oci.Digest, artifactType string) ([]oci.Descriptor, error) {
	ms, err := s.db.Referrers(ctx, reg, repo, d)
	if err != nil {
		return nil, err
	}
	out := make([]oci.Descriptor, 0, len(ms))
	for _, m := range ms {
		if artifactType != "" && m.ArtifactType != artifactType {
			continue
		}
		out = append(out, oci.Descriptor{
			MediaType: m.MediaType, Digest: m.Digest, Size: m.Size,
			ArtifactType: m.ArtifactType, Annotations: m.Annotations,
		})
	}
	return out, nil
}
