package taskfile

import (
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

var aliasNameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// aliasBlock is what the alias pre-read takes from the raw file; every
// other key is ignored here and checked later.
type aliasBlock struct {
	Alias struct {
		Values map[string]string `yaml:"values"`
	} `yaml:"alias"`
}

// ExpandAliases replaces, in the raw file text, $Registry, $ID,
// $RegistryName, $Date and the file's own aliases (alias: {values: …})
// with their values; $$ is a literal $. A name is replaced only when a
// character that cannot be part of a name, or the end, follows it; a $name
// that is no alias is left as written. A file's alias value may use the
// predefined aliases; other aliases in it are not expanded, and no value is
// expanded again once inserted.
func ExpandAliases(text string, run RunInfo) (string, error) {
	predefined := map[string]string{
		"Registry":     run.Registry,
		"ID":           run.ID,
		"RegistryName": run.RegistryName,
		"Date":         run.Date,
	}
	values := maps.Clone(predefined)
	user, err := readAliases(text)
	if err != nil {
		return "", err
	}
	var p problems
	names := make([]string, 0, len(user))
	for name := range user {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !aliasNameRe.MatchString(name) {
			p.add("alias: values", 0, "%q is not an alias name: start with a letter, then letters, digits or _", name)
			continue
		}
		values[name] = expand(user[name], predefined)
	}
	if len(p) > 0 {
		return "", p.err()
	}
	return expand(text, values), nil
}

// readAliases reads the alias block out of the raw text. The raw text may
// not be YAML yet (a template action such as {{.Values.x}} at the start of
// a value is not), so when the whole text does not parse, the top-level
// alias block alone is read.
func readAliases(text string) (map[string]string, error) {
	var b aliasBlock
	if err := yaml.Unmarshal([]byte(text), &b); err == nil {
		return b.Alias.Values, nil
	}
	block := aliasLines(text)
	if block == "" {
		return nil, nil
	}
	if err := yaml.Unmarshal([]byte(block), &b); err != nil {
		return nil, &ValidationError{Where: "alias", Msg: fmt.Sprintf("cannot read the alias block: %v", err)}
	}
	return b.Alias.Values, nil
}

// aliasLines is the top-level "alias:" line and the indented, blank or
// comment lines that follow it.
func aliasLines(text string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "alias:") {
			continue
		}
		end := i + 1
		for end < len(lines) {
			t := strings.TrimSpace(lines[end])
			if t != "" && !strings.HasPrefix(t, "#") && !strings.HasPrefix(lines[end], " ") && !strings.HasPrefix(lines[end], "\t") {
				break
			}
			end++
		}
		return strings.Join(lines[i:end], "")
	}
	return ""
}

func isNameChar(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func expand(text string, values map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		if text[i] != '$' {
			b.WriteByte(text[i])
			continue
		}
		if i+1 < len(text) && text[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		j := i + 1
		for j < len(text) && isNameChar(text[j]) {
			j++
		}
		if v, ok := values[text[i+1:j]]; ok && j > i+1 {
			b.WriteString(v)
			i = j - 1
			continue
		}
		b.WriteByte('$')
	}
	return b.String()
}
