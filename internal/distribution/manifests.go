package distribution

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/registry"
)

func parseReference(s string) (registry.Reference, error) {
	if strings.Contains(s, ":") {
		d, err := parseDigest(s)
		return registry.Reference{Digest: d}, err
	}
	if !oci.ValidTag(s) {
		return registry.Reference{}, errcode.TagInvalid.WithMessage("invalid tag " + strconv.Quote(s) + ": want [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
	}
	return registry.Reference{Tag: s}, nil
}

// accepts reports whether the request's Accept headers allow media type mt.
// No Accept header, or a wildcard, allows anything; berth cannot convert
// between manifest formats, so an explicit list without mt is a miss.
func accepts(r *http.Request, mt string) bool {
	values := r.Header.Values("Accept")
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			t, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if t == mt || t == "*/*" || t == "application/*" || t == "application/json" {
				return true
			}
		}
	}
	return false
}

func (h *Handler) getManifest(rq *request) error {
	ref, err := parseReference(rq.route.ref)
	if err != nil {
		return err
	}
	m, err := h.svc.GetManifest(rq.ctx(), rq.reg.ID, rq.route.name, ref)
	if err != nil {
		return err
	}
	if !accepts(rq.r, m.MediaType) {
		return errcode.ManifestUnknown.WithMessage("the manifest is " + m.MediaType + ", which the request's Accept header does not list")
	}
	hd := rq.w.Header()
	hd.Set("Content-Type", m.MediaType)
	hd.Set("Docker-Content-Digest", string(m.Digest))
	hd.Set("ETag", `"`+string(m.Digest)+`"`)
	setLength(rq.w, int64(len(m.Content)))
	rq.w.WriteHeader(http.StatusOK)
	if rq.r.Method != http.MethodHead {
		rq.w.Write(m.Content)
	}
	return nil
}

func (h *Handler) putManifest(rq *request) error {
	ref, err := parseReference(rq.route.ref)
	if err != nil {
		return err
	}
	if rq.r.ContentLength > oci.MaxManifestSize {
		return errcode.ManifestTooLarge.New()
	}
	body, err := io.ReadAll(io.LimitReader(rq.r.Body, oci.MaxManifestSize+1))
	if err != nil {
		return errcode.ManifestInvalid.WithMessage("reading the manifest body: " + err.Error())
	}
	if len(body) > oci.MaxManifestSize {
		return errcode.ManifestTooLarge.New()
	}
	res, err := h.svc.PutManifest(rq.ctx(), rq.reg.ID, rq.route.name, ref, rq.r.Header.Get("Content-Type"), body)
	if err != nil {
		return err
	}
	hd := rq.w.Header()
	hd.Set("Location", "/v2/"+rq.route.name+"/manifests/"+string(res.Digest))
	hd.Set("Docker-Content-Digest", string(res.Digest))
	if res.Subject != "" {
		hd.Set("OCI-Subject", string(res.Subject))
	}
	setLength(rq.w, 0)
	rq.w.WriteHeader(http.StatusCreated)
	return nil
}

func (h *Handler) deleteManifest(rq *request) error {
	ref, err := parseReference(rq.route.ref)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteManifest(rq.ctx(), rq.reg.ID, rq.route.name, ref); err != nil {
		return err
	}
	setLength(rq.w, 0)
	rq.w.WriteHeader(http.StatusAccepted)
	return nil
}

// pageParams reads n and last. n < 0 means no limit was asked for.
func pageParams(r *http.Request) (n int, last string, err error) {
	q := r.URL.Query()
	n = -1
	if s := q.Get("n"); s != "" {
		n, err = strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, "", errcode.PaginationInvalid.WithMessage("n must be a whole number ≥ 0")
		}
	}
	return n, q.Get("last"), nil
}

// writePage writes a listing of at most n names (list may hold n+1 to show
// there is more) with a Link header to the next page.
func writePage(rq *request, n int, list []string, body func([]string) any) error {
	if n >= 0 && len(list) > n {
		list = list[:n]
		if n > 0 {
			u := url.URL{Path: rq.r.URL.Path, RawQuery: url.Values{"n": {strconv.Itoa(n)}, "last": {list[n-1]}}.Encode()}
			rq.w.Header().Set("Link", "<"+u.String()+`>; rel="next"`)
		}
	}
	return writeJSON(rq.w, "application/json", body(list))
}

func writeJSON(w http.ResponseWriter, contentType string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	setLength(w, int64(len(b)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

// fetch turns "n" into what to ask the store for: one more, to see if
// there is a next page.
func fetch(n int) int {
	if n < 0 {
		return 0
	}
	return n + 1
}

func (h *Handler) tags(rq *request) error {
	n, last, err := pageParams(rq.r)
	if err != nil {
		return err
	}
	var tags []string
	if n != 0 {
		tags, err = h.svc.TagNames(rq.ctx(), rq.reg.ID, rq.route.name, last, fetch(n))
	} else {
		_, err = h.svc.TagNames(rq.ctx(), rq.reg.ID, rq.route.name, last, 1)
	}
	if err != nil {
		return err
	}
	return writePage(rq, n, tags, func(l []string) any {
		if l == nil {
			l = []string{}
		}
		return struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		}{rq.route.name, l}
	})
}

func (h *Handler) catalog(rq *request) error {
	n, last, err := pageParams(rq.r)
	if err != nil {
		return err
	}
	var repos []string
	if n != 0 {
		if repos, err = h.svc.Catalog(rq.ctx(), rq.reg.ID, last, fetch(n)); err != nil {
			return err
		}
	}
	return writePage(rq, n, repos, func(l []string) any {
		if l == nil {
			l = []string{}
		}
		return struct {
			Repositories []string `json:"repositories"`
		}{l}
	})
}

func (h *Handler) referrers(rq *request) error {
	d, err := parseDigest(rq.route.ref)
	if err != nil {
		return err
	}
	at := rq.r.URL.Query().Get("artifactType")
	descs, err := h.svc.Referrers(rq.ctx(), rq.reg.ID, rq.route.name, d, at)
	if err != nil && !errors.Is(err, registry.ErrNameUnknown) {
		return err
	}
	if at != "" {
		rq.w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	if descs == nil {
		descs = []oci.Descriptor{}
	}
	return writeJSON(rq.w, oci.MediaTypeImageIndex, struct {
		SchemaVersion int              `json:"schemaVersion"`
		MediaType     string           `json:"mediaType"`
		Manifests     []oci.Descriptor `json:"manifests"`
	}{2, oci.MediaTypeImageIndex, descs})
}
