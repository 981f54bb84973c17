package crash

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

const stagedRepo = "crash/staged"

// stage opens two upload sessions that the test itself crashes at chosen
// points after the kill (see crashPoints), so that every cycle covers them
// whatever the timing of the pushers: one to be torn, one to be renamed.
func stage(ctx context.Context, t *testing.T, c *client, led *ledger, rng *rand.Rand) {
	t.Helper()
	for _, plan := range []string{"tear", "rename"} {
		b := make([]byte, 4+rng.IntN(256<<10))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		r, err := c.do(ctx, http.MethodPost, "/v2/"+stagedRepo+"/blobs/uploads/", nil, nil)
		if err != nil || r.status != http.StatusAccepted {
			t.Fatalf("staging an upload: POST = %v %v, want 202", r, err)
		}
		u := &heldUpload{who: "the test, to " + plan, repo: stagedRepo, location: r.header.Get("Location"),
			content: b, digest: sha256Digest(b)}
		n := int64(len(b))
		if plan == "tear" {
			n = 4 + rng.Int64N(n-3) // at least 4 bytes acknowledged, to cut below
		}
		r, err = c.do(ctx, http.MethodPatch, u.location,
			map[string]string{"Content-Type": "application/octet-stream", "Content-Range": contentRange(0, n)}, b[:n])
		if got, rerr := uploadRange(r.header); err != nil || r.status != http.StatusAccepted || rerr != nil || got != n {
			t.Fatalf("staging an upload: PATCH %d bytes = %v %v, want 202 with Range 0-%d", n, r, err, n-1)
		}
		u.acked, u.sent, u.plan = n, n, plan
		led.hold(u)
	}
}

