// Package archtest checks the import rules of STYLE.md: the CLI and the
// benchmark client reach the server only over HTTP, and the domain packages
// know nothing of the layers above them.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/berth-project/berth/"

// forbidden lists, for each package, module packages it must not depend on,
// directly or not.
var forbidden = map[string][]string{
	"internal/cli":          {"internal/app", "internal/distribution", "internal/registry", "internal/storage", "internal/metadataapi", "internal/identity", "internal/buildengine"},
	"cmd/berth-bench":       {"internal/"},
	"internal/oci":          {"internal/"},
	"internal/errcode":      {"internal/"},
	"internal/registry":     {"internal/distribution", "internal/metadataapi", "internal/app", "internal/errcode", "net/http"},
	"internal/storage/meta": {"internal/registry", "internal/distribution", "internal/app", "net/http"},
	"internal/storage/blob": {"internal/registry", "internal/storage/meta", "internal/app", "net/http"},
	"internal/identity":     {"internal/registry", "internal/distribution", "internal/app", "net/http"},
	"internal/auth":         {"internal/distribution", "internal/metadataapi", "internal/app"},
	"internal/token":        {"internal/", "net/http", "database/sql"},
	"internal/config":       {"internal/"},
	"pkg/client":            {"internal/"},
	"internal/rbac":         {"internal/storage", "net/http"},
	"internal/netrules":     {"internal/", "net/http"},
	"internal/mgmt":         {"internal/distribution", "internal/metadataapi", "internal/dataplane", "internal/app"},
	"internal/runs":         {"internal/mgmt", "internal/agentapi", "internal/app", "internal/identity", "net/http"},
	"internal/agentapi":     {"internal/mgmt", "internal/distribution", "internal/metadataapi", "internal/dataplane", "internal/app"},
	"internal/agentpool":    {"internal/mgmt", "internal/agentapi", "internal/app", "internal/identity", "net/http"},
	// Garbage collection decides in the metadata store and deletes files;
	// it knows no repositories' rules and no HTTP.
	"internal/gc": {"internal/registry", "internal/distribution", "internal/mgmt", "internal/app", "internal/identity", "net/http"},
	// The import service reads sources as a client (regclient) and writes
	// through the registry service; it decides no rights.
	"internal/importer": {"internal/mgmt", "internal/app", "internal/auth", "internal/dataplane", "internal/distribution", "internal/metadataapi", "internal/rbac"},
	// The build engine runs BuildKit on local OCI layouts; registries,
	// credentials and egress are the agent's.
	"internal/buildengine": {"internal/app", "internal/cli", "internal/distribution", "internal/registry", "internal/storage", "internal/identity", "internal/auth", "internal/token", "internal/dataplane", "net/http"},
	// Packing a context is the CLI's, unpacking one the agent's: neither
	// side knows of berth's servers or of the network.
	"pkg/buildcontext":      {"internal/", "net/http"},
	"internal/buildcontext": {"internal/", "net/http"},
}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../../"+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestDepsSeesImports guards the test itself: if go list stopped reporting
// dependencies, every rule would pass.
func TestDepsSeesImports(t *testing.T) {
	found := false
	for _, d := range deps(t, "internal/app") {
		found = found || d == module+"internal/registry"
	}
	if !found {
		t.Fatal("internal/app does not seem to depend on internal/registry: go list output is not what the rules expect")
	}
}

func TestImportRules(t *testing.T) {
	for pkg, banned := range forbidden {
		t.Run(pkg, func(t *testing.T) {
			self := module + pkg
			for _, d := range deps(t, pkg) {
				if d == self {
					continue
				}
				for _, b := range banned {
					full := b
					if strings.HasPrefix(b, "internal/") {
						full = module + b
					}
					if d == full || strings.HasPrefix(d, strings.TrimSuffix(full, "/")+"/") || (strings.HasSuffix(b, "/") && strings.HasPrefix(d, full)) {
						t.Errorf("%s depends on %s, which it must not", pkg, d)
					}
				}
			}
		})
	}
}
