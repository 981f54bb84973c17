package metadataapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/registry"
)

func (h *Handler) getRepository(rq *request) error {
	r, err := h.svc.Repository(rq.ctx(), rq.reg.ID, rq.route.name)
	if err != nil {
		return err
	}
	return writeJSON(rq.w, http.StatusOK, rq.wireRepository(r))
}

func (h *Handler) patchRepository(rq *request) error {
	p, err := readPatch(rq.r)
	if err != nil {
		return err
	}
	r, err := h.svc.UpdateRepositoryAttributes(rq.ctx(), rq.reg.ID, rq.route.name, p)
	if err != nil {
		return err
	}
	return writeJSON(rq.w, http.StatusOK, rq.wireRepository(r))
}

func (h *Handler) deleteRepository(rq *request) error {
	del, err := h.svc.DeleteRepository(rq.ctx(), rq.reg.ID, rq.route.name)
	if err != nil {
		return err
	}
	out := deletedRepositoryJSON{ManifestsDeleted: []string{}, TagsDeleted: []string{}}
	for _, d := range del.Manifests {
		out.ManifestsDeleted = append(out.ManifestsDeleted, string(d))
	}
	out.TagsDeleted = append(out.TagsDeleted, del.Tags...)
	return writeJSON(rq.w, http.StatusAccepted, out)
}

