package taskfile

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"
)

// DateFormat is the layout of $Date and {{.Run.Date}}, in UTC.
const DateFormat = "20060102-150405z"

// FormatDate writes a run's start time as $Date and {{.Run.Date}} show it.
func FormatDate(t time.Time) string { return t.UTC().Format(DateFormat) }

// RunInfo describes the run a file is rendered for: {{.Run.<Field>}}.
type RunInfo struct {
	ID           string // run id, e.g. ca1
	Registry     string // the registry's login server, e.g. 127.0.3.1:5000
	RegistryName string
	Date         string // the run's start, see FormatDate
	TaskName     string // "" for a quick run
	OS           string // "linux" when empty
	Architecture string // "amd64" when empty
	SharedVolume string
}

// Data is what a file is rendered with.
type Data struct {
	Values  map[string]string // --set and --values
	Run     RunInfo
	Secrets map[string]string // --set-secret; the file must declare each one it uses
}

func (d Data) withDefaults() Data {
	if d.Values == nil {
		d.Values = map[string]string{}
	}
	if d.Secrets == nil {
		d.Secrets = map[string]string{}
	}
	if d.Run.OS == "" {
		d.Run.OS = "linux"
	}
	if d.Run.Architecture == "" {
		d.Run.Architecture = "amd64"
	}
	return d
}

// Parse reads a task file: it expands aliases in the raw text, renders the
// result with text/template and d, decodes the YAML strictly and validates
// it, and checks that every declared secret has a value. Every error is a
// *ValidationError, several joined with errors.Join.
func Parse(text string, d Data) (*File, error) {
	d = d.withDefaults()
	expanded, err := ExpandAliases(text, d.Run)
	if err != nil {
		return nil, err
	}
	rendered, err := Render(expanded, d)
	if err != nil {
		return nil, err
	}
	f, err := Decode(rendered)
	if f == nil {
		return nil, err
	}
	p := problems{}
	if err != nil {
		p = append(p, err)
	}
	for i, s := range f.Secrets {
		if _, ok := d.Secrets[s.ID]; !ok && s.ID != "" {
			p.add(fmt.Sprintf("secrets[%d]", i), 0, "id %s has no value: give it with --set-secret %s=…", s.ID, s.ID)
		}
	}
	if len(p) > 0 {
		return nil, p.err()
	}
	return f, nil
}

var missingKeyRe = regexp.MustCompile(`<\.(Values|Secrets)\.([A-Za-z0-9_]+)>.*map has no entry for key`)

// Render executes text as a Go template with d. A key missing from
// .Values or .Secrets is an error, not an empty string.
func Render(text string, d Data) (string, error) {
	d = d.withDefaults()
	t, err := template.New("task").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", &ValidationError{Where: "template", Msg: strings.TrimPrefix(err.Error(), "template: ")}
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		msg := strings.TrimPrefix(err.Error(), "template: ")
		if m := missingKeyRe.FindStringSubmatch(msg); m != nil {
			flag := "--set"
			if m[1] == "Secrets" {
				flag = "--set-secret"
			}
			msg += fmt.Sprintf(": give it with %s %s=…", flag, m[2])
		}
		return "", &ValidationError{Where: "template", Msg: msg}
	}
	return b.String(), nil
}
