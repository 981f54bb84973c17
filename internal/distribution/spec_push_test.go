package distribution_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/app"
)

// TestSpecBlobUpload covers pushing blobs: a single POST, POST then PUT,
// chunked PATCHes with Content-Range, streamed PATCHes without a length,
// upload status, cancel, and the refusals, each followed by a check that
// nothing was stored.
func TestSpecBlobUpload(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const repo = "push/blobs"
	up := "/v2/" + repo + "/blobs/uploads/"
	b := "/v2/" + repo + "/blobs/"
	octet := hdr("Content-Type", mtOctet)

	one := []byte("a blob pushed with one POST")
	two := []byte("a blob pushed with POST then PUT")
	other := []byte("content that does not match the digest sent with it")
	wrong := sha256Digest([]byte("the content the client meant to send"))
	empty := []byte{}
	long := bytes.Repeat([]byte("sha512 "), 40)
	long2 := bytes.Repeat([]byte("rehashed "), 40)

	chunked := []byte("0123456789abcdefghijKLMNOPQRST") // three chunks of 10
	streamed := bytes.Repeat([]byte("streamed without a length "), 100_000)
	uploadState := func(rng string) map[string]string {
		return map[string]string{"Location": up + "*", "Range": rng, "Docker-Upload-UUID": "*"}
	}
	created := func(d string) map[string]string {
		return map[string]string{"Location": b + d, "Docker-Content-Digest": d, "Content-Length": "0"}
	}

	s.run(t, []step{
		// Single POST.
		{name: "single POST with digest: 201", method: "POST", path: up + "?digest=" + sha256Digest(one), header: octet, body: one,
			status: 201, want: created(sha256Digest(one))},
		{name: "the blob is there", method: "GET", path: b + sha256Digest(one), status: 200, wantBody: one},
		{name: "single POST of the empty blob", method: "POST", path: up + "?digest=" + sha256Digest(empty), header: octet, body: empty,
			status: 201, want: created(sha256Digest(empty))},
		{name: "single POST of content already stored", method: "POST", path: up + "?digest=" + sha256Digest(one), header: octet, body: one,
			status: 201, want: created(sha256Digest(one))},
		{name: "single POST with a sha512 digest", method: "POST", path: up + "?digest=" + sha512Digest(long), header: octet, body: long,
			status: 201, want: created(sha512Digest(long))},
		{name: "the sha512 blob is there", method: "GET", path: b + sha512Digest(long), status: 200, wantBody: long,
			want: map[string]string{"Docker-Content-Digest": sha512Digest(long)}},
		{name: "single POST whose content does not match", method: "POST", path: up + "?digest=" + wrong, header: octet, body: other,
			status: 400, code: "DIGEST_INVALID"},
		{name: "nothing stored under the claimed digest", method: "HEAD", path: b + wrong, status: 404},
		{name: "nothing stored under the content's digest", method: "HEAD", path: b + sha256Digest(other), status: 404},
		{name: "single POST with a malformed digest", method: "POST", path: up + "?digest=sha256:nothex", header: octet, body: other,
			status: 400, code: "DIGEST_INVALID"},
		{name: "single POST with a sha512 digest of the wrong content", method: "POST", path: up + "?digest=" + sha512Digest(one), header: octet, body: other,
			status: 400, code: "DIGEST_INVALID"},
		{name: "single POST to an invalid name", method: "POST", path: "/v2/Push/blobs/uploads/?digest=" + sha256Digest(one), header: octet, body: one,
			status: 400, code: "NAME_INVALID"},
		{name: "the invalid name stored nothing", method: "GET", path: "/v2/_catalog", status: 200, wantBody: []byte(`{"repositories":[]}`)},

		// POST then PUT.
		{name: "POST opens an upload", method: "POST", path: up, status: 202, want: uploadState("0-0")},
		{name: "GET an empty upload's status", method: "GET", path: "$LOC", status: 204, want: uploadState("0-0")},
		{name: "PUT the whole blob", method: "PUT", path: "$LOC?digest=" + sha256Digest(two), header: octet, body: two,
			status: 201, want: created(sha256Digest(two))},
		{name: "the PUT blob is there", method: "GET", path: b + sha256Digest(two), status: 200, wantBody: two},
		{name: "the finished upload is gone", method: "GET", path: "$LOC", status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "PUT on a finished upload", method: "PUT", path: "$LOC?digest=" + sha256Digest(two), header: octet, body: two,
			status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "POST again", method: "POST", path: up, header: hdr("Content-Length", "0"), status: 202, want: uploadState("0-0")},
		{name: "PUT without a digest", method: "PUT", path: "$LOC", header: octet, body: other, status: 400, code: "DIGEST_INVALID"},
		{name: "PUT with a malformed digest", method: "PUT", path: "$LOC?digest=sha256:00", header: octet, body: other, status: 400, code: "DIGEST_INVALID"},
		{name: "the upload survives a malformed PUT", method: "GET", path: "$LOC", status: 204, want: uploadState("0-0")},
		{name: "PUT content that does not match", method: "PUT", path: "$LOC?digest=" + wrong, header: octet, body: other,
			status: 400, code: "DIGEST_INVALID"},
		{name: "no blob under the claimed digest", method: "HEAD", path: b + wrong, status: 404},
		{name: "no blob under the content's digest", method: "HEAD", path: b + sha256Digest(other), status: 404},
		{name: "a mismatched upload is closed", method: "GET", path: "$LOC", status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "POST for a sha512 PUT", method: "POST", path: up, status: 202},
		{name: "PUT with a sha512 digest", method: "PUT", path: "$LOC?digest=" + sha512Digest(long2), header: octet, body: long2,
			status: 201, want: created(sha512Digest(long2))},
		{name: "the rehashed blob is there", method: "GET", path: b + sha512Digest(long2), status: 200, wantBody: long2},

		// Chunked.
		{name: "POST for chunks", method: "POST", path: up, header: hdr("Content-Length", "0"), status: 202},
		{name: "a first chunk that does not start at 0", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "10-19", "Content-Type", mtOctet),
			body: chunked[10:20], status: 416, code: "BLOB_UPLOAD_INVALID", want: map[string]string{"Range": "0-0", "Location": up + "*"}},
		{name: "a Content-Range whose length overflows", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "0-9223372036854775807"),
			body: chunked[:10], stream: true, status: 416, code: "BLOB_UPLOAD_INVALID"},
		{name: "the overflowing chunk was not stored", method: "GET", path: "$LOC", status: 204, want: uploadState("0-0")},
		{name: "first chunk", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "0-9", "Content-Type", mtOctet),
			body: chunked[:10], status: 202, want: uploadState("0-9")},
		{name: "status after one chunk", method: "GET", path: "$LOC", status: 204, want: uploadState("0-9")},
		{name: "a chunk that leaves a gap", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "20-29", "Content-Type", mtOctet),
			body: chunked[20:], status: 416, code: "BLOB_UPLOAD_INVALID", want: map[string]string{"Range": "0-9", "Location": up + "*"}},
		{name: "a chunk sent twice", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "0-9", "Content-Type", mtOctet),
			body: chunked[:10], status: 416, code: "BLOB_UPLOAD_INVALID", want: map[string]string{"Range": "0-9"}},
		{name: "a malformed Content-Range", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "ten-twenty"),
			body: chunked[10:20], status: 416, code: "BLOB_UPLOAD_INVALID"},
		{name: "Content-Range longer than the body", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "10-29"),
			body: chunked[10:20], status: 416, code: "BLOB_UPLOAD_INVALID"},
		{name: "a streamed body longer than its Content-Range", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "10-14"),
			body: chunked[10:20], stream: true, status: 400, code: "SIZE_INVALID"},
		{name: "refused chunks left the upload as it was", method: "GET", path: "$LOC", status: 204, want: uploadState("0-9")},
		{name: "second chunk", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "10-19", "Content-Type", mtOctet),
			body: chunked[10:20], status: 202, want: uploadState("0-19")},
		{name: "a closing PUT whose chunk is out of order", method: "PUT", path: "$LOC?digest=" + sha256Digest(chunked),
			header: hdr("Content-Range", "25-29", "Content-Type", mtOctet), body: chunked[25:], status: 416, code: "BLOB_UPLOAD_INVALID"},
		{name: "closing PUT with the last chunk", method: "PUT", path: "$LOC?digest=" + sha256Digest(chunked),
			header: hdr("Content-Range", "20-29", "Content-Type", mtOctet), body: chunked[20:], status: 201, want: created(sha256Digest(chunked))},
		{name: "the chunked blob is whole", method: "GET", path: b + sha256Digest(chunked), status: 200, wantBody: chunked},
		{name: "chunks with bytes= ranges", method: "POST", path: up, status: 202},
		{name: "a chunk with a bytes= range", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "bytes=0-14"),
			body: chunked[:15], status: 202, want: uploadState("0-14")},
		{name: "a chunk with a bytes range and total", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "bytes 15-29/30"),
			body: chunked[15:], status: 202, want: uploadState("0-29")},
		{name: "closing PUT without a body", method: "PUT", path: "$LOC?digest=" + sha256Digest(chunked), status: 201, want: created(sha256Digest(chunked))},

		// Streamed.
		{name: "POST for a stream", method: "POST", path: up, status: 202},
		{name: "a streamed PATCH without length or range", method: "PATCH", path: "$LOC", header: octet,
			body: streamed[:1<<20+3], stream: true, status: 202, want: uploadState(fmt.Sprintf("0-%d", 1<<20+2))},
		{name: "a second streamed PATCH", method: "PATCH", path: "$LOC", header: octet,
			body: streamed[1<<20+3:], stream: true, status: 202, want: uploadState(fmt.Sprintf("0-%d", len(streamed)-1))},
		{name: "status of the stream", method: "GET", path: "$LOC", status: 204, want: uploadState(fmt.Sprintf("0-%d", len(streamed)-1))},
		{name: "close the stream", method: "PUT", path: "$LOC?digest=" + sha256Digest(streamed), status: 201, want: created(sha256Digest(streamed))},
		{name: "the streamed blob is whole", method: "GET", path: b + sha256Digest(streamed), status: 200, wantBody: streamed},
		{name: "a streamed closing PUT", method: "POST", path: up, status: 202},
		{name: "PUT with a streamed body", method: "PUT", path: "$LOC?digest=" + sha256Digest(streamed[:5000]), header: octet,
			body: streamed[:5000], stream: true, status: 201, want: created(sha256Digest(streamed[:5000]))},

		// Cancel.
		{name: "POST to cancel", method: "POST", path: up, status: 202},
		{name: "a chunk before cancelling", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "0-4"), body: []byte("abort"), status: 202},
		{name: "cancel the upload", method: "DELETE", path: "$LOC", status: 204},
		{name: "a cancelled upload is unknown", method: "GET", path: "$LOC", status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "PATCH on a cancelled upload", method: "PATCH", path: "$LOC", header: hdr("Content-Range", "5-9"), body: []byte("again"),
			status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "PUT on a cancelled upload", method: "PUT", path: "$LOC?digest=" + sha256Digest([]byte("abort")),
			status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "nothing of the cancelled upload is stored", method: "HEAD", path: b + sha256Digest([]byte("abort")), status: 404},
		{name: "cancel twice", method: "DELETE", path: "$LOC", status: 404, code: "BLOB_UPLOAD_UNKNOWN"},

		// Unknown sessions.
		{name: "status of an unknown upload", method: "GET", path: up + "0123456789abcdef0123456789abcdef", status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "PATCH an unknown upload", method: "PATCH", path: up + "0123456789abcdef0123456789abcdef", body: one, status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "PUT an unknown upload", method: "PUT", path: up + "nope?digest=" + sha256Digest(one), body: one, status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "DELETE an unknown upload", method: "DELETE", path: up + "nope", status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
	})
}

