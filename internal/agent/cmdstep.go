package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
)

// CmdRequest is one `cmd` step of a multi-step task: a container of an
// image that the agent has already pulled into a layout store, run with
// the step's arguments. BuildKit runs it as the one RUN of a throwaway
// Dockerfile, so it never talks to a registry.
type CmdRequest struct {
	// Image is the image reference as the step names it, for messages.
	Image string
	// NamedContext is the image: oci-layout://<store>@<manifest digest>,
	// as builds hand base images to BuildKit.
	NamedContext string
	Stores       map[string]string // store name → layout directory
	// Config is the image's configuration (ImageConfigOf): its Entrypoint
	// and Cmd make the command line. Its Env, WorkingDir and User reach
	// the step through BuildKit, which reads them from the named context.
	Config ImageConfig
	// Args replace the image's Cmd when given (docker run semantics); the
	// image's Entrypoint is kept in front of them.
	Args []string
	// Env is KEY=value, the step's and the task file's, in order; a later
	// entry wins, and each wins over the image's.
	Env []string
	// WorkingDir is where the command starts; relative to /workspace, and
	// /workspace when empty.
	WorkingDir string
	// Network is "" or "default" (the engine's network: a namespace with
	// only a loopback interface) or "none" (a namespace whose loopback is
	// down too).
	Network string
	// ContextDir is the run's source, mounted read-write at /workspace;
	// what the command changes there is discarded.
	ContextDir string
	Platform   string
}

// ImageConfig is what of an image's configuration a `cmd` step uses.
type ImageConfig struct {
	Entrypoint, Cmd, Env []string
	WorkingDir, User     string
}

// CmdWorkspace is where a `cmd` step finds the run's source, and where it
// starts unless the step names a working directory.
const CmdWorkspace = "/workspace"

