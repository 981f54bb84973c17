package taskfile

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/berth-project/berth/internal/oci"
)

var hostRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?$`)

// checkImage checks that ref reads as an image reference: an optional
// registry host, a lowercase repository, then an optional :tag and @digest.
// An image without a registry is fine; the caller puts its registry first.
func checkImage(ref string) error {
	if ref == "" {
		return fmt.Errorf("image is empty")
	}
	if strings.ContainsAny(ref, " \t\r\n") {
		return fmt.Errorf("image %q contains a space", ref)
	}
	name, digest, hasDigest := strings.Cut(ref, "@")
	if _, err := oci.ParseDigest(digest); hasDigest && err != nil {
		return fmt.Errorf("image %q: digest %q is not sha256:<hex> or sha512:<hex>", ref, digest)
	}
	name, tag, hasTag := oci.SplitTag(name)
	if hasTag && !oci.ValidTag(tag) {
		return fmt.Errorf("image %q: tag %q may have letters, digits, _ . - only, and at most 128 of them", ref, tag)
	}
	if host, repo, ok := strings.Cut(name, "/"); ok && (strings.ContainsAny(host, ".:") || host == "localhost") {
		if !hostRe.MatchString(host) {
			return fmt.Errorf("image %q: %q is not a registry host", ref, host)
		}
		name = repo
	}
	if !oci.ValidName(name) {
		return fmt.Errorf("image %q: repository names are lowercase letters and digits, separated by . _ or -", ref)
	}
	return nil
}
