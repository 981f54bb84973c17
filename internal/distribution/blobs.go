package distribution

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/dataplane"
	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/storage/meta"
)

func parseDigest(s string) (oci.Digest, error) {
	d, err := oci.ParseDigest(s)
	if err != nil {
		return "", errcode.DigestInvalid.WithMessage(fmt.Sprintf("invalid digest %q: want sha256:<64 hex> or sha512:<128 hex>", s))
	}
	return d, nil
}

func (h *Handler) getBlob(rq *request) error {
	d, err := parseDigest(rq.route.ref)
	if err != nil {
		return err
	}
	hd := rq.w.Header()
	if rq.r.Method == http.MethodHead {
		b, err := h.svc.StatBlob(rq.ctx(), rq.reg.ID, rq.route.name, d)
		if err != nil {
			return err
		}
		hd.Set("Content-Type", "application/octet-stream")
		hd.Set("Docker-Content-Digest", string(d))
		hd.Set("Accept-Ranges", "bytes")
		hd.Set("ETag", `"`+string(d)+`"`)
		setLength(rq.w, b.Size)
		rq.w.WriteHeader(http.StatusOK)
		return nil
	}
	_, f, err := h.svc.OpenBlob(rq.ctx(), rq.reg.ID, rq.route.name, d)
	if err != nil {
		return err
	}
	defer f.Close()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Docker-Content-Digest", string(d))
	hd.Set("ETag", `"`+string(d)+`"`)
	hd.Set("Cache-Control", "max-age=31536000")
	// ServeContent answers Range with 206 or 416, and sends an *os.File
	// with sendfile.
	http.ServeContent(rq.w, rq.r, "", time.Time{}, f)
	return nil
}

func (h *Handler) deleteBlob(rq *request) error {
	d, err := parseDigest(rq.route.ref)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteBlob(rq.ctx(), rq.reg.ID, rq.route.name, d); err != nil {
		return err
	}
	setLength(rq.w, 0)
	rq.w.WriteHeader(http.StatusAccepted)
	return nil
}

func (rq *request) uploadLocation(id string) string {
	return "/v2/" + rq.route.name + "/blobs/uploads/" + id
}

// writeUploadState answers with where an upload stands.
func (rq *request) writeUploadState(u meta.Upload, status int) {
	hd := rq.w.Header()
	hd.Set("Location", rq.uploadLocation(u.ID))
	hd.Set("Docker-Upload-UUID", u.ID)
	end := u.Size - 1
	if end < 0 {
		end = 0
	}
	hd.Set("Range", "0-"+strconv.FormatInt(end, 10))
	setLength(rq.w, 0)
	rq.w.WriteHeader(status)
}

func (rq *request) writeBlobCreated(d oci.Digest) {
	hd := rq.w.Header()
	hd.Set("Location", "/v2/"+rq.route.name+"/blobs/"+string(d))
	hd.Set("Docker-Content-Digest", string(d))
	setLength(rq.w, 0)
	rq.w.WriteHeader(http.StatusCreated)
}

// mayRead reports whether the caller may read a mount's source: without
// from, the blob may come from any repository of the registry, so that
// needs registry-wide read.
func mayRead(rq *request, from string) bool {
	c, ok := dataplane.CallerFrom(rq.ctx())
	if !ok {
		return false
	}
	if from == "" {
		return c.CanCatalog(rq.reg)
	}
	return c.Can(rq.reg, from, rbac.ActionPull)
}

