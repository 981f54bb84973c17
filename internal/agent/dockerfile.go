package agent

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Bases lists the images a Dockerfile builds on, in order and without
// repeats: the image of every FROM that is not an earlier stage or
// scratch, and of every COPY/ADD --from that names an image rather than a
// stage. These are what the agent pulls, from its egress address, and
// hands to BuildKit as named contexts, so BuildKit never reaches a
// registry itself. ARG values (defaults declared before the first FROM,
// overridden by buildArgs) are substituted as BuildKit would.
func Bases(r io.Reader, buildArgs map[string]string) ([]string, error) {
	args := map[string]string{}
	stages := map[string]bool{}
	seen := map[string]bool{}
	var out []string
	add := func(ref string) {
		if ref == "" || strings.EqualFold(ref, "scratch") || stages[strings.ToLower(ref)] || seen[ref] {
			return
		}
		seen[ref] = true
		out = append(out, ref)
	}
	beforeFirstFrom := true
	lines, err := instructions(r)
	if err != nil {
		return nil, err
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "ARG":
			if !beforeFirstFrom {
				continue
			}
			for _, f := range fields[1:] {
				k, v, _ := strings.Cut(f, "=")
				v = strings.Trim(v, `"'`)
				if bv, ok := buildArgs[k]; ok {
					v = bv
				}
				args[k] = v
			}
		case "FROM":
			beforeFirstFrom = false
			rest := withoutFlags(fields[1:])
			if len(rest) == 0 {
				return nil, fmt.Errorf("dockerfile: %q: FROM names no image", line)
			}
			ref := expand(rest[0], args)
			if strings.Contains(ref, "$") {
				return nil, fmt.Errorf("dockerfile: %q: the image name uses an undefined build argument", line)
			}
			add(ref)
			if len(rest) >= 3 && strings.EqualFold(rest[1], "AS") {
				stages[strings.ToLower(rest[2])] = true
			}
		case "COPY", "ADD":
			for _, f := range fields[1:] {
				if v, ok := strings.CutPrefix(f, "--from="); ok {
					if _, err := fmt.Sscanf(v, "%d", new(int)); err == nil && !strings.ContainsAny(v, "/:") {
						continue // a stage index
					}
					if strings.ContainsAny(v, "/:.") {
						add(expand(v, args))
					}
				}
			}
		}
	}
	return out, nil
}

// BasesOfFile is Bases of a Dockerfile on disk.
func BasesOfFile(path string, buildArgs map[string]string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Bases(f, buildArgs)
}

// instructions joins continued lines and drops comments and blank lines.
func instructions(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []string
	var cur strings.Builder
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\"))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, sc.Err()
}

func withoutFlags(fs []string) []string {
	for len(fs) > 0 && strings.HasPrefix(fs[0], "--") {
		fs = fs[1:]
	}
	return fs
}

// expand substitutes $NAME and ${NAME} from args; unknown names stay.
func expand(s string, args map[string]string) string {
	return os.Expand(s, func(k string) string {
		if v, ok := args[k]; ok {
			return v
		}
		return "$" + k
	})
}
