package taskfile

import (
	"reflect"
	"strings"
	"testing"
)

func TestFields(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"a  b\tc\n d", []string{"a", "b", "c", "d"}, ""},
		{`echo 'a b' "c \"d\" \\ \e" x\ y ''`, []string{"echo", "a b", `c "d" \ \e`, "x y", ""}, ""},
		{"a'b'\"c\"d", []string{"abcd"}, ""},
		{"a \\\nb", []string{"a", "b"}, ""},
		{"", nil, ""},
		{"echo 'x", nil, "unclosed single quote"},
		{`echo "x`, nil, "unclosed double quote"},
		{`echo x\`, nil, "lone backslash"},
	}
	for _, tt := range tests {
		got, err := Fields(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Fields(%q) error = %v, want one with %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Fields(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"plain", "", "a b", "it's", `back\slash "q"`} {
		got, err := Fields(quote(s))
		if err != nil || len(got) != 1 || got[0] != s {
			t.Errorf("Fields(quote(%q)) = %q, %v", s, got, err)
		}
	}
}

func TestParseBuild(t *testing.T) {
	tests := []struct {
		in      string
		want    Build
		wantErr string
	}{
		{
			in: `-t app:v1 --tag=127.0.3.1:5000/team/app:ca1 -f docker/Dockerfile --build-arg "GREETING=hello world" --build-arg=B=2 --target prod --platform linux/amd64 --no-cache ctx`,
			want: Build{Tags: []string{"app:v1", "127.0.3.1:5000/team/app:ca1"}, Dockerfile: "docker/Dockerfile",
				BuildArgs: []string{"GREETING=hello world", "B=2"}, Target: "prod", Platform: "linux/amd64", NoCache: true, Context: "ctx"},
		},
		{in: ".", want: Build{Context: "."}},
		{in: "--no-cache=false -- -odd", want: Build{Context: "-odd"}},
		{in: "-t app", wantErr: "no context path"},
		{in: "-t app . other", wantErr: "one context path is allowed; found . and other"},
		{in: "--squash .", wantErr: "unknown flag --squash"},
		{in: "--secret id=x .", wantErr: "--secret is not supported"},
		{in: "--build-arg NOVALUE .", wantErr: "--build-arg NOVALUE: write NAME=value"},
		{in: "-t Bad .", wantErr: "-t: image \"Bad\""},
		{in: ". -t", wantErr: "-t needs a value"},
		{in: "-", wantErr: "standard input"},
		{in: `-t "app .`, wantErr: "unclosed double quote"},
	}
	for _, tt := range tests {
		got, err := ParseBuild(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseBuild(%q) error = %v, want one with %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseBuild(%q) = %+v, %v\nwant %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseCmd(t *testing.T) {
	c, err := ParseCmd(`bash -c 'echo "hi there"'`)
	if err != nil || c.Image != "bash" || !reflect.DeepEqual(c.Args, []string{"-c", `echo "hi there"`}) || c.Builtin() {
		t.Errorf("ParseCmd = %+v, %v", c, err)
	}
	c, err = ParseCmd("berth purge --filter 'app:.*' --ago 1d")
	if err != nil || !c.Builtin() || len(c.Args) != 5 {
		t.Errorf("ParseCmd of a built-in = %+v, %v; want Builtin and 5 args", c, err)
	}
	for in, want := range map[string]string{"": "is empty", "-e A=1 alpine": "must start with an image", "Alpine x": "lowercase"} {
		if _, err := ParseCmd(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCmd(%q) error = %v, want one with %q", in, err, want)
		}
	}
}

func TestCheckImage(t *testing.T) {
	good := []string{"app", "app:v1", "team/app", "127.0.3.1:5000/team/app:ca1", "localhost/app", "reg.example/a/b@sha256:" + strings.Repeat("a", 64), "a__b-c.d"}
	bad := []string{"", "App", "app:", "app:-x", "a b", "reg:/app", "app@sha256", "/app", "app//x"}
	for _, s := range good {
		if err := checkImage(s); err != nil {
			t.Errorf("checkImage(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range bad {
		if checkImage(s) == nil {
			t.Errorf("checkImage(%q) = nil, want an error", s)
		}
	}
}

func TestFromCmd(t *testing.T) {
	f := FromCmd("alpine echo hi", 0)
	if err := Validate(f); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if len(f.Steps) != 1 || f.Steps[0].ID != "acb_step_0" || f.Steps[0].Cmd != "alpine echo hi" || f.Steps[0].Timeout != DefaultStepTimeout {
		t.Fatalf("FromCmd = %+v", f.Steps)
	}
	if f := FromCmd("alpine true", 3600); f.Steps[0].Timeout != 3600 {
		t.Errorf("timeout = %d, want 3600", f.Steps[0].Timeout)
	}
}

func TestFromDockerfile(t *testing.T) {
	f, err := FromDockerfile(DockerfileBuild{
		Images:     []string{"app:v1", "app:latest"},
		Dockerfile: "my Dockerfile",
		BuildArgs:  []string{"A=x y"},
		Platform:   "linux/amd64",
	})
	if err != nil {
		t.Fatalf("FromDockerfile: %v", err)
	}
	if len(f.Steps) != 2 || f.Steps[0].ID != "build" || f.Steps[1].ID != "push" {
		t.Fatalf("steps = %+v, want build then push", f.Steps)
	}
	b, err := ParseBuild(f.Steps[0].Build)
	if err != nil {
		t.Fatalf("ParseBuild(%q): %v", f.Steps[0].Build, err)
	}
	want := Build{Tags: []string{"app:v1", "app:latest"}, Dockerfile: "my Dockerfile", BuildArgs: []string{"A=x y"}, Platform: "linux/amd64", Context: "."}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("build = %+v, want %+v", b, want)
	}
	if !reflect.DeepEqual(f.Steps[1].Push, []string{"app:v1", "app:latest"}) || f.Steps[0].Timeout != QuickBuildTimeout || f.Steps[1].Timeout != QuickPushTimeout {
		t.Errorf("push step = %+v, build timeout %d", f.Steps[1], f.Steps[0].Timeout)
	}
	if d := deps(f); !reflect.DeepEqual(d, [][]int{nil, {0}}) {
		t.Errorf("deps = %v, want push after build", d)
	}

	f, err = FromDockerfile(DockerfileBuild{Images: []string{"app"}, NoPush: true})
	if err != nil || len(f.Steps) != 1 {
		t.Errorf("with NoPush: %+v, %v; want the build step alone", f, err)
	}
	if _, err := FromDockerfile(DockerfileBuild{Images: []string{"Bad Image"}}); err == nil {
		t.Error("FromDockerfile accepted an invalid image")
	}
}
