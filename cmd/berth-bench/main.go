// Command berth-bench is berth's own load generator. It measures the
// machine's limits (single-core sha256, loopback TCP), then drives a registry
// through the OCI distribution API and prints each figure beside its target.
//
// It speaks only HTTP to the registry and imports nothing of berth's
// internal packages (internal/archtest checks), so with --url it measures
// any OCI registry. Its build phase drives berth's build service as a client
// does: with the public pkg/client and pkg/buildcontext, the berth CLI and
// buildctl. A missed target is a finding, not an error: the command exits
// non-zero only when something failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the command line, validated by parseOptions.
type options struct {
	berthPath string // start this binary; excludes url
	url       string
	user      string
	password  string
	pid       int // of the --url registry, for RSS; 0 skips RSS
	duration  time.Duration
	blobSize  int64
	chunkSize int64
	phases    []string // selected, in run order, dependencies added
	jsonPath  string
	goBench   string // go test -bench output to report beside the phases
	cpuProf   string // the bench's own CPU profile, to see its share of the load
}

// phaseOrder is the order phases run in. idle-rss comes first so that
// nothing has loaded the server yet; each machine limit runs just before the
// phases compared with it, so that a change in the machine's other load
// between the two skews the ratio less.
var phaseOrder = []string{
	"idle-rss",
	"sha256", "push", "push-chunked",
	"tcp", "pull",
	"manifest-put", "manifest-get", "auth-cost", "gate", "token-issue", "blob-head", "tags-list",
	// Last: its BuildKit daemon stays up, idle, until the server stops.
	"build",
}

// phaseNeeds lists the machine limits a phase's ratio is measured against;
// they are cheap, so they run whenever a phase needs them.
var phaseNeeds = map[string][]string{
	"push":         {"sha256"},
	"push-chunked": {"sha256"},
	"pull":         {"tcp"},
	"build":        {"sha256"},
}

const usageText = `usage: berth-bench (--berth PATH | --url URL [--user U --password P] [--pid N]) [flags]

Measures a registry through the OCI distribution API and prints a report.
With --berth it starts PATH serve on a free 127.0.0.1 port with a temporary
data directory and stops it at the end.

Phases: %s

Flags:
`

func main() {
	opts, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if errors.Is(err, errFlagsReported) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "berth-bench: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "berth-bench: error: %v\n", err)
		stop()
		os.Exit(1)
	}
}

// errFlagsReported is a flag error the flag package has already printed.
var errFlagsReported = errors.New("bad flags")

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	opts := &options{blobSize: 1 << 30, chunkSize: 64 << 20}
	fs := flag.NewFlagSet("berth-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, usageText, strings.Join(phaseOrder, ","))
		fs.PrintDefaults()
	}
	var only string
	fs.StringVar(&opts.berthPath, "berth", "", "`path` of a berth binary to start and measure")
	fs.StringVar(&opts.url, "url", "", "base `URL` of a running registry to measure instead")
	fs.StringVar(&opts.user, "user", "", "basic auth user for --url (empty: no auth)")
	fs.StringVar(&opts.password, "password", "", "basic auth password for --url (default $BERTH_BENCH_PASSWORD)")
	fs.IntVar(&opts.pid, "pid", 0, "process id of the --url registry, to sample its RSS")
	fs.DurationVar(&opts.duration, "duration", 5*time.Second, "length of each fixed-duration phase")
	fs.Var((*sizeFlag)(&opts.blobSize), "blob-size", "size of the large blob pushed and pulled (e.g. 1GiB, 256MiB)")
	fs.Var((*sizeFlag)(&opts.chunkSize), "chunk-size", "PATCH chunk size of the chunked push")
	fs.StringVar(&only, "only", "", "comma-separated `phases` to run (default: all)")
	fs.StringVar(&opts.jsonPath, "json", "", "also write the figures as JSON to `file`")
	fs.StringVar(&opts.goBench, "go-bench", "", "also report the go test -bench results in `file`")
	fs.StringVar(&opts.cpuProf, "cpuprofile", "", "write the bench's own CPU profile to `file`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errFlagsReported
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case opts.berthPath == "" && opts.url == "":
		return nil, errors.New("one of --berth or --url is required")
	case opts.berthPath != "" && opts.url != "":
		return nil, errors.New("--berth and --url exclude each other")
	case opts.berthPath != "" && (opts.user != "" || opts.password != "" || opts.pid != 0):
		return nil, errors.New("--user, --password and --pid apply only with --url")
	}
	if opts.url != "" {
		u, err := url.Parse(opts.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--url %q: want http(s)://host[:port]", opts.url)
		}
		if opts.password == "" {
			opts.password = os.Getenv("BERTH_BENCH_PASSWORD")
		}
	}
	if opts.duration <= 0 {
		return nil, errors.New("--duration must be positive")
	}
	if opts.chunkSize > opts.blobSize {
		opts.chunkSize = opts.blobSize
	}
	phases, err := selectPhases(only)
	if err != nil {
		return nil, err
	}
	opts.phases = phases
	return opts, nil
}