// TestSpecUploadOfAnotherRepository checks that an upload session belongs to
// the repository that opened it.
func TestSpecUploadOfAnotherRepository(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	resp, _ := s.do(t, "POST", "/v2/mine/blobs/uploads/", nil, nil)
	if resp.StatusCode != 202 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	id := resp.Header.Get("Docker-Upload-UUID")
	if !strings.HasSuffix(resp.Header.Get("Location"), "/"+id) {
		t.Fatalf("Location %q does not end in the upload id %q", resp.Header.Get("Location"), id)
	}
	content := []byte("mine")
	s.run(t, []step{
		{name: "status through another repository", method: "GET", path: "/v2/theirs/blobs/uploads/" + id, status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "PATCH through another repository", method: "PATCH", path: "/v2/theirs/blobs/uploads/" + id, body: content, status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "PUT through another repository", method: "PUT", path: "/v2/theirs/blobs/uploads/" + id + "?digest=" + sha256Digest(content),
			body: content, status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "DELETE through another repository", method: "DELETE", path: "/v2/theirs/blobs/uploads/" + id, status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "status through another registry", method: "GET", path: "/v2/mine/blobs/uploads/" + id, header: hdr("Host", secondLogin),
			status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "the owner still has it", method: "GET", path: "/v2/mine/blobs/uploads/" + id, status: 204, want: map[string]string{"Range": "0-0"}},
		{name: "and finishes it", method: "PUT", path: "/v2/mine/blobs/uploads/" + id + "?digest=" + sha256Digest(content), body: content, status: 201},
	})
}

