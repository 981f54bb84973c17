package taskfile

import (
	"fmt"
	"strings"
)

// Fields splits s into words the way a shell would, without expanding
// anything: blanks separate words, 'single quotes' keep everything,
// "double quotes" keep everything but \" and \\, and a backslash outside
// quotes keeps the next character. Unbalanced quotes are an error.
func Fields(s string) ([]string, error) {
	var (
		out    []string
		word   strings.Builder
		inWord bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				out = append(out, word.String())
				word.Reset()
				inWord = false
			}
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("%q ends with a lone backslash", s)
			}
			i++
			if s[i] != '\n' { // backslash-newline joins lines
				word.WriteByte(s[i])
				inWord = true
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("%q has an unclosed single quote", s)
			}
			word.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				word.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, fmt.Errorf("%q has an unclosed double quote", s)
			}
			inWord = true
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, word.String())
	}
	return out, nil
}

// quote writes s so that Fields reads it back as one word.
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\r\n'\"\\") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Build is a build step's arguments.
type Build struct {
	Tags       []string // as written; the caller puts the registry first when there is none
	Dockerfile string   // "" means Dockerfile in the context
	BuildArgs  []string // NAME=value, in order
	Target     string
	Platform   string
	NoCache    bool
	Context    string // the one positional argument
}

// ParseBuild reads a build step: docker build arguments ending with the
// context path.
func ParseBuild(s string) (Build, error) {
	var b Build
	words, err := Fields(s)
	if err != nil {
		return b, err
	}
	var contexts []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") || w == "-" {
			contexts = append(contexts, w)
			continue
		}
		if w == "--" {
			contexts = append(contexts, words[i+1:]...)
			break
		}
		name, value, hasValue := strings.Cut(w, "=")
		if name == "--no-cache" {
			switch value {
			case "", "true":
				b.NoCache = true
			case "false":
				b.NoCache = false
			default:
				return b, fmt.Errorf("--no-cache=%s: write --no-cache, or --no-cache=false", value)
			}
			continue
		}
		switch name {
		case "-t", "--tag", "-f", "--file", "--build-arg", "--target", "--platform":
		case "--secret":
			return b, fmt.Errorf("--secret is not supported: declare the secret in the file's secrets and use it as {{.Secrets.ID}}, for example in a --build-arg")
		default:
			return b, fmt.Errorf("unknown flag %s: a build step takes -t/--tag, -f/--file, --build-arg, --target, --platform, --no-cache and a context path", name)
		}
		if !hasValue {
			if i+1 == len(words) {
				return b, fmt.Errorf("%s needs a value", name)
			}
			i++
			value = words[i]
		}
		switch name {
		case "-t", "--tag":
			if err := checkImage(value); err != nil {
				return b, fmt.Errorf("%s: %v", name, err)
			}
			b.Tags = append(b.Tags, value)
		case "-f", "--file":
			b.Dockerfile = value
		case "--build-arg":
			if k, _, ok := strings.Cut(value, "="); !ok || k == "" {
				return b, fmt.Errorf("--build-arg %s: write NAME=value", value)
			}
			b.BuildArgs = append(b.BuildArgs, value)
		case "--target":
			b.Target = value
		case "--platform":
			b.Platform = value
		}
	}
	switch {
	case len(contexts) == 0:
		return b, fmt.Errorf("no context path: end the build arguments with one, such as .")
	case len(contexts) > 1:
		return b, fmt.Errorf("one context path is allowed; found %s", andList(contexts))
	case contexts[0] == "-":
		return b, fmt.Errorf("context - (standard input) is not supported: give a path in the run's source, such as .")
	}
	b.Context = contexts[0]
	return b, nil
}

// Cmd is a cmd step: an image run as a container with arguments.
type Cmd struct {
	Image string
	Args  []string
}

// BuiltinImage is the image name of berth's built-in commands.
const BuiltinImage = "berth"

// Builtin tells whether the step is a built-in berth CLI command (such as
// `berth purge …`), which the agent runs itself instead of a container.
func (c Cmd) Builtin() bool { return c.Image == BuiltinImage }

// ParseCmd reads a cmd step: an image, then the arguments of its entry
// point.
func ParseCmd(s string) (Cmd, error) {
	words, err := Fields(s)
	if err != nil {
		return Cmd{}, err
	}
	if len(words) == 0 {
		return Cmd{}, fmt.Errorf("is empty: write an image and its arguments, such as: alpine echo hello")
	}
	if strings.HasPrefix(words[0], "-") {
		return Cmd{}, fmt.Errorf("must start with an image, found the flag %s: set env, workingDirectory or network with the step's own keys", words[0])
	}
	if err := checkImage(words[0]); err != nil {
		return Cmd{}, err
	}
	return Cmd{Image: words[0], Args: words[1:]}, nil
}