// ImageConfigOf reads the configuration of the image whose manifest is
// manifest in l (an image manifest, not an index: the agent pulls the
// step's platform).
func ImageConfigOf(l *ocilayout.Layout, manifest oci.Descriptor) (ImageConfig, error) {
	if oci.IsIndex(manifest.MediaType) {
		return ImageConfig{}, fmt.Errorf("image %s: an index, not an image manifest", manifest.Digest)
	}
	b, err := l.Bytes(manifest.Digest)
	if err != nil {
		return ImageConfig{}, fmt.Errorf("image %s: %w", manifest.Digest, err)
	}
	var m struct {
		MediaType string          `json:"mediaType"`
		Config    *oci.Descriptor `json:"config"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return ImageConfig{}, fmt.Errorf("image %s: the manifest: %w", manifest.Digest, err)
	}
	if m.Config == nil {
		return ImageConfig{}, fmt.Errorf("image %s: the manifest names no config", manifest.Digest)
	}
	cb, err := l.Bytes(m.Config.Digest)
	if err != nil {
		return ImageConfig{}, fmt.Errorf("image %s: its config: %w", manifest.Digest, err)
	}
	if oci.FromBytesAlg(m.Config.Digest.Algorithm(), cb) != m.Config.Digest {
		return ImageConfig{}, fmt.Errorf("image %s: its config does not match its digest %s", manifest.Digest, m.Config.Digest)
	}
	var c struct {
		Config struct {
			Entrypoint []string `json:"Entrypoint"`
			Cmd        []string `json:"Cmd"`
			Env        []string `json:"Env"`
			WorkingDir string   `json:"WorkingDir"`
			User       string   `json:"User"`
		} `json:"config"`
	}
	if err := json.Unmarshal(cb, &c); err != nil {
		return ImageConfig{}, fmt.Errorf("image %s: its config: %w", manifest.Digest, err)
	}
	return ImageConfig{
		Entrypoint: c.Config.Entrypoint, Cmd: c.Config.Cmd, Env: c.Config.Env,
		WorkingDir: c.Config.WorkingDir, User: c.Config.User,
	}, nil
}

// RunCmd runs a `cmd` step through BuildKit and writes what the command
// printed (stdout and stderr, as it printed them, and nothing of
// BuildKit's) to log. A command that exits non-zero gives the error "the
// command exited with status N"; when ctx ends first, RunCmd stops the
// step and returns ctx.Err().
//
// The step is the one RUN, in exec form, of a Dockerfile generated in a
// private temporary directory (0700, the file 0600, removed at the end),
// FROM the named context: BuildKit never reaches a registry, and two
// steps share no file. The step's env travels in that Dockerfile's ENV
// lines (the image's env under them, as BuildKit reads it from the named
// context), never on buildctl's command line, which every user of the
// machine can list. BuildKit keeps what a step ran in its own state, which
// is as private as the agent's. A `--secret id=…,env=…` mount would keep
// values out of that state as well, but would make every variable a
// secret rather than the step's configuration; the caller redacts the
// secret values from the log. The build runs with --no-cache, so the
// command always runs (the image's layers stay cached), and exports
// nothing.
//
// Progress is read as buildctl's rawjson stream rather than its plain
// text: each log chunk comes with its vertex and stream and the bytes as
// the command wrote them, so keeping only the RUN vertex's output needs no
// parsing of the plain form's "#N 0.123 " prefixes and vertex headers,
// which a command could print itself to fool a filter. Each stream's
// order is kept; BuildKit sends stdout and stderr in chunks of their own,
// so how lines of the two interleave is only as close as those chunks.
func (b Buildctl) RunCmd(ctx context.Context, req CmdRequest, log io.Writer) error {
	df, err := cmdDockerfile(req)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "berth-cmd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o600); err != nil {
		return err
	}
	// The source is the step's whole workspace: an ignore file next to the
	// Dockerfile wins over a .dockerignore in the source. It must not be
	// empty, which BuildKit reads as no file at all.
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile.dockerignore"), []byte("# berth: a cmd step sees the whole source\n"), 0o600); err != nil {
		return err
	}

	contextDir := req.ContextDir
	if contextDir == "" {
		contextDir = filepath.Join(dir, "empty")
		if err := os.Mkdir(contextDir, 0o700); err != nil {
			return err
		}
	}
	args := []string{"build", "--progress", "rawjson",
		"--frontend", "dockerfile.v0",
		"--local", "context=" + contextDir,
		"--local", "dockerfile=" + dir,
		"--no-cache",
		"--opt", "context:" + cmdImage + "=" + req.NamedContext,
	}
	if req.Platform != "" {
		args = append(args, "--opt", "platform="+req.Platform)
	}
	for _, k := range slices.Sorted(maps.Keys(req.Stores)) {
		args = append(args, "--oci-layout", k+"="+req.Stores[k])
	}
	cmd := b.Command(ctx, args...)
	dieWithAgent(cmd)
	cmd.WaitDelay = 5 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("buildctl: %w", err)
	}
	p := progress{log: log, runs: map[string]bool{}, pending: map[string][]logChunk{}}
	readErr := p.read(stderr)
	p.flush()
	err = cmd.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if readErr != nil && err == nil {
		return fmt.Errorf("buildctl: reading its progress: %w", readErr)
	}
	if err == nil {
		return nil
	}
	if n, ok := p.exitStatus(); ok {
		return fmt.Errorf("the command exited with status %d", n)
	}
	msg := strings.TrimSpace(p.text.String() + stdout.String())
	if len(msg) > 4096 {
		msg = "…" + msg[len(msg)-4096:]
	}
	if msg == "" {
		return fmt.Errorf("buildctl: %w", err)
	}
	return fmt.Errorf("buildctl: %w: %s", err, msg)
}

// cmdImage is the name the generated Dockerfile's FROM gives the step's
// image, and the named context stands for: one name for every image, so
// no reference (with a digest, or one the frontend would normalise) can
// miss its context and send BuildKit to a registry.
const cmdImage = "berth-cmd-image"

// cmdDockerfile writes the Dockerfile of a `cmd` step. Every value is
// quoted for the Dockerfile parser, so no `$` in it is expanded.
func cmdDockerfile(req CmdRequest) (string, error) {
	argv := req.Args
	if len(argv) == 0 {
		argv = req.Config.Cmd
	}
	argv = append(append([]string{}, req.Config.Entrypoint...), argv...)
	if len(argv) == 0 {
		return "", fmt.Errorf("the step gives no command and its image %s names none", req.Image)
	}
	network := req.Network
	switch network {
	case "":
		network = "default"
	case "default", "none":
	default:
		return "", fmt.Errorf("network %q: a cmd step's network is default or none", req.Network)
	}
	wd := req.WorkingDir
	if !path.IsAbs(wd) {
		wd = path.Join(CmdWorkspace, wd)
	}
	if strings.ContainsAny(wd, "\r\n\x00") {
		return "", errors.New("the working directory holds a line break")
	}

	var b strings.Builder
	b.WriteString("# Written by berth for one cmd step.\n")
	b.WriteString("FROM " + cmdImage + "\n")
	for _, kv := range req.Env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" || strings.ContainsAny(k, " \t\r\n\x00=\\\"'$`") {
			return "", fmt.Errorf("env %q: not a variable name", k)
		}
		// A Dockerfile line cannot carry a line break, not even quoted.
		if strings.ContainsAny(v, "\r\n\x00") {
			return "", fmt.Errorf("env %s: the value holds a line break, which a cmd step cannot pass", k)
		}
		b.WriteString("ENV " + k + "=" + dockerfileQuote(v) + "\n")
	}
	b.WriteString("WORKDIR " + dockerfileQuote(wd) + "\n")
	// json.Marshal escapes < and > (HTML-safe), so no "<<" in an argument
	// reads as a heredoc; exec form expands no variable.
	js, err := json.Marshal(argv)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "RUN --network=%s --mount=type=bind,source=.,target=%s,rw %s\n", network, CmdWorkspace, js)
	return b.String(), nil
}

