package agent

import (
	"encoding/json"
	"fmt"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
)

// RedactHistory replaces the values of secret build args in the image
// config of the manifest desc (BuildKit records the build args a RUN saw
// in its history entry) and returns the manifest to push: desc itself when
// nothing needed to change, else a new manifest pointing at the redacted
// config. Layers are untouched.
func RedactHistory(l *ocilayout.Layout, desc oci.Descriptor, secrets []string) (oci.Descriptor, error) {
	if len(secrets) == 0 || desc.MediaType != oci.MediaTypeImageManifest && desc.MediaType != oci.MediaTypeDockerManifest {
		return desc, nil
	}
	body, err := l.Bytes(desc.Digest)
	if err != nil {
		return desc, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return desc, fmt.Errorf("built manifest: %w", err)
	}
	var cfg oci.Descriptor
	if err := json.Unmarshal(m["config"], &cfg); err != nil {
		return desc, fmt.Errorf("built manifest config: %w", err)
	}
	raw, err := l.Bytes(cfg.Digest)
	if err != nil {
		return desc, err
	}
	red, changed, err := jsonRedact(raw, secrets)
	if err != nil || !changed {
		return desc, err
	}
	newCfg, err := l.PutBytes(cfg.MediaType, red)
	if err != nil {
		return desc, err
	}
	if m["config"], err = json.Marshal(newCfg); err != nil {
		return desc, err
	}
	nb, err := json.Marshal(m)
	if err != nil {
		return desc, err
	}
	return l.PutBytes(desc.MediaType, nb)
}
