package taskfile

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testRun = RunInfo{
	ID:           "ca1",
	Registry:     "127.0.3.1:5000",
	RegistryName: "reg1",
	Date:         FormatDate(time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))),
	TaskName:     "nightly",
}

func TestFormatDate(t *testing.T) {
	if testRun.Date != "20250304-040607z" {
		t.Fatalf("Date = %q, want the UTC time 20250304-040607z", testRun.Date)
	}
}

func TestParseRendering(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		data Data
		want []Step
	}{
		{
			name: "predefined aliases",
			yaml: "steps:\n- cmd: alpine echo $Registry $ID $RegistryName $Date $IDx $HOME\n",
			want: []Step{{Cmd: "alpine echo 127.0.3.1:5000 ca1 reg1 20250304-040607z $IDx $HOME"}},
		},
		{
			name: "user aliases, overriding a predefined one, and $$",
			yaml: "alias:\n  values:\n    repo: team/app\n    ID: custom\n    full: $Registry/$repo\nsteps:\n- cmd: alpine echo $repo:$ID $$ID $$$repo $full\n",
			want: []Step{{Cmd: "alpine echo team/app:custom $ID $team/app 127.0.3.1:5000/$repo"}},
		},
		{
			name: "aliases read when the raw text is not YAML yet",
			yaml: "alias:\n  values:\n    img: hello\nsteps:\n- push: [{{.Run.Registry}}/$img:{{.Run.ID}}]\n",
			want: []Step{{Push: []string{"127.0.3.1:5000/hello:ca1"}}},
		},
		{
			name: "values, run and secrets",
			yaml: "secrets:\n- id: tok\nsteps:\n- cmd: alpine echo {{.Values.greet}} {{.Run.TaskName}} {{.Run.OS}}/{{.Run.Architecture}} {{.Secrets.tok}}\n",
			data: Data{Values: map[string]string{"greet": "hi"}, Secrets: map[string]string{"tok": "s3cr3t"}},
			want: []Step{{Cmd: "alpine echo hi nightly linux/amd64 s3cr3t"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.data.Run = testRun
			f, err := Parse(tt.yaml, tt.data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(f.Steps) != len(tt.want) {
				t.Fatalf("got %d steps, want %d", len(f.Steps), len(tt.want))
			}
			for i, w := range tt.want {
				g := f.Steps[i]
				if g.Cmd != w.Cmd || !reflect.DeepEqual(g.Push, w.Push) {
					t.Errorf("steps[%d] = cmd %q push %q, want cmd %q push %q", i, g.Cmd, g.Push, w.Cmd, w.Push)
				}
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	f, err := Parse("stepTimeout: 90\nenv: [A=1]\nsteps:\n- build: -t app .\n- id: up\n  push: [app]\n  timeout: 5\n- cmd: alpine true\n  when: [\"-\"]\n  network: none\n", Data{Run: testRun})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if f.Version != VersionV110 {
		t.Errorf("Version = %q, want %q", f.Version, VersionV110)
	}
	wantIDs := []string{"acb_step_0", "up", "acb_step_2"}
	wantTimeouts := []int{90, 5, 90}
	wantNets := []string{NetworkDefault, NetworkDefault, NetworkNone}
	for i, s := range f.Steps {
		if s.ID != wantIDs[i] || s.Timeout != wantTimeouts[i] || s.Network != wantNets[i] {
			t.Errorf("steps[%d] = id %q timeout %d network %q, want %q %d %q", i, s.ID, s.Timeout, s.Network, wantIDs[i], wantTimeouts[i], wantNets[i])
		}
	}
	if d := deps(f); !reflect.DeepEqual(d, [][]int{nil, {0}, nil}) {
		t.Errorf("deps = %v, want [[] [0] []]", d)
	}
	f, err = Parse("steps:\n- cmd: alpine true\n", Data{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if f.StepTimeout != DefaultStepTimeout || f.Steps[0].Timeout != DefaultStepTimeout {
		t.Errorf("timeouts = %d, %d; want %d", f.StepTimeout, f.Steps[0].Timeout, DefaultStepTimeout)
	}
}

func TestEnvFor(t *testing.T) {
	f := &File{Env: []string{"A=1", "B=2"}}
	got := f.EnvFor(Step{Env: []string{"B=3", "C=4"}})
	if want := []string{"A=1", "B=3", "C=4"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("EnvFor = %q, want %q", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		data Data
		want []string // each must be in the error
	}{
		{"invalid yaml", "steps:\n- cmd: [unclosed\n", Data{}, []string{"yaml: "}},
		{"empty file", "", Data{}, []string{"the file is empty"}},
		{"unknown top-level key", "stepz: 1\nsteps:\n- cmd: a b\n", Data{}, []string{`unknown key "stepz" (line 1)`}},
		{"unknown step key", "steps:\n- cmd: a\n- cmd: b\n- id: test\n  cmdd: c\n", Data{}, []string{`steps[2] (id "test"): unknown key "cmdd"`}},
		{"unsupported step key", "steps:\n- cmd: a\n  detach: true\n", Data{}, []string{`steps[0]: key "detach" is not supported`}},
		{"build and cmd", "steps:\n- id: build\n  build: .\n  cmd: alpine true\n", Data{}, []string{`steps[0] (id "build"): exactly one of build, push, cmd is allowed; found build and cmd`}},
		{"no kind", "steps:\n- id: x\n  env: [A=1]\n", Data{}, []string{`steps[0] (id "x"): one of build, push, cmd is needed`}},
		{"cycle", "steps:\n- id: a\n  cmd: x\n  when: [b]\n- id: b\n  cmd: y\n  when: [a]\n", Data{}, []string{"when: cycle: a -> b -> a"}},
		{"unknown when id", "steps:\n- cmd: a\n- cmd: b\n  when: [x]\n", Data{}, []string{`steps[1]: when: unknown step id "x"`}},
		{"dash with ids", "steps:\n- id: a\n  cmd: x\n- cmd: b\n  when: [\"-\", a]\n", Data{}, []string{`steps[1]: when: "-" starts the step at once and cannot be combined`}},
		{"empty when", "steps:\n- cmd: a\n  when: []\n", Data{}, []string{`steps[0]: when: is empty`}},
		{"timeout", "steps:\n- cmd: a\n  timeout: 0\n", Data{}, []string{"steps[0]: timeout: must be positive"}},
		{"stepTimeout", "stepTimeout: -1\nsteps:\n- cmd: a\n", Data{}, []string{"stepTimeout: must be positive"}},
		{"retries", "steps:\n- cmd: a\n  retries: 11\n", Data{}, []string{"steps[0]: retries: must be 0 to 10"}},
		{"retryDelay", "steps:\n- cmd: a\n  retryDelay: -2\n", Data{}, []string{"steps[0]: retryDelay: must be 0 or more"}},
		{"not a number", "steps:\n- cmd: a\n  retries: many\n", Data{}, []string{`steps[0]: retries: must be a whole number, found "many"`}},
		{"duplicate ids", "steps:\n- id: a\n  cmd: x\n- id: a\n  cmd: y\n", Data{}, []string{`steps[1] (id "a"): id "a" is already the id of steps[0]`}},
		{"duplicate key", "steps:\n- cmd: x\n  cmd: y\n", Data{}, []string{`steps[0]: key "cmd" is given twice`}},
		{"env without =", "env: [A]\nsteps:\n- cmd: x\n  env: [B=1, C]\n", Data{}, []string{`env[0]: "A" has no "="`, `steps[0]: env[1]: "C" has no "="`}},
		{"network", "steps:\n- cmd: x\n  network: host\n", Data{}, []string{`steps[0]: network: "host" is not a network: write "default"`}},
		{"push not a list", "steps:\n- push: app\n", Data{}, []string{"steps[0]: push: must be a list"}},
		{"push bad ref", "steps:\n- push: [App]\n", Data{}, []string{"steps[0]: push[0]: image \"App\""}},
		{"bad build", "steps:\n- build: -t app --squash .\n", Data{}, []string{"steps[0]: build: unknown flag --squash"}},
		{"bad cmd quoting", "steps:\n- cmd: alpine echo 'x\n", Data{}, []string{"steps[0]: cmd: ", "unclosed single quote"}},
		{"version", "version: v2.0.0\nsteps:\n- cmd: x\n", Data{}, []string{`version: "v2.0.0" is not a version berth reads`}},
		{"missing value", "steps:\n- cmd: alpine echo {{.Values.nope}}\n", Data{}, []string{`map has no entry for key "nope"`, "--set nope="}},
		{"template syntax", "steps:\n- cmd: alpine echo {{.Values.x\n", Data{}, []string{"template: "}},
		{"secret without value", "secrets:\n- id: a\n- id: tok\nsteps:\n- cmd: x\n", Data{Secrets: map[string]string{"a": "1"}}, []string{"secrets[1]: id tok has no value: give it with --set-secret tok=…"}},
		{"bad alias name", "alias:\n  values:\n    9x: a\nsteps:\n- cmd: x\n", Data{}, []string{`"9x" is not an alias name`}},
		{"all errors at once", "steps:\n- id: a\n  cmdd: x\n- cmd: y\n  retries: 99\n", Data{}, []string{`unknown key "cmdd"`, "retries: must be 0 to 10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.yaml, tt.data)
			if err == nil {
				t.Fatalf("Parse succeeded with %+v, want an error", f)
			}
			if f != nil {
				t.Errorf("Parse returned a file with an error")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("error %T is no *ValidationError: %v", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseAcceptsOldVersion(t *testing.T) {
	f, err := Parse("version: v1.0.0\nsteps:\n- cmd: x\n", Data{})
	if err != nil || f.Version != VersionV100 {
		t.Fatalf("Parse = %v, %v; want version %s", f, err, VersionV100)
	}
}

// TestDocExample keeps the example of docs/task-yaml.md valid and its
// comments true.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/task-yaml.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "```yaml\n")
	example, _, _ := strings.Cut(rest, "```")
	f, err := Parse(example, Data{Run: testRun, Values: map[string]string{"greeting": "hi"}, Secrets: map[string]string{"npmToken": "t"}})
	if err != nil {
		t.Fatalf("the example does not parse: %v", err)
	}
	if got, want := f.Steps[3].Push, []string{"127.0.3.1:5000/hello:ca1", "127.0.3.1:5000/hello:latest"}; !reflect.DeepEqual(got, want) {
		t.Errorf("push = %q, want %q", got, want)
	}
	if d := deps(f); !reflect.DeepEqual(d, [][]int{nil, {0}, nil, {1, 2}}) {
		t.Errorf("deps = %v, want build and lint at once, test after build, push after test and lint", d)
	}
}
