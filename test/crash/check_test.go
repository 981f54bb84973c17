package crash

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // reads berth's meta.db
)

// checker verifies the store after a restart. It remembers the blobs it has
// fetched whole, so a check round reads each blob of a repository once.
type checker struct {
	t        *testing.T
	c        *client
	verified map[repoDigest]bool
}

func newChecker(t *testing.T, c *client) *checker {
	return &checker{t: t, c: c, verified: map[repoDigest]bool{}}
}

// blob checks that a repository serves blob d whole: HEAD answers 200 with
// its size, and GET answers bytes that hash to d. size < 0 skips the size.
func (ck *checker) blob(ctx context.Context, repo, d string, size int64, why string) {
	t := ck.t
	t.Helper()
	if ck.verified[repoDigest{repo, d}] {
		return
	}
	p := "/v2/" + repo + "/blobs/" + d
	r, err := ck.c.do(ctx, http.MethodHead, p, nil, nil)
	if err != nil {
		t.Errorf("HEAD %s (%s): %v", p, why, err)
		return
	}
	n, _ := strconv.ParseInt(r.header.Get("Content-Length"), 10, 64)
	if r.status != http.StatusOK || size >= 0 && n != size || r.header.Get("Docker-Content-Digest") != d {
		t.Errorf("HEAD %s (%s) = %d, Content-Length %d, digest %q; want 200, %d, %s",
			p, why, r.status, n, r.header.Get("Docker-Content-Digest"), size, d)
		return
	}
	r, err = ck.c.do(ctx, http.MethodGet, p, nil, nil)
	if err != nil {
		t.Errorf("GET %s (%s): %v", p, why, err)
		return
	}
	if r.status != http.StatusOK {
		t.Errorf("GET %s (%s) = %s, want 200", p, why, r)
		return
	}
	if got := sha256Digest(r.body); got != d || size >= 0 && int64(len(r.body)) != size {
		t.Errorf("GET %s (%s) served %d bytes hashing to %s: want %d bytes of %s (a partial or wrong blob)",
			p, why, len(r.body), got, size, d)
		return
	}
	ck.verified[repoDigest{repo, d}] = true
}

// manifest fetches a manifest by tag or digest and checks it hashes to the
// digest the server names. It returns the body, or nil after an error.
func (ck *checker) manifest(ctx context.Context, repo, ref, why string) []byte {
	t := ck.t
	t.Helper()
	p := "/v2/" + repo + "/manifests/" + ref
	r, err := ck.c.do(ctx, http.MethodGet, p, map[string]string{"Accept": manifestType}, nil)
	if err != nil {
		t.Errorf("GET %s (%s): %v", p, why, err)
		return nil
	}
	if r.status != http.StatusOK {
		t.Errorf("GET %s (%s) = %s, want 200", p, why, r)
		return nil
	}
	if d := r.header.Get("Docker-Content-Digest"); d != sha256Digest(r.body) {
		t.Errorf("GET %s (%s) answered digest %s for content hashing to %s", p, why, d, sha256Digest(r.body))
		return nil
	}
	return r.body
}

// manifestBlobs checks every blob a manifest's content refers to.
func (ck *checker) manifestBlobs(ctx context.Context, repo string, body []byte, why string) {
	var m struct {
		Config struct {
			Digest string
			Size   int64
		}
		Layers []struct {
			Digest string
			Size   int64
		}
	}
	if err := json.Unmarshal(body, &m); err != nil {
		ck.t.Errorf("%s: manifest does not parse: %v", why, err)
		return
	}
	ck.blob(ctx, repo, m.Config.Digest, m.Config.Size, why)
	for _, l := range m.Layers {
		ck.blob(ctx, repo, l.Digest, l.Size, why)
	}
}

// acked makes checks 1 and 4: everything answered 201 is still there.
func (ck *checker) acked(ctx context.Context, led *ledger) {
	t := ck.t
	led.mu.Lock()
	defer led.mu.Unlock()
	for k, body := range led.manifests {
		got := ck.manifest(ctx, k.repo, k.digest, "acknowledged manifest")
		if got != nil && string(got) != string(body) {
			t.Errorf("manifest %s@%s: served %d bytes, not the %d acknowledged", k.repo, k.digest, len(got), len(body))
		}
	}
	for k, puts := range led.tags {
		ck.tag(ctx, k, puts)
	}
	for k, size := range led.blobs {
		ck.blob(ctx, k.repo, k.digest, size, "acknowledged blob")
	}
}