// TestSpecBlobMount covers cross-repository mounts, with and without from.
func TestSpecBlobMount(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	content := []byte("a blob to mount")
	d := s.pushBlob(t, "mount/src", content)
	s.pushBlob(t, "mount/empty", []byte("something else"))
	unknown := sha256Digest([]byte("not stored anywhere"))
	mounted := func(repo string) map[string]string {
		return map[string]string{"Location": "/v2/" + repo + "/blobs/" + d, "Docker-Content-Digest": d, "Content-Length": "0"}
	}
	s.run(t, []step{
		{name: "mount with from", method: "POST", path: "/v2/mount/dst/blobs/uploads/?mount=" + d + "&from=mount/src",
			status: 201, want: mounted("mount/dst")},
		{name: "the mounted blob is there", method: "GET", path: "/v2/mount/dst/blobs/" + d, status: 200, wantBody: content},
		{name: "the source keeps it", method: "GET", path: "/v2/mount/src/blobs/" + d, status: 200, wantBody: content},
		{name: "mount without from", method: "POST", path: "/v2/mount/nofrom/blobs/uploads/?mount=" + d,
			status: 201, want: mounted("mount/nofrom")},
		{name: "the blob mounted without from is there", method: "HEAD", path: "/v2/mount/nofrom/blobs/" + d, status: 200},
		{name: "mount of an unknown blob opens an upload", method: "POST", path: "/v2/mount/dst2/blobs/uploads/?mount=" + unknown + "&from=mount/src",
			status: 202, want: map[string]string{"Location": "/v2/mount/dst2/blobs/uploads/*", "Range": "0-0"}},
		{name: "the upload opened instead works", method: "PUT", path: "$LOC?digest=" + sha256Digest([]byte("x")), body: []byte("x"), status: 201},
		{name: "nothing mounted for the unknown blob", method: "HEAD", path: "/v2/mount/dst2/blobs/" + unknown, status: 404},
		{name: "mount from a repository without the blob", method: "POST", path: "/v2/mount/dst3/blobs/uploads/?mount=" + d + "&from=mount/empty",
			status: 202, want: map[string]string{"Location": "/v2/mount/dst3/blobs/uploads/*"}},
		{name: "nothing mounted from the wrong repository", method: "HEAD", path: "/v2/mount/dst3/blobs/" + d, status: 404},
		{name: "mount from an unknown repository", method: "POST", path: "/v2/mount/dst4/blobs/uploads/?mount=" + d + "&from=mount/none",
			status: 202},
		{name: "mount with a malformed digest", method: "POST", path: "/v2/mount/dst5/blobs/uploads/?mount=sha256:abc&from=mount/src",
			status: 400, code: "DIGEST_INVALID"},
		{name: "mount from an invalid name", method: "POST", path: "/v2/mount/dst5/blobs/uploads/?mount=" + d + "&from=Mount/Src",
			status: 400, code: "NAME_INVALID"},
		{name: "nothing mounted by refused mounts", method: "HEAD", path: "/v2/mount/dst5/blobs/" + d, status: 404},
		// Registries are tenants: a digest known in one is not a key to
		// content in another.
		{name: "mount without from in another registry", method: "POST", path: "/v2/mount/dst/blobs/uploads/?mount=" + d,
			header: hdr("Host", secondLogin), status: 202},
		{name: "mount with from in another registry", method: "POST", path: "/v2/mount/dst/blobs/uploads/?mount=" + d + "&from=mount/src",
			header: hdr("Host", secondLogin), status: 202},
		{name: "the other registry did not get the blob", method: "GET", path: "/v2/mount/dst/blobs/" + d,
			header: hdr("Host", secondLogin), status: 404, code: "BLOB_UNKNOWN"},
	})
}