func (h *Handler) startUpload(rq *request) error {
	q := rq.r.URL.Query()
	ctx, reg, name := rq.ctx(), rq.reg.ID, rq.route.name
	if mount := q.Get("mount"); mount != "" {
		d, err := parseDigest(mount)
		if err != nil {
			return err
		}
		from := q.Get("from")
		if from != "" && !oci.ValidName(from) {
			return errcode.NameInvalid.WithDetail(map[string]string{"name": from})
		}
		if mayRead(rq, from) {
			_, ok, err := h.svc.MountBlob(ctx, reg, name, from, d)
			if err != nil {
				return err
			}
			if ok {
				rq.writeBlobCreated(d)
				return nil
			}
		}
		// Not mountable: fall through to an ordinary upload, as the spec says.
	}
	var d oci.Digest
	if s := q.Get("digest"); s != "" {
		var err error
		if d, err = parseDigest(s); err != nil {
			return err
		}
	}
	u, err := h.svc.StartUpload(ctx, reg, name, d.Algorithm())
	if err != nil {
		return err
	}
	if d == "" {
		rq.writeUploadState(u, http.StatusAccepted)
		return nil
	}
	// Monolithic upload: the body is the whole blob.
	if _, err := h.svc.FinishUpload(ctx, reg, name, u.ID, d, 0, rq.r.ContentLength, rq.r.Body); err != nil {
		h.svc.CancelUpload(ctx, reg, name, u.ID)
		return err
	}
	rq.writeBlobCreated(d)
	return nil
}

func (h *Handler) uploadStatus(rq *request) error {
	u, err := h.svc.Upload(rq.ctx(), rq.reg.ID, rq.route.name, rq.route.ref)
	if err != nil {
		return err
	}
	rq.writeUploadState(u, http.StatusNoContent)
	return nil
}

// contentRange reads a chunk's Content-Range ("start-end", inclusive; some
// clients prefix "bytes="). It returns start -1 when there is none.
func contentRange(r *http.Request) (start, length int64, err error) {
	s := r.Header.Get("Content-Range")
	length = r.ContentLength
	if s == "" {
		return -1, length, nil
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "bytes="), "bytes ")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	a, b, ok := strings.Cut(s, "-")
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	// end == MaxInt64 would make the length overflow into "unknown".
	if !ok || err1 != nil || err2 != nil || start < 0 || end < start-1 || end == math.MaxInt64 {
		return 0, 0, errcode.RangeInvalid.WithMessage("malformed Content-Range " + strconv.Quote(r.Header.Get("Content-Range")))
	}
	n := end - start + 1
	if length >= 0 && length != n {
		return 0, 0, errcode.RangeInvalid.WithMessage("Content-Range and Content-Length disagree")
	}
	return start, n, nil
}

func (h *Handler) patchUpload(rq *request) error {
	start, length, err := contentRange(rq.r)
	if err != nil {
		return err
	}
	u, err := h.svc.WriteUpload(rq.ctx(), rq.reg.ID, rq.route.name, rq.route.ref, start, length, rq.r.Body)
	if err != nil {
		if e := dataplane.Code(err); e.Code == errcode.RangeInvalid {
			// Tell the client where the upload stands, so it can resume.
			rq.w.Header().Set("Location", rq.uploadLocation(u.ID))
			rq.w.Header().Set("Range", "0-"+strconv.FormatInt(max(u.Size-1, 0), 10))
		}
		return err
	}
	rq.writeUploadState(u, http.StatusAccepted)
	return nil
}

func (h *Handler) finishUpload(rq *request) error {
	s := rq.r.URL.Query().Get("digest")
	if s == "" {
		return errcode.DigestInvalid.WithMessage("the digest query parameter is required to finish an upload")
	}
	d, err := parseDigest(s)
	if err != nil {
		return err
	}
	start, length, err := contentRange(rq.r)
	if err != nil {
		return err
	}
	var body io.Reader
	if rq.r.ContentLength != 0 {
		body = rq.r.Body
	}
	if _, err := h.svc.FinishUpload(rq.ctx(), rq.reg.ID, rq.route.name, rq.route.ref, d, start, length, body); err != nil {
		return err
	}
	rq.writeBlobCreated(d)
	return nil
}

func (h *Handler) cancelUpload(rq *request) error {
	if err := h.svc.CancelUpload(rq.ctx(), rq.reg.ID, rq.route.name, rq.route.ref); err != nil {
		return err
	}
	setLength(rq.w, 0)
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
