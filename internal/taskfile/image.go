package taskfile

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	hostRe      = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?$`)
	componentRe = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`)
	tagRe       = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRe    = regexp.MustCompile(`^[a-z0-9]+([+._-][a-z0-9]+)*:[A-Za-z0-9=_-]+$`)
)

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
	if hasDigest && !digestRe.MatchString(digest) {
		return fmt.Errorf("image %q: digest %q is not algorithm:hex", ref, digest)
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		if tag := name[i+1:]; !tagRe.MatchString(tag) {
			return fmt.Errorf("image %q: tag %q may have letters, digits, _ . - only, and at most 128 of them", ref, tag)
		}
		name = name[:i]
	}
	parts := strings.Split(name, "/")
	if len(parts) > 1 && (strings.ContainsAny(parts[0], ".:") || parts[0] == "localhost") {
		if !hostRe.MatchString(parts[0]) {
			return fmt.Errorf("image %q: %q is not a registry host", ref, parts[0])
		}
		parts = parts[1:]
	}
	for _, c := range parts {
		if !componentRe.MatchString(c) {
			return fmt.Errorf("image %q: repository names are lowercase letters and digits, separated by . _ or -", ref)
		}
	}
	return nil
}
