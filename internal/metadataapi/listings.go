package metadataapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Page sizes: without n a page holds defaultPage entries and a Link to the
// next, as the managed registry does; n above maxPage is cut to it.
const (
	defaultPage = 100
	maxPage     = 1000
)

// page is what a listing request asks for.
type page struct {
	n       int
	order   meta.Order
	orderBy string // as the client spelled it, for the Link
	after   meta.Cursor
}

func pageParams(r *http.Request, ordered bool) (page, error) {
	q := r.URL.Query()
	p := page{n: defaultPage}
	if s := q.Get("n"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, errcode.PaginationInvalid.WithMessage("n must be a whole number ≥ 1")
		}
		p.n = min(n, maxPage)
	}
	if ordered {
		p.orderBy = q.Get("orderby")
		switch strings.ToLower(p.orderBy) {
		case "", "none":
			p.order = meta.ByName
		case "timedesc":
			p.order = meta.ByTimeDesc
		case "timeasc":
			p.order = meta.ByTimeAsc
		default:
			return p, errcode.RequestInvalid.WithMessage("orderby must be timedesc, timeasc or none")
		}
	}
	p.after = parseCursor(q.Get("last"))
	return p, nil
}

// A cursor in a Link of a listing by time is "<unix nanoseconds>~<name>":
// the entry's last update time travels with its name, so the next page
// starts in the right place even if that entry was deleted or moved in
// between (a purge deletes the tags of each page before asking for the
// next). "~" occurs in no tag and no digest, so a bare name is never
// mistaken for one. A client may also send a bare name; berth looks its
// time up then.
func parseCursor(s string) meta.Cursor {
	if t, name, ok := strings.Cut(s, "~"); ok {
		if ns, err := strconv.ParseInt(t, 10, 64); err == nil {
			return meta.Cursor{Name: name, Time: time.Unix(0, ns).UTC()}
		}
	}
	return meta.Cursor{Name: s}
}

func (p page) cursor(name string, updated time.Time) string {
	if p.order == meta.ByName {
		return name
	}
	return strconv.FormatInt(updated.UnixNano(), 10) + "~" + name
}

// setNext sets the Link header to the page after the one ending at last.
func (rq *request) setNext(path string, p page, last string, extra url.Values) {
	v := url.Values{"last": {last}, "n": {strconv.Itoa(p.n)}}
	if path != "/acr/v1/_catalog" {
		v.Set("orderby", p.orderBy)
	}
	for k, vs := range extra {
		v[k] = vs
	}
	rq.w.Header().Set("Link", "<"+path+"?"+v.Encode()+`>; rel="next"`)
}

func (h *Handler) catalog(rq *request) error {
	p, err := pageParams(rq.r, false)
	if err != nil {
		return err
	}
	names, err := h.svc.Catalog(rq.ctx(), rq.reg.ID, p.after.Name, p.n+1)
	if err != nil {
		return err
	}
	if len(names) > p.n {
		names = names[:p.n]
		rq.setNext("/acr/v1/_catalog", p, names[p.n-1], nil)
	}
	return writeJSON(rq.w, http.StatusOK, catalogJSON{Repositories: names})
}

func (h *Handler) listTags(rq *request) error {
	p, err := pageParams(rq.r, true)
	if err != nil {
		return err
	}
	q := meta.ListQuery{Order: p.order, After: p.after, N: p.n + 1}
	var extra url.Values
	if s := rq.r.URL.Query().Get("digest"); s != "" {
		if q.Digest, err = oci.ParseDigest(s); err != nil {
			return errcode.DigestInvalid.WithMessage("invalid digest " + strconv.Quote(s))
		}
		extra = url.Values{"digest": {s}}
	}
	tags, err := h.svc.ListTags(rq.ctx(), rq.reg.ID, rq.route.name, q)
	if err != nil {
		return err
	}
	out := tagListJSON{Registry: rq.loginServer(), ImageName: rq.route.name}
	if len(tags) > p.n {
		tags = tags[:p.n]
		last := tags[p.n-1]
		rq.setNext("/acr/v1/"+rq.route.name+"/_tags", p, p.cursor(last.Name, last.UpdatedAt), extra)
	}
	for _, t := range tags {
		out.Tags = append(out.Tags, wireTag(t))
	}
	return writeJSON(rq.w, http.StatusOK, out)
}

func (h *Handler) listManifests(rq *request) error {
	p, err := pageParams(rq.r, true)
	if err != nil {
		return err
	}
	ms, err := h.svc.ListManifests(rq.ctx(), rq.reg.ID, rq.route.name, meta.ListQuery{Order: p.order, After: p.after, N: p.n + 1})
	if err != nil {
		return err
	}
	out := manifestListJSON{Registry: rq.loginServer(), ImageName: rq.route.name}
	if len(ms) > p.n {
		ms = ms[:p.n]
		last := ms[p.n-1]
		rq.setNext("/acr/v1/"+rq.route.name+"/_manifests", p, p.cursor(string(last.Digest), last.UpdatedAt), nil)
	}
	for _, m := range ms {
		out.Manifests = append(out.Manifests, wireManifest(m))
	}
	return writeJSON(rq.w, http.StatusOK, out)
}
