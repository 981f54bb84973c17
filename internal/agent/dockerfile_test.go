package agent

import (
	"strings"
	"testing"
)

func TestBases(t *testing.T) {
	for _, c := range []struct {
		name, file string
		args       map[string]string
		want       string
		err        string
	}{
		{"one base", "FROM 127.0.3.1:5000/base/busybox:1\nRUN echo hi", nil, "127.0.3.1:5000/base/busybox:1", ""},
		{"scratch", "FROM scratch\nCOPY a /a", nil, "", ""},
		{"multi-stage", "FROM r.example/go:1 AS build\nRUN make\nFROM build AS test\nFROM r.example/base:2\nCOPY --from=build /out /out\nCOPY --from=0 /x /x", nil, "r.example/go:1 r.example/base:2", ""},
		{"copy from an image", "FROM r.example/base:2\nCOPY --from=r.example/tools:3 /bin/t /t", nil, "r.example/base:2 r.example/tools:3", ""},
		{"args with defaults and overrides", "ARG REG=r.example\nARG TAG=1\nFROM ${REG}/base:$TAG\nFROM $REG/base:$TAG", map[string]string{"TAG": "9"}, "r.example/base:9", ""},
		{"platform flag and continuation", "# comment\nFROM --platform=linux/amd64 \\\n  r.example/base:1 AS a", nil, "r.example/base:1", ""},
		{"lower case", "from r.example/base:1 as a\nfrom a", nil, "r.example/base:1", ""},
		{"undefined arg", "FROM $NOPE/base:1", nil, "", "undefined build argument"},
		{"no image", "FROM --platform=x", nil, "", "names no image"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Bases(strings.NewReader(c.file), c.args)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || strings.Join(got, " ") != c.want {
				t.Fatalf("Bases = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}
