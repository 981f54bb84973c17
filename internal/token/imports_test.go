package token

import (
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package what its doc comment says: it knows no HTTP,
// no SQL and no other berth package, and uses the standard library only
// (no JWT library: the little of JWT berth needs is in verify.go).
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(gotoken.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			seen++
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") {
				t.Errorf("%s imports %s: only the standard library is allowed", f, path)
			}
			if path == "net/http" || strings.HasPrefix(path, "net/http/") || path == "database/sql" {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no imports found: the test is not looking at the package")
	}
}