func (rq *request) tagName() (string, error) {
	if !oci.ValidTag(rq.route.ref) {
		return "", errcode.TagInvalid.WithMessage("invalid tag " + strconv.Quote(rq.route.ref) + ": want [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
	}
	return rq.route.ref, nil
}

func (h *Handler) getTag(rq *request) error {
	tag, err := rq.tagName()
	if err != nil {
		return err
	}
	t, err := h.svc.Tag(rq.ctx(), rq.reg.ID, rq.route.name, tag)
	if err != nil {
		return err
	}
	return writeJSON(rq.w, http.StatusOK, tagItemJSON{Registry: rq.loginServer(), ImageName: rq.route.name, Tag: wireTag(t)})
}

func (h *Handler) patchTag(rq *request) error {
	tag, err := rq.tagName()
	if err != nil {
		return err
	}
	p, err := readPatch(rq.r)
	if err != nil {
		return err
	}
	t, err := h.svc.UpdateTagAttributes(rq.ctx(), rq.reg.ID, rq.route.name, tag, p)
	if err != nil {
		return err
	}
	return writeJSON(rq.w, http.StatusOK, tagItemJSON{Registry: rq.loginServer(), ImageName: rq.route.name, Tag: wireTag(t)})
}

// deleteTag untags, as DELETE /v2/<name>/manifests/<tag> does, under the
// same locks; the manifest stays.
func (h *Handler) deleteTag(rq *request) error {
	tag, err := rq.tagName()
	if err != nil {
		return err
	}
	err = h.svc.DeleteManifest(rq.ctx(), rq.reg.ID, rq.route.name, registry.Reference{Tag: tag})
	if err != nil {
		return h.whichUnknown(rq, err, registry.ErrTagUnknown)
	}
	return writeEmpty(rq.w, http.StatusAccepted)
}

// whichUnknown tells a missing repository from a missing tag or manifest
// when /v2's delete answered "manifest unknown" for either.
func (h *Handler) whichUnknown(rq *request, err, missing error) error {
	if !errors.Is(err, registry.ErrManifestUnknown) {
		return err
	}
	if _, err := h.svc.Repository(rq.ctx(), rq.reg.ID, rq.route.name); err != nil {
		return err
	}
	return missing
}

// manifestRef reads the reference of _manifests/<ref>: a digest, or (as the
// managed registry's older API allowed) a tag.
func (rq *request) manifestRef() (registry.Reference, error) {
	s := rq.route.ref
	if !strings.Contains(s, ":") && oci.ValidTag(s) {
		return registry.Reference{Tag: s}, nil
	}
	d, err := oci.ParseDigest(s)
	if err != nil {
		return registry.Reference{}, errcode.DigestInvalid.WithMessage("invalid digest " + strconv.Quote(s) + ": want sha256:<64 hex> or sha512:<128 hex>")
	}
	return registry.Reference{Digest: d}, nil
}

func (rq *request) wireManifestItem(m registry.ManifestSummary) manifestItemJSON {
	return manifestItemJSON{Registry: rq.loginServer(), ImageName: rq.route.name, Manifest: wireManifest(m)}
}

func (h *Handler) getManifest(rq *request) error {
	ref, err := rq.manifestRef()
	if err != nil {
		return err
	}
	m, err := h.svc.Manifest(rq.ctx(), rq.reg.ID, rq.route.name, ref)
	if err != nil {
		return err
	}
	return writeJSON(rq.w, http.StatusOK, rq.wireManifestItem(m))
}

func (h *Handler) patchManifest(rq *request) error {
	ref, err := rq.manifestRef()
	if err != nil {
		return err
	}
	p, err := readPatch(rq.r)
	if err != nil {
		return err
	}
	m, err := h.svc.UpdateManifestAttributes(rq.ctx(), rq.reg.ID, rq.route.name, ref, p)
	if err != nil {
		return err
	}
	return writeJSON(rq.w, http.StatusOK, rq.wireManifestItem(m))
}

// deleteManifest deletes a manifest with every tag that names it, as
// DELETE /v2/<name>/manifests/<digest> does, under the same locks. It takes
// a digest only: deleting "by tag" would be ambiguous with untagging.
func (h *Handler) deleteManifest(rq *request) error {
	ref, err := rq.manifestRef()
	if err != nil {
		return err
	}
	if ref.Digest == "" {
		return errcode.DigestInvalid.WithMessage("a manifest is deleted by digest; DELETE _tags/" + ref.Tag + " removes a tag")
	}
	if err := h.svc.DeleteManifest(rq.ctx(), rq.reg.ID, rq.route.name, ref); err != nil {
		return h.whichUnknown(rq, err, registry.ErrManifestUnknown)
	}
	return writeEmpty(rq.w, http.StatusAccepted)
}

// maxPatchBody bounds a PATCH body; the largest valid one is under 100 bytes.
const maxPatchBody = 64 << 10

// readPatch reads a body of changeable attributes, such as
// {"writeEnabled":false}. Only the fields given change; each must be true or
// false; any other field, or anything but one JSON object, is refused.
func readPatch(r *http.Request) (registry.AttributesPatch, error) {
	var p registry.AttributesPatch
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPatchBody+1))
	if err != nil {
		return p, errcode.RequestInvalid.WithMessage("reading the body: " + err.Error())
	}
	if len(body) > maxPatchBody {
		return p, errcode.RequestInvalid.WithMessage("the body is too large")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return p, errcode.RequestInvalid.WithMessage(`the body must be a JSON object such as {"writeEnabled": false}`)
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, errcode.RequestInvalid.WithMessage("the body must hold one JSON object and nothing after it")
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names) // report the same field first every time
	for _, k := range names {
		var dst **bool
		switch k {
		case "deleteEnabled":
			dst = &p.DeleteEnabled
		case "writeEnabled":
			dst = &p.WriteEnabled
		case "listEnabled":
			dst = &p.ListEnabled
		case "readEnabled":
			dst = &p.ReadEnabled
		default:
			return p, errcode.RequestInvalid.WithMessage("unknown attribute " + strconv.Quote(k) + ": want deleteEnabled, writeEnabled, listEnabled or readEnabled")
		}
		var b bool
		if v := bytes.TrimSpace(fields[k]); string(v) == "null" || json.Unmarshal(v, &b) != nil {
			return p, errcode.RequestInvalid.WithMessage(k + " must be true or false")
		}
		*dst = &b
	}
	return p, nil
}