// crashPoints does to the data directory, between the kill and the restart,
// what a crash can leave there that SIGKILL alone does not:
//
//   - torn: an upload file cut below the bytes berth acknowledged, as a
//     machine crash leaves upload writes that were never fsynced. The staged
//     session is always torn; a third of the pushers' held sessions are too.
//   - renamed: a complete upload file already renamed into blobs/ while its
//     session is still recorded, as a crash between a commit's rename and
//     its metadata transaction leaves it.
func crashPoints(t *testing.T, dataDir string, held []*heldUpload, rng *rand.Rand) (torn, renamed int) {
	t.Helper()
	for _, u := range held {
		up := filepath.Join(dataDir, "uploads", u.id())
		switch {
		case u.plan == "rename":
			fi, err := os.Stat(up)
			if err != nil || fi.Size() != int64(len(u.content)) {
				t.Fatalf("staged upload file %s: %v, size %v; want %d bytes", up, err, fi, len(u.content))
			}
			bp := blobPath(dataDir, u.digest)
			if err := os.MkdirAll(filepath.Dir(bp), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(up, bp); err != nil {
				t.Fatal(err)
			}
			u.renamed = true
			renamed++
		case u.plan == "tear" || u.acked >= 2 && rng.IntN(3) == 0:
			if _, err := os.Stat(up); err != nil {
				if u.plan != "" {
					t.Fatalf("staged upload file: %v", err)
				}
				continue // committed: its file is a blob now
			}
			u.torn, u.tornTo = true, rng.Int64N(u.acked)
			if err := os.Truncate(up, u.tornTo); err != nil {
				t.Fatal(err)
			}
			torn++
		}
	}
	return torn, renamed
}

// resume makes check 5 for a session a client held at the kill: its status
// is 204 with a Range between what the server acknowledged and what the
// client had sent, and the upload then finishes from there; or it is 404
// BLOB_UPLOAD_UNKNOWN because the closing PUT had landed, and the blob is
// there. A torn session may instead be dropped (404) or sent back (416) when
// the client resumes it, never committed. It returns the outcome.
func (ck *checker) resume(ctx context.Context, led *ledger, u *heldUpload) string {
	t := ck.t
	total := int64(len(u.content))
	what := fmt.Sprintf("upload %s held by %s (acked %d, sent %d of %d bytes, closing PUT sent %v, torn %v to %d, renamed %v)",
		u.location, u.who, u.acked, u.sent, total, u.finalSent, u.torn, u.tornTo, u.renamed)
	r, err := ck.c.do(ctx, http.MethodGet, u.location, nil, nil)
	switch {
	case err != nil:
		t.Errorf("GET %s: %v", what, err)
		return "failed"
	case r.status == http.StatusNotFound && r.code() == "BLOB_UPLOAD_UNKNOWN":
		if !u.finalSent || u.torn || u.renamed {
			t.Errorf("GET %s = 404 BLOB_UPLOAD_UNKNOWN: the session was never finished, so an acknowledged upload was lost", what)
			return "failed"
		}
		// The closing PUT committed before the kill; the answer was lost.
		ck.blob(ctx, u.repo, u.digest, total, "upload finished before the kill")
		led.ackBlob(u.repo, u.digest, total)
		return "finished"
	case r.status != http.StatusNoContent:
		t.Errorf("GET %s = %s, want 204 or 404 BLOB_UPLOAD_UNKNOWN", what, r)
		return "failed"
	}
	size, err := uploadRange(r.header)
	if err != nil || size < u.acked || size > u.sent {
		t.Errorf("GET %s = 204 with Range %q (%v): want between the %d bytes acknowledged and the %d sent",
			what, r.header.Get("Range"), err, u.acked, u.sent)
		return "failed"
	}
	loc := u.location
	if l := r.header.Get("Location"); l != "" {
		loc = l
	}
	off := size
	for range 4 {
		var what2 string
		if off < total {
			what2 = fmt.Sprintf("PATCH %s from byte %d", what, off)
			r, err = ck.c.do(ctx, http.MethodPatch, loc, map[string]string{
				"Content-Type": "application/octet-stream", "Content-Range": contentRange(off, total-off),
			}, u.content[off:])
			if err == nil && r.status == http.StatusAccepted {
				if n, rerr := uploadRange(r.header); rerr != nil || n != total {
					t.Errorf("%s = 202 with Range %q, want 0-%d", what2, r.header.Get("Range"), total-1)
					return "failed"
				}
				if l := r.header.Get("Location"); l != "" {
					loc = l
				}
				off = total
				continue
			}
		} else {
			what2 = "PUT ?digest= to finish " + what
			r, err = ck.c.do(ctx, http.MethodPut, loc+"?digest="+u.digest, nil, nil)
			if err == nil && r.status == http.StatusCreated {
				if u.torn && off > u.tornTo {
					t.Errorf("%s = 201: berth committed an upload whose bytes past %d were lost", what2, u.tornTo)
				}
				ck.blob(ctx, u.repo, u.digest, total, "resumed upload")
				led.ackBlob(u.repo, u.digest, total)
				return "resumed"
			}
		}
		switch {
		case err != nil:
			t.Errorf("%s: %v", what2, err)
			return "failed"
		case u.torn && r.status == http.StatusNotFound && r.code() == "BLOB_UPLOAD_UNKNOWN":
			// The server dropped the session whose bytes were lost; the
			// client starts over.
			return ck.repush(ctx, led, u)
		case u.torn && r.status == http.StatusRequestedRangeNotSatisfiable:
			n, rerr := uploadRange(r.header)
			if rerr != nil || n > u.tornTo {
				t.Errorf("%s = 416 with Range %q: want at most the %d bytes left in the file", what2, r.header.Get("Range"), u.tornTo)
				return "failed"
			}
			off = n
		default:
			t.Errorf("%s = %s; want success%s", what2, r, map[bool]string{true: ", 404 BLOB_UPLOAD_UNKNOWN or 416", false: ""}[u.torn])
			return "failed"
		}
	}
	t.Errorf("resuming %s did not finish in 4 requests", what)
	return "failed"
}

// repush pushes a blob again from scratch, as a client does after its
// session is gone.
func (ck *checker) repush(ctx context.Context, led *ledger, u *heldUpload) string {
	r, err := ck.c.do(ctx, http.MethodPost, "/v2/"+u.repo+"/blobs/uploads/?digest="+u.digest, nil, u.content)
	if err != nil || r.status != http.StatusCreated {
		ck.t.Errorf("pushing %s again after its torn session was dropped: %v %v, want 201", u.digest, r, err)
		return "failed"
	}
	ck.blob(ctx, u.repo, u.digest, int64(len(u.content)), "blob pushed again")
	led.ackBlob(u.repo, u.digest, int64(len(u.content)))
	return "restarted"
}
