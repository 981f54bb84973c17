package metadataapi

// The JSON of the metadata API, field for field as the managed registry
// writes it (see docs/metadata-api.md for where each shape was checked).
// Lists that come out empty are left out, not written as []: clients page
// until the list is absent, and some index its last element otherwise.

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/storage/meta"
)

// timeLayout is RFC 3339 in UTC with seven fractional digits, as the
// managed registry writes times ("2018-09-06T06:17:21.0856539Z").
const timeLayout = "2006-01-02T15:04:05.0000000Z07:00"

func wireTime(t time.Time) string { return t.UTC().Format(timeLayout) }

type attributesJSON struct {
	DeleteEnabled bool `json:"deleteEnabled"`
	WriteEnabled  bool `json:"writeEnabled"`
	ReadEnabled   bool `json:"readEnabled"`
	ListEnabled   bool `json:"listEnabled"`
}

func wireAttributes(a meta.Attributes) attributesJSON {
	return attributesJSON{DeleteEnabled: a.DeleteEnabled, WriteEnabled: a.WriteEnabled, ReadEnabled: a.ReadEnabled, ListEnabled: a.ListEnabled}
}

type repositoryJSON struct {
	Registry             string         `json:"registry"`
	ImageName            string         `json:"imageName"`
	CreatedTime          string         `json:"createdTime"`
	LastUpdateTime       string         `json:"lastUpdateTime"`
	ManifestCount        int            `json:"manifestCount"`
	TagCount             int            `json:"tagCount"`
	ChangeableAttributes attributesJSON `json:"changeableAttributes"`
}

func (rq *request) wireRepository(r registry.RepositoryInfo) repositoryJSON {
	return repositoryJSON{
		Registry: rq.loginServer(), ImageName: r.Name,
		CreatedTime: wireTime(r.CreatedAt), LastUpdateTime: wireTime(r.UpdatedAt),
		ManifestCount: r.ManifestCount, TagCount: r.TagCount,
		ChangeableAttributes: wireAttributes(r.Attributes),
	}
}

type tagJSON struct {
	Name                 string         `json:"name"`
	Digest               string         `json:"digest"`
	CreatedTime          string         `json:"createdTime"`
	LastUpdateTime       string         `json:"lastUpdateTime"`
	Signed               bool           `json:"signed"`
	ChangeableAttributes attributesJSON `json:"changeableAttributes"`
}

func wireTag(t meta.Tag) tagJSON {
	return tagJSON{
		Name: t.Name, Digest: string(t.Digest),
		CreatedTime: wireTime(t.CreatedAt), LastUpdateTime: wireTime(t.UpdatedAt),
		ChangeableAttributes: wireAttributes(t.Attributes),
	}
}

type tagListJSON struct {
	Registry  string    `json:"registry"`
	ImageName string    `json:"imageName"`
	Tags      []tagJSON `json:"tags,omitempty"`
}

type tagItemJSON struct {
	Registry  string  `json:"registry"`
	ImageName string  `json:"imageName"`
	Tag       tagJSON `json:"tag"`
}

type referenceJSON struct {
	Digest       string `json:"digest"`
	Architecture string `json:"architecture,omitempty"`
	OS           string `json:"os,omitempty"`
}

type manifestJSON struct {
	Digest               string          `json:"digest"`
	ImageSize            int64           `json:"imageSize"`
	CreatedTime          string          `json:"createdTime"`
	LastUpdateTime       string          `json:"lastUpdateTime"`
	Architecture         string          `json:"architecture,omitempty"`
	OS                   string          `json:"os,omitempty"`
	MediaType            string          `json:"mediaType"`
	ConfigMediaType      string          `json:"configMediaType,omitempty"`
	References           []referenceJSON `json:"references,omitempty"`
	Subject              string          `json:"subject,omitempty"` // berth: what a referrer refers to
	Tags                 []string        `json:"tags,omitempty"`
	ChangeableAttributes attributesJSON  `json:"changeableAttributes"`
}

func wireManifest(m registry.ManifestSummary) manifestJSON {
	out := manifestJSON{
		Digest: string(m.Digest), ImageSize: m.ImageSize,
		CreatedTime: wireTime(m.CreatedAt), LastUpdateTime: wireTime(m.UpdatedAt),
		Architecture: m.Architecture, OS: m.OS,
		MediaType: m.MediaType, ConfigMediaType: m.ConfigMediaType,
		Subject: string(m.Subject), Tags: m.Tags,
		ChangeableAttributes: wireAttributes(m.Attributes),
	}
	for _, r := range m.References {
		out.References = append(out.References, referenceJSON{Digest: string(r.Digest), Architecture: r.Architecture, OS: r.OS})
	}
	return out
}

type manifestListJSON struct {
	Registry  string         `json:"registry"`
	ImageName string         `json:"imageName"`
	Manifests []manifestJSON `json:"manifests,omitempty"`
}

type manifestItemJSON struct {
	Registry  string       `json:"registry"`
	ImageName string       `json:"imageName"`
	Manifest  manifestJSON `json:"manifest"`
}

type catalogJSON struct {
	Repositories []string `json:"repositories,omitempty"`
}

type deletedRepositoryJSON struct {
	ManifestsDeleted []string `json:"manifestsDeleted"`
	TagsDeleted      []string `json:"tagsDeleted"`
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

func writeEmpty(w http.ResponseWriter, status int) error {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
	return nil
}
