package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
)

// MaxManifestSize is the largest manifest berth accepts (4 MiB), as the
// distribution spec recommends.
const MaxManifestSize = 4 << 20

// Descriptor points at content.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       Digest            `json:"digest"`
	Size         int64             `json:"size"`
	URLs         []string          `json:"urls,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Platform     *Platform         `json:"platform,omitempty"`
}

// Platform names what an index member runs on.
type Platform struct {
	Architecture string   `json:"architecture"`
	OS           string   `json:"os"`
	OSVersion    string   `json:"os.version,omitempty"`
	OSFeatures   []string `json:"os.features,omitempty"`
	Variant      string   `json:"variant,omitempty"`
}

// rawManifest holds the fields of every manifest kind berth accepts.
type rawManifest struct {
	SchemaVersion *int              `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *Descriptor       `json:"config"`
	Layers        []Descriptor      `json:"layers"`
	Manifests     []Descriptor      `json:"manifests"`
	Subject       *Descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
	FSLayers      json.RawMessage   `json:"fsLayers"`
}

// Manifest is what berth needs to know of a validated manifest.
type Manifest struct {
	MediaType    string
	ArtifactType string            // artifactType, or the config media type of an image manifest
	Blobs        []Descriptor      // config and layers that must exist in the repository
	Children     []Descriptor      // manifests an index lists
	Subject      *Descriptor       // the manifest this one refers to, if any
	Annotations  map[string]string // top-level annotations
}

// ManifestError says why a manifest was refused.
type ManifestError struct{ Reason string }

func (e *ManifestError) Error() string { return "manifest invalid: " + e.Reason }

func invalid(format string, args ...any) error {
	return &ManifestError{Reason: fmt.Sprintf(format, args...)}
}

// ErrSchema1 is returned for Docker schema 1 manifests, which berth refuses.
var ErrSchema1 = errors.New("docker schema 1 manifests are not supported: push with a client that writes schema 2 or OCI")

// ParseManifest validates a manifest body sent with the given Content-Type
// (which may be empty, then the body's mediaType decides).
func ParseManifest(contentType string, body []byte) (*Manifest, error) {
	ct := contentType
	if ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			ct = mt
		}
	}
	if ct == MediaTypeDockerSchema1 || ct == MediaTypeDockerSchema1Signed {
		return nil, ErrSchema1
	}
	var raw rawManifest
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, invalid("body is not valid JSON: %v", err)
	}
	if raw.FSLayers != nil || raw.MediaType == MediaTypeDockerSchema1 || raw.MediaType == MediaTypeDockerSchema1Signed {
		return nil, ErrSchema1
	}
	if raw.SchemaVersion == nil || *raw.SchemaVersion != 2 {
		return nil, invalid("schemaVersion must be 2")
	}
	mt := ct
	switch {
	case mt == "" || mt == "application/json" || mt == "application/octet-stream":
		mt = raw.MediaType
		if mt == "" {
			if raw.Manifests != nil {
				mt = MediaTypeImageIndex
			} else {
				mt = MediaTypeImageManifest
			}
		}
	case raw.MediaType != "" && raw.MediaType != mt:
		return nil, invalid("mediaType %q in the body does not match Content-Type %q", raw.MediaType, mt)
	}
	if !IsManifestType(mt) {
		return nil, invalid("unsupported manifest media type %q", mt)
	}
	m := &Manifest{MediaType: mt, ArtifactType: raw.ArtifactType, Annotations: raw.Annotations}
	if raw.Subject != nil {
		if err := checkDescriptor("subject", *raw.Subject); err != nil {
			return nil, err
		}
		s := *raw.Subject
		m.Subject = &s
	}
	if IsIndex(mt) {
		if raw.Config != nil || raw.Layers != nil {
			return nil, invalid("an index has no config or layers")
		}
		for i, d := range raw.Manifests {
			if err := checkDescriptor(fmt.Sprintf("manifests[%d]", i), d); err != nil {
				return nil, err
			}
			m.Children = append(m.Children, d)
		}
		return m, nil
	}
	if raw.Manifests != nil {
		return nil, invalid("an image manifest has no manifests list")
	}
	if raw.Config == nil {
		return nil, invalid("config is required")
	}
	if err := checkDescriptor("config", *raw.Config); err != nil {
		return nil, err
	}
	m.Blobs = append(m.Blobs, *raw.Config)
	if m.ArtifactType == "" { // the referrers API reports the config type then
		m.ArtifactType = raw.Config.MediaType
	}
	for i, d := range raw.Layers {
		if err := checkDescriptor(fmt.Sprintf("layers[%d]", i), d); err != nil {
			return nil, err
		}
		if !nondistributable(d.MediaType) {
			m.Blobs = append(m.Blobs, d)
		}
	}
	return m, nil
}

func checkDescriptor(where string, d Descriptor) error {
	if d.MediaType == "" {
		return invalid("%s: mediaType is required", where)
	}
	if strings.ContainsAny(d.MediaType, " \t\r\n") {
		return invalid("%s: malformed mediaType %q", where, d.MediaType)
	}
	if _, err := ParseDigest(string(d.Digest)); err != nil {
		return invalid("%s: invalid digest %q", where, d.Digest)
	}
	if d.Size < 0 {
		return invalid("%s: negative size", where)
	}
	return nil
}
