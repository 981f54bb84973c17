package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// runLog writes the lines of a run's log, each stamped with the time as
// the managed registry's runs print it.
type runLog struct {
	w   io.Writer
	now func() time.Time
}

func (l *runLog) printf(format string, args ...any) {
	fmt.Fprintf(l.w, "%s %s\n", l.now().UTC().Format("2006/01/02 15:04:05"), fmt.Sprintf(format, args...))
}

// dependencies writes the dependency report at the end of the log.
func (l *runLog) dependencies(deps []Dependency) {
	if len(deps) == 0 {
		return
	}
	l.printf("The following dependencies were found:")
	var b strings.Builder
	for _, d := range deps {
		b.WriteString("- image:\n")
		writeImage(&b, "    ", d.Image)
		for i, r := range d.Runtime {
			if i == 0 {
				b.WriteString("  runtime-dependency:\n")
			}
			writeImage(&b, "    ", r)
		}
		b.WriteString("  git: {}\n")
	}
	io.WriteString(l.w, b.String())
}

func writeImage(b *strings.Builder, indent string, img Image) {
	fmt.Fprintf(b, "%sregistry: %s\n%srepository: %s\n", indent, img.Registry, indent, img.Repository)
	if img.Tag != "" {
		fmt.Fprintf(b, "%stag: %s\n", indent, yamlString(img.Tag))
	}
	fmt.Fprintf(b, "%sdigest: %s\n", indent, img.Digest)
}

// yamlString quotes a tag that YAML would read as a number or boolean.
func yamlString(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.Quote(s)
	}
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "null", "on", "off", "~":
		return strconv.Quote(s)
	}
	return s
}

// redactor returns a writer that replaces each secret in what passes
// through it with "***".
func redactor(w io.Writer, secrets []string) *lineWriter {
	return newLineWriter(w, func(line string) string { return redact(line, secrets) })
}

// lineWriter passes what is written through edit a whole line at a time
// (a line cut in two could cut a secret or a phrase edit looks for), so
// the caller flushes what is left at the end. A line longer than 64 KiB
// is edited in pieces.
type lineWriter struct {
	mu      sync.Mutex
	w       io.Writer
	edit    func(line string) string
	pending []byte
}

func newLineWriter(w io.Writer, edit func(string) string) *lineWriter {
	return &lineWriter{w: w, edit: edit}
}

// Write writes the complete lines of what it has, edited, and keeps the
// rest for the next write.
func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, p...)
	i := bytes.LastIndexByte(l.pending, '\n')
	if i < 0 {
		if len(l.pending) < 64<<10 {
			return len(p), nil
		}
		i = len(l.pending) - 1
	}
	if err := l.emit(l.pending[:i+1]); err != nil {
		return 0, err
	}
	l.pending = append(l.pending[:0], l.pending[i+1:]...)
	return len(p), nil
}

// emit edits each line of b and writes it.
func (l *lineWriter) emit(b []byte) error {
	var out strings.Builder
	for len(b) > 0 {
		n := bytes.IndexByte(b, '\n') + 1
		if n == 0 {
			n = len(b)
		}
		out.WriteString(l.edit(string(b[:n])))
		b = b[n:]
	}
	_, err := io.WriteString(l.w, out.String())
	return err
}

// Flush writes what is left, edited.
func (l *lineWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.emit(l.pending)
	l.pending = l.pending[:0]
	return err
}

func redact(s string, secrets []string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return s
}

// jsonRedact replaces secrets inside the string values of a JSON
// document (an image config's history), keeping it valid JSON.
func jsonRedact(b []byte, secrets []string) ([]byte, bool, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, false, err
	}
	changed := false
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case string:
			if r := redact(t, secrets); r != t {
				changed = true
				return r
			}
		case []any:
			for i := range t {
				t[i] = walk(t[i])
			}
		case map[string]any:
			for k := range t {
				t[k] = walk(t[k])
			}
		}
		return x
	}
	v = walk(v)
	if !changed {
		return b, false, nil
	}
	out, err := json.Marshal(v)
	return out, true, err
}
