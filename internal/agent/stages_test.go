package agent_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/agent"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	packctx "github.com/berth-project/berth/pkg/buildcontext"
)

// packFiles writes files (paths may hold folders) into a fresh directory
// and packs it as `berth build` does, .dockerignore and all.
func packFiles(t *testing.T, files map[string]string) []byte {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rc, _, err := packctx.Pack(context.Background(), dir, packctx.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tarNames lists the entries of a packed context.
func tarNames(t *testing.T, tgz []byte) map[string]bool {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names[strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")] = true
	}
}

// build runs job with the admin's credentials and fails the test unless
// it succeeds; it returns the log.
func (e *buildEnv) build(job agent.Job) string {
	e.t.Helper()
	job.LoginServer, job.Username, job.Password = e.host, "admin", "pw"
	var log bytes.Buffer
	if r := e.exec.Run(context.Background(), job, &log); !r.Succeeded {
		e.t.Fatalf("run %s failed: %s\n%s", job.RunID, r.Error, log.String())
	}
	return log.String()
}

// pulled pulls an image of the registry and returns its files.
func (e *buildEnv) pulled(name string) map[string]string {
	e.t.Helper()
	l, err := ocilayout.Create(e.t.TempDir())
	if err != nil {
		e.t.Fatal(err)
	}
	ref, err := regclient.ParseReference(e.host + "/" + name)
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw"}).Pull(context.Background(), ref, l, "linux/amd64")
	if err != nil {
		e.t.Fatalf("pull %s: %v", ref, err)
	}
	return imageFiles(e.t, l, p.Manifest)
}

// TestMultiStageBuild: COPY --from takes files from an earlier stage by
// name and from an image by reference (which the agent pulls, since
// BuildKit reaches no registry); build args override ARG defaults, in a
// FROM line as in a stage; --target builds only the stages it needs.
func TestMultiStageBuild(t *testing.T) {
	e := newBuildEnv(t)

	// An image that is no FROM of the build, only a COPY --from source.
	e.build(agent.Job{RunID: "ms1", Images: []string{"stages/lib:v1"}, Push: true,
		Context: bytes.NewReader(packFiles(t, map[string]string{
			"Dockerfile": "FROM " + e.base + "\nRUN mkdir /lib && echo from the lib image > /lib/lib.txt\n",
		}))})

	dockerfile := "ARG BASE_TAG=no-such-tag\n" +
		"FROM " + e.host + "/base/busybox:${BASE_TAG} AS build\n" +
		"ARG VERSION=0.1\nARG KEPT=the-default\n" +
		"RUN echo \"built $VERSION $KEPT\" > /artifact\n" +
		"FROM " + e.base + " AS unused\n" +
		"RUN echo this stage is never built && exit 7\n" +
		"FROM " + e.base + "\n" +
		"COPY --from=build /artifact /final/artifact\n" +
		"COPY --from=" + e.host + "/stages/lib:v1 /lib/lib.txt /final/lib.txt\n" +
		"RUN echo final > /final/marker\n"
	ctx := packFiles(t, map[string]string{"Dockerfile": dockerfile})
	args := map[string]string{"BASE_TAG": "1", "VERSION": "2.0"}

	t.Run("final stage", func(t *testing.T) {
		log := e.build(agent.Job{RunID: "ms2", Images: []string{"stages/app:v1"}, Push: true,
			BuildArgs: args, Context: bytes.NewReader(ctx)})
		for _, want := range []string{"Pulling base image: " + e.base, "Pulling base image: " + e.host + "/stages/lib:v1"} {
			if !strings.Contains(log, want) {
				t.Errorf("the log has no %q:\n%s", want, log)
			}
		}
		if strings.Contains(log, "no-such-tag") {
			t.Errorf("the agent used the ARG default where a build arg overrides it:\n%s", log)
		}
		files := e.pulled("stages/app:v1")
		for path, want := range map[string]string{
			"final/artifact": "built 2.0 the-default\n",
			"final/lib.txt":  "from the lib image\n",
			"final/marker":   "final\n",
		} {
			if got, ok := files[path]; !ok || got != want {
				t.Errorf("/%s is %q (present %v), want %q", path, got, ok, want)
			}
		}
		if _, ok := files["artifact"]; ok {
			t.Error("the final image holds /artifact of the build stage: the stages were not kept apart")
		}
	})

	t.Run("target", func(t *testing.T) {
		e.build(agent.Job{RunID: "ms3", Images: []string{"stages/app:build"}, Push: true,
			BuildArgs: map[string]string{"BASE_TAG": "1", "VERSION": "3.0", "KEPT": "overridden"},
			Target:    "build", Context: bytes.NewReader(ctx)})
		files := e.pulled("stages/app:build")
		if got := files["artifact"]; got != "built 3.0 overridden\n" {
			t.Errorf("/artifact of --target build is %q", got)
		}
		if _, ok := files["final/marker"]; ok {
			t.Error("--target build ran the final stage")
		}
	})

	t.Run("unset ARG default", func(t *testing.T) {
		// Without BASE_TAG the FROM names a tag that does not exist: the
		// pull fails and says which image.
		var log bytes.Buffer
		r := e.exec.Run(context.Background(), agent.Job{RunID: "ms4", LoginServer: e.host, Username: "admin", Password: "pw",
			Images: []string{"stages/app:v2"}, Context: bytes.NewReader(ctx)}, &log)
		if r.Succeeded || !strings.Contains(r.Error, "pull "+e.host+"/base/busybox:no-such-tag") {
			t.Fatalf("a build from a missing tag: %+v\n%s", r, log.String())
		}
	})
}

// TestDockerignore: a file .dockerignore names is not packed, so it is
// neither uploaded nor in the image, while the rest of the context is.
func TestDockerignore(t *testing.T) {
	e := newBuildEnv(t)
	ctx := packFiles(t, map[string]string{
		"Dockerfile":     "FROM " + e.base + "\nCOPY . /ctx/\n",
		".dockerignore":  "secret.txt\n*.log\nbuild/\n!build/keep.txt\n",
		"app.txt":        "app\n",
		"secret.txt":     "do not ship\n",
		"debug.log":      "noise\n",
		"build/out.bin":  "artefact\n",
		"build/keep.txt": "kept by the exception\n",
	})
	names := tarNames(t, ctx)
	for _, n := range []string{"secret.txt", "debug.log", "build/out.bin"} {
		if names[n] {
			t.Errorf("the packed context holds %s, which .dockerignore leaves out", n)
		}
	}
	e.build(agent.Job{RunID: "di1", Images: []string{"ignore/app:v1"}, Push: true, Context: bytes.NewReader(ctx)})
	files := e.pulled("ignore/app:v1")
	if files["ctx/app.txt"] != "app\n" || files["ctx/build/keep.txt"] != "kept by the exception\n" {
		t.Errorf("the image lacks files of the context: app.txt %q, build/keep.txt %q", files["ctx/app.txt"], files["ctx/build/keep.txt"])
	}
	for _, n := range []string{"ctx/secret.txt", "ctx/debug.log", "ctx/build/out.bin"} {
		if _, ok := files[n]; ok {
			t.Errorf("the image holds /%s, which .dockerignore leaves out", n)
		}
	}
}
