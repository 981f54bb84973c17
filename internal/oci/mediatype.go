package oci

// Media types of the manifests berth stores.
const (
	MediaTypeImageManifest  = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeImageIndex     = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"

	MediaTypeDockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	MediaTypeDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"

	MediaTypeEmptyJSON = "application/vnd.oci.empty.v1+json"
)

// ManifestMediaTypes lists every manifest type berth accepts, in the order
// clients usually prefer them.
var ManifestMediaTypes = []string{
	MediaTypeImageManifest, MediaTypeImageIndex, MediaTypeDockerManifest, MediaTypeDockerList,
}

// IsIndex reports whether a media type is a list of manifests.
func IsIndex(mt string) bool { return mt == MediaTypeImageIndex || mt == MediaTypeDockerList }

// IsManifestType reports whether mt is a manifest type berth accepts.
func IsManifestType(mt string) bool {
	for _, t := range ManifestMediaTypes {
		if t == mt {
			return true
		}
	}
	return false
}

// nondistributable reports whether a layer may be absent from the registry:
// OCI non-distributable layers and Docker foreign layers live elsewhere.
func nondistributable(mt string) bool {
	switch mt {
	case "application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
		return true
	}
	return false
}