// dockerfileQuote quotes s for an ENV or WORKDIR value: inside double
// quotes, the Dockerfile parser takes \\, \" and \$ as the character
// itself and expands no variable.
func dockerfileQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`)
	return `"` + r.Replace(s) + `"`
}

// runVertex matches the name BuildKit's Dockerfile frontend gives a RUN
// step: "[2/3] RUN …", with a platform or stage in the brackets at times.
var runVertex = regexp.MustCompile(`^\[[^\]]*\] RUN `)

// exitCode is how BuildKit reports a process that failed.
var exitCode = regexp.MustCompile(`did not complete successfully: exit code: (\d+)`)

// progress decodes buildctl's rawjson progress: one JSON SolveStatus per
// line, lines that are not JSON being buildctl's own messages (its final
// error among them).
type progress struct {
	log     io.Writer
	runs    map[string]bool       // vertex digest → it is the RUN (known vertices only)
	pending map[string][]logChunk // logs of vertices not yet named
	runErr  string                // the RUN vertex's error
	text    bytes.Buffer          // buildctl's lines that are not progress
	werr    error

	// The command's output is passed on a line at a time per stream:
	// BuildKit sends stdout and stderr in chunks of their own, so a line
	// one stream left unfinished would otherwise run into the other's.
	partial    map[int][]byte // stream → its unfinished line
	lastStream int            // the stream written last
	midLine    bool           // what was written last ends inside a line
}

type solveStatus struct {
	Vertexes []struct {
		Digest string `json:"digest"`
		Name   string `json:"name"`
		Error  string `json:"error"`
	} `json:"vertexes"`
	Logs []struct {
		Vertex string `json:"vertex"`
		Stream int    `json:"stream"`
		Data   []byte `json:"data"`
	} `json:"logs"`
}

func (p *progress) read(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			p.line(line)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (p *progress) line(line []byte) {
	var st solveStatus
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &st) != nil {
		if !bytes.Contains(line, []byte("failed check for fsverity support")) && p.text.Len() < 1<<20 {
			p.text.Write(line)
		}
		return
	}
	for _, v := range st.Vertexes {
		if v.Name == "" {
			continue
		}
		run := runVertex.MatchString(v.Name)
		p.runs[v.Digest] = run
		if run && v.Error != "" {
			p.runErr = v.Error
		}
		for _, l := range p.pending[v.Digest] {
			if run {
				p.output(l.stream, l.data)
			}
		}
		delete(p.pending, v.Digest)
	}
	for _, l := range st.Logs {
		run, known := p.runs[l.Vertex]
		switch {
		case run:
			p.output(l.Stream, l.Data)
		case !known:
			p.pending[l.Vertex] = append(p.pending[l.Vertex], logChunk{l.Stream, l.Data})
		}
	}
}

type logChunk struct {
	stream int
	data   []byte
}

// output takes a chunk of the command's stream and writes the lines it
// completes. An unfinished line longer than 64 KiB is written as it is.
func (p *progress) output(stream int, data []byte) {
	if p.partial == nil {
		p.partial = map[int][]byte{}
	}
	buf := append(p.partial[stream], data...)
	n := bytes.LastIndexByte(buf, '\n') + 1
	if len(buf)-n > 64<<10 {
		n = len(buf)
	}
	p.write(stream, buf[:n])
	p.partial[stream] = append(buf[:0:0], buf[n:]...)
}

// flush writes what the streams left unfinished, at the end.
func (p *progress) flush() {
	for _, s := range slices.Sorted(maps.Keys(p.partial)) {
		p.write(s, p.partial[s])
		delete(p.partial, s)
	}
}

// write passes b, of stream, on to the log, ending the line another stream
// left unfinished first. After the log fails, the rest is dropped, but the
// progress is still read to its end.
func (p *progress) write(stream int, b []byte) {
	if len(b) == 0 || p.werr != nil {
		return
	}
	if p.midLine && stream != p.lastStream {
		if _, p.werr = io.WriteString(p.log, "\n"); p.werr != nil {
			return
		}
	}
	_, p.werr = p.log.Write(b)
	p.lastStream, p.midLine = stream, b[len(b)-1] != '\n'
}

// exitStatus is the RUN's exit status, from its vertex's error, or else
// from buildctl's message.
func (p *progress) exitStatus() (int, bool) {
	for _, s := range []string{p.runErr, p.text.String()} {
		if m := exitCode.FindStringSubmatch(s); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil {
				return n, true
			}
		}
	}
	return 0, false
}