// tag checks that a tag names the last manifest acknowledged under it, or
// one its pusher PUT after that (which the server may have stored before
// it died without answering).
func (ck *checker) tag(ctx context.Context, k repoTag, puts []tagPut) {
	t := ck.t
	last := -1
	for i, p := range puts {
		if p.acked {
			last = i
		}
	}
	p := "/v2/" + k.repo + "/manifests/" + k.tag
	r, err := ck.c.do(ctx, http.MethodGet, p, map[string]string{"Accept": manifestType}, nil)
	if err != nil {
		t.Errorf("GET %s: %v", p, err)
		return
	}
	if r.status == http.StatusNotFound && r.code() == "MANIFEST_UNKNOWN" && last < 0 {
		return // never acknowledged, and the PUT in flight did not land
	}
	if r.status != http.StatusOK {
		t.Errorf("GET %s = %s, want 200 (acknowledged: %v)", p, r, last >= 0)
		return
	}
	got := sha256Digest(r.body)
	for _, q := range puts[max(last, 0):] {
		if q.digest == got {
			return
		}
	}
	t.Errorf("tag %s:%s names %s, which is neither the last manifest acknowledged under it (%s) nor one PUT after it",
		k.repo, k.tag, got, puts[last].digest)
}

// snapshot is meta.db as one read transaction saw it.
type snapshot struct {
	manifests []dbManifest
	tags      []repoTag
	tagged    map[repoTag]string
	blobs     map[string]int64 // digest -> size
	links     map[repoDigest]bool
	repos     []string
	uploads   int
}

type dbManifest struct {
	repo, digest string
	blobs        []string // manifest_blobs
}

// readMeta opens meta.db read-only, beside a running server (WAL lets
// readers in) or after it stopped, and reads what the checks need.
func readMeta(ctx context.Context, t *testing.T, dataDir string) *snapshot {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "meta.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatalf("open meta.db: %v", err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("meta.db: begin: %v", err)
	}
	defer tx.Rollback()
	s := &snapshot{tagged: map[repoTag]string{}, blobs: map[string]int64{}, links: map[repoDigest]bool{}}
	query := func(q string, scan func(*sql.Rows) error) {
		t.Helper()
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("meta.db: %s: %v", q, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatalf("meta.db: %s: %v", q, err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("meta.db: %s: %v", q, err)
		}
	}
	byID := map[int64]int{}
	query(`SELECT m.id, r.name, m.digest FROM manifests m JOIN repositories r ON r.id = m.repository_id ORDER BY m.id`,
		func(rows *sql.Rows) error {
			var id int64
			var m dbManifest
			err := rows.Scan(&id, &m.repo, &m.digest)
			byID[id] = len(s.manifests)
			s.manifests = append(s.manifests, m)
			return err
		})
	query(`SELECT manifest_id, digest FROM manifest_blobs`, func(rows *sql.Rows) error {
		var id int64
		var d string
		if err := rows.Scan(&id, &d); err != nil {
			return err
		}
		i, ok := byID[id]
		if !ok {
			t.Errorf("meta.db: manifest_blobs row for manifest %d, which does not exist", id)
			return nil
		}
		s.manifests[i].blobs = append(s.manifests[i].blobs, d)
		return nil
	})
	query(`SELECT r.name, t.name, t.digest FROM tags t JOIN repositories r ON r.id = t.repository_id`, func(rows *sql.Rows) error {
		var k repoTag
		var d string
		err := rows.Scan(&k.repo, &k.tag, &d)
		s.tags = append(s.tags, k)
		s.tagged[k] = d
		return err
	})
	query(`SELECT digest, size FROM blobs`, func(rows *sql.Rows) error {
		var d string
		var n int64
		err := rows.Scan(&d, &n)
		s.blobs[d] = n
		return err
	})
	query(`SELECT r.name, l.digest FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id`, func(rows *sql.Rows) error {
		var k repoDigest
		err := rows.Scan(&k.repo, &k.digest)
		s.links[k] = true
		return err
	})
	query(`SELECT name FROM repositories ORDER BY name`, func(rows *sql.Rows) error {
		var n string
		err := rows.Scan(&n)
		s.repos = append(s.repos, n)
		return err
	})
	query(`SELECT count(*) FROM uploads`, func(rows *sql.Rows) error { return rows.Scan(&s.uploads) })
	return s
}