// TestSpecUploadSurvivesRestart starts an upload on one server and finishes
// it on a second server over the same data directory.
func TestSpecUploadSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := newServerAt(t, dir)
	content := []byte("0123456789abcdefghij")
	resp, _ := first.do(t, "POST", "/v2/restart/app/blobs/uploads/", nil, nil)
	if resp.StatusCode != 202 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	resp, body := first.do(t, "PATCH", loc, hdr("Content-Range", "0-9"), content[:10])
	if resp.StatusCode != 202 {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
	}

	second := newServerAt(t, dir)
	second.run(t, []step{
		{name: "the upload is known after the restart", method: "GET", path: loc, status: 204,
			want: map[string]string{"Range": "0-9", "Location": loc}},
		{name: "the next chunk continues it", method: "PATCH", path: loc, header: hdr("Content-Range", "10-19"), body: content[10:],
			status: 202, want: map[string]string{"Range": "0-19"}},
		{name: "the closing PUT", method: "PUT", path: loc + "?digest=" + sha256Digest(content), status: 201},
		{name: "the blob is whole", method: "GET", path: "/v2/restart/app/blobs/" + sha256Digest(content), status: 200, wantBody: content},
	})
	first.run(t, []step{
		{name: "the first server sees the blob", method: "GET", path: "/v2/restart/app/blobs/" + sha256Digest(content), status: 200, wantBody: content},
		{name: "the first server sees the upload closed", method: "GET", path: loc, status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
	})
}