// selectPhases turns --only into the phases to run, in phaseOrder, with the
// machine limits the selected phases are compared against.
func selectPhases(only string) ([]string, error) {
	if strings.TrimSpace(only) == "" {
		return slices.Clone(phaseOrder), nil
	}
	want := map[string]bool{}
	for _, p := range strings.Split(only, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.Contains(phaseOrder, p) {
			return nil, fmt.Errorf("--only: unknown phase %q (phases: %s)", p, strings.Join(phaseOrder, ","))
		}
		want[p] = true
		for _, dep := range phaseNeeds[p] {
			want[dep] = true
		}
	}
	var out []string
	for _, p := range phaseOrder {
		if want[p] {
			out = append(out, p)
		}
	}
	return out, nil
}

// run starts or reaches the registry, runs the selected phases and prints
// the report, also when a phase failed: figures measured before a failure
// are still worth reading.
func run(ctx context.Context, opts *options, stdout, stderr io.Writer) (err error) {
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "berth-bench: "+format+"\n", args...)
	}
	// Read first, so that a missing file fails before the server starts.
	var goFigs []figure
	if opts.goBench != "" {
		if goFigs, err = readGoBench(opts.goBench); err != nil {
			return err
		}
	}
	reg := &registry{user: opts.user, password: opts.password}
	pid := opts.pid
	var srv *server
	if opts.berthPath != "" {
		logf("starting %s", opts.berthPath)
		srv, err = startServer(ctx, opts.berthPath)
		if err != nil {
			return err
		}
		defer func() {
			if stopErr := srv.stop(); stopErr != nil {
				logf("stopping server: %v", stopErr)
			}
		}()
		reg.user, reg.password = "admin", srv.password
		pid = srv.pid()
		opts.url = srv.url
		logf("server pid %d listening on %s", pid, srv.url)
	}
	base, err := url.Parse(strings.TrimSuffix(opts.url, "/"))
	if err != nil {
		return err
	}
	reg.base = base

	b := &bench{
		opts:    opts,
		reg:     reg,
		pid:     pid,
		runID:   randomHex(4),
		logf:    logf,
		figures: goFigs,
		srv:     srv,
	}
	if opts.cpuProf != "" {
		f, err := os.Create(opts.cpuProf)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	started := time.Now()
	for _, name := range opts.phases {
		if err = ctx.Err(); err != nil {
			break
		}
		logf("phase %s", name)
		// Flush dirty pages first, so that the kernel writing back an earlier
		// phase's gigabyte does not take CPU from this one.
		syscall.Sync()
		if err = phaseFuncs[name](b, ctx); err != nil {
			err = fmt.Errorf("phase %s: %w", name, err)
			if srv != nil && ctx.Err() == nil {
				if tail := srv.exitNote(); tail != "" {
					err = fmt.Errorf("%w\n%s", err, tail)
				}
			}
			break
		}
	}
	if pid != 0 && ctx.Err() == nil {
		b.lifetimePeakRSS()
	}
	writeTable(stdout, b.figures)
	if opts.jsonPath != "" {
		if jerr := writeJSON(opts.jsonPath, opts, started, b.figures); jerr != nil {
			err = errors.Join(err, jerr)
		}
	}
	return err
}