// consistent checks the metadata against itself and the blob tree: every
// blob a manifest refers to is recorded, linked into the manifest's
// repository and present in full; every recorded blob has its file; every
// tag names a manifest of its repository.
func (s *snapshot) consistent(t *testing.T, dataDir string) {
	t.Helper()
	have := map[repoDigest]bool{}
	for _, m := range s.manifests {
		have[repoDigest{m.repo, m.digest}] = true
		for _, d := range m.blobs {
			if _, ok := s.blobs[d]; !ok {
				t.Errorf("meta.db: manifest %s@%s refers to blob %s, which is not recorded", m.repo, m.digest, d)
			}
			if !s.links[repoDigest{m.repo, d}] {
				t.Errorf("meta.db: manifest %s@%s refers to blob %s, which is not linked into %s", m.repo, m.digest, d, m.repo)
			}
		}
	}
	for d, size := range s.blobs {
		fi, err := os.Stat(blobPath(dataDir, d))
		if err != nil {
			t.Errorf("blob %s is recorded but its file is missing: %v", d, err)
		} else if fi.Size() != size {
			t.Errorf("blob %s is recorded with %d bytes but its file has %d", d, size, fi.Size())
		}
	}
	for k, d := range s.tagged {
		if !have[repoDigest{k.repo, d}] {
			t.Errorf("meta.db: tag %s:%s names %s, which is not a manifest of %s", k.repo, k.tag, d, k.repo)
		}
	}
}

// served makes check 2 over HTTP: every manifest the database holds, and
// every tag the API lists, is served with all its blobs whole.
func (s *snapshot) served(ctx context.Context, ck *checker, led *ledger) {
	t := ck.t
	for _, m := range s.manifests {
		if ck.manifest(ctx, m.repo, m.digest, "manifest in meta.db") == nil {
			continue
		}
		for _, d := range m.blobs {
			size, ok := s.blobs[d]
			if !ok {
				size = -1
			}
			ck.blob(ctx, m.repo, d, size, "blob of "+m.repo+"@"+m.digest)
		}
	}
	listed := 0
	for _, repo := range s.repos {
		p := "/v2/" + repo + "/tags/list"
		r, err := ck.c.do(ctx, http.MethodGet, p, nil, nil)
		if err != nil || r.status != http.StatusOK {
			t.Errorf("GET %s = %v %v, want 200", p, r, err)
			continue
		}
		var list struct{ Tags []string }
		if err := json.Unmarshal(r.body, &list); err != nil {
			t.Errorf("GET %s: %v", p, err)
			continue
		}
		for _, tag := range list.Tags {
			listed++
			if body := ck.manifest(ctx, repo, tag, "listed tag"); body != nil {
				ck.manifestBlobs(ctx, repo, body, "tag "+repo+":"+tag)
			}
		}
		led.mu.Lock()
		for k, puts := range led.tags {
			if k.repo == repo && slices.ContainsFunc(puts, func(p tagPut) bool { return p.acked }) && !slices.Contains(list.Tags, k.tag) {
				t.Errorf("GET %s does not list the acknowledged tag %s", p, k.tag)
			}
		}
		led.mu.Unlock()
	}
	if listed != len(s.tags) {
		t.Errorf("tags/list lists %d tags, meta.db holds %d", listed, len(s.tags))
	}
}

var blobDir = regexp.MustCompile(`^blobs(/(sha256|sha512)(/[0-9a-f]{2})?)?$`)

var blobName = regexp.MustCompile(`^blobs/(?:sha256/([0-9a-f]{2})/[0-9a-f]{64}|sha512/([0-9a-f]{2})/[0-9a-f]{128})$`)

func blobPath(dataDir, d string) string {
	alg, hex, _ := strings.Cut(d, ":")
	if len(hex) < 2 {
		return filepath.Join(dataDir, "blobs", alg, hex)
	}
	return filepath.Join(dataDir, "blobs", alg, hex[:2], hex)
}

// blobTree makes check 3: every file under blobs/ is a published blob,
// named as its content hashes, in its fan-out directory; nothing else
// (a temporary or partial file) is there. It returns how many it read.
func blobTree(t *testing.T, dataDir string) int {
	t.Helper()
	n := 0
	root := filepath.Join(dataDir, "blobs")
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dataDir, p)
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			if !blobDir.MatchString(rel) {
				t.Errorf("unexpected directory %s", rel)
			}
			return nil
		}
		m := blobName.FindStringSubmatch(rel)
		if m == nil || !e.Type().IsRegular() {
			t.Errorf("unexpected file %s (mode %v) in the blob tree: a temporary or misplaced file", rel, e.Type())
			return nil
		}
		if name := filepath.Base(p); name[:2] != m[1]+m[2] {
			t.Errorf("blob %s is not in the directory of its first two hex digits", rel)
		}
		var h hash.Hash = sha256.New()
		alg := "sha256"
		if m[2] != "" {
			h, alg = sha512.New(), "sha512"
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != filepath.Base(p) {
			t.Errorf("blob file %s holds content hashing to %s:%s: a partial or corrupt blob was published", rel, alg, got)
		}
		n++
		return nil
	})
	if err != nil {
		t.Errorf("walk %s: %v", root, err)
	}
	return n
}