// TestSpecDisconnectMidUpload sends part of a body and hangs up: nothing of
// it may become visible, and the upload resumes where it stood.
func TestSpecDisconnectMidUpload(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const repo = "cut/app"
	content := bytes.Repeat([]byte("0123456789"), 100)
	d := sha256Digest(content)

	// hangUp sends a request announcing the whole content, sends the
	// first part of it, closes the connection, and waits until the server
	// is done with the request.
	hangUp := func(method, path string, header http.Header, part []byte) {
		t.Helper()
		u, err := url.Parse(s.url)
		if err != nil {
			t.Fatal(err)
		}
		before := s.finishedCount()
		s.mu.Lock()
		startedBefore := s.started
		s.mu.Unlock()
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		var req strings.Builder
		fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, u.Host)
		fmt.Fprintf(&req, "Authorization: Basic %s\r\n", base64.StdEncoding.EncodeToString([]byte(app.AdminUser+":"+password)))
		for k, vs := range header {
			for _, v := range vs {
				fmt.Fprintf(&req, "%s: %s\r\n", k, v)
			}
		}
		req.WriteString("\r\n")
		conn.Write([]byte(req.String()))
		conn.Write(part)
		// Hang up only once the handler is reading the body, so that the
		// cut is mid-upload even on a busy machine; then give it a moment
		// to read what was sent.
		s.waitStarted(startedBefore + 1)
		time.Sleep(20 * time.Millisecond)
		conn.Close()
		s.waitFinished(before + 1)
		s.mu.Lock()
		status := s.lastStatus
		s.mu.Unlock()
		t.Logf("%s %s cut short: the server answered %d", method, path, status)
		if status < 400 || status >= 500 {
			t.Errorf("%s %s cut short: the server answered %d, want a client error", method, path, status)
		}
	}

	// A single POST cut short.
	hangUp("POST", "/v2/"+repo+"/blobs/uploads/?digest="+d,
		hdr("Content-Length", strconv.Itoa(len(content)), "Content-Type", mtOctet), content[:400])
	s.run(t, []step{
		{name: "a cut single POST stored nothing", method: "HEAD", path: "/v2/" + repo + "/blobs/" + d, status: 404},
		{name: "a cut single POST made no repository", method: "GET", path: "/v2/" + repo + "/tags/list", status: 404, code: "NAME_UNKNOWN"},
	})

	// A chunk cut short.
	resp, _ := s.do(t, "POST", "/v2/"+repo+"/blobs/uploads/", nil, nil)
	loc := resp.Header.Get("Location")
	if resp, body := s.do(t, "PATCH", loc, hdr("Content-Range", "0-99"), content[:100]); resp.StatusCode != 202 {
		t.Fatalf("first chunk: %d %s", resp.StatusCode, body)
	}
	hangUp("PATCH", loc, hdr("Content-Range", "100-999", "Content-Length", "900"), content[100:500])
	s.run(t, []step{
		{name: "a cut chunk left the upload where it was", method: "GET", path: loc, status: 204, want: map[string]string{"Range": "0-99"}},
		{name: "the upload resumes", method: "PATCH", path: loc, header: hdr("Content-Range", "100-999"), body: content[100:], status: 202,
			want: map[string]string{"Range": "0-999"}},
	})

	// A closing PUT cut short.
	hangUp("PUT", loc+"?digest="+d, hdr("Content-Length", "1000"), content[:300])
	s.run(t, []step{
		{name: "a cut closing PUT stored nothing", method: "HEAD", path: "/v2/" + repo + "/blobs/" + d, status: 404},
	})

	// A monolithic PUT cut short, on a fresh upload.
	resp, _ = s.do(t, "POST", "/v2/"+repo+"/blobs/uploads/", nil, nil)
	loc = resp.Header.Get("Location")
	hangUp("PUT", loc+"?digest="+d, hdr("Content-Length", "1000"), content[:300])
	s.run(t, []step{
		{name: "a cut monolithic PUT stored nothing", method: "HEAD", path: "/v2/" + repo + "/blobs/" + d, status: 404},
		{name: "the upload is still empty", method: "GET", path: loc, status: 204, want: map[string]string{"Range": "0-0"}},
		{name: "and can be finished", method: "PUT", path: loc + "?digest=" + d, body: content, status: 201},
		{name: "the blob is whole", method: "GET", path: "/v2/" + repo + "/blobs/" + d, status: 200, wantBody: content},
	})

	// A chunk larger than what berth hashes in one go, cut short.
	big := bytes.Repeat([]byte("large chunk "), 300_000)
	resp, _ = s.do(t, "POST", "/v2/"+repo+"/blobs/uploads/", nil, nil)
	loc = resp.Header.Get("Location")
	hangUp("PATCH", loc, hdr("Content-Length", strconv.Itoa(len(big))), big[:len(big)/2])
	s.run(t, []step{
		{name: "a cut large chunk left the upload empty", method: "GET", path: loc, status: 204, want: map[string]string{"Range": "0-0"}},
	})

	// A streamed closing PUT cut short: its digest cannot match.
	resp, _ = s.do(t, "POST", "/v2/"+repo+"/blobs/uploads/", nil, nil)
	loc = resp.Header.Get("Location")
	hangUp("PUT", loc+"?digest="+sha256Digest(big), hdr("Transfer-Encoding", "chunked"),
		append([]byte(strconv.FormatInt(int64(len(big)), 16)+"\r\n"), big[:1<<20]...))
	s.run(t, []step{
		{name: "a cut streamed PUT stored nothing", method: "HEAD", path: "/v2/" + repo + "/blobs/" + sha256Digest(big), status: 404},
	})
}
