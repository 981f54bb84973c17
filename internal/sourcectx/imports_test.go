package sourcectx_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The agent fetches contexts; the package must not pull in berth's
// servers, whose secrets an agent never holds.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/berth-project/berth/internal/buildcontext") {
		t.Fatalf("go list -deps does not list internal/buildcontext: the check below would prove nothing\n%s", out)
	}
	const internal = "github.com/berth-project/berth/internal/"
	allowed := []string{"sourcectx", "buildcontext", "regclient", "oci", "ocilayout"}
	for _, d := range deps {
		if rest, ok := strings.CutPrefix(d, internal); ok && !slices.Contains(allowed, rest) {
			t.Errorf("sourcectx depends on internal/%s; it may use only %v", rest, allowed)
		}
	}
}
