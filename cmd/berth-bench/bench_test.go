package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	var hundred []int
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, i)
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value p50", ms(7), 50, 7 * time.Millisecond},
		{"one value p99", ms(7), 99, 7 * time.Millisecond},
		{"1..100 p50", ms(hundred...), 50, 50 * time.Millisecond},
		{"1..100 p99", ms(hundred...), 99, 99 * time.Millisecond},
		{"1..100 p100", ms(hundred...), 100, 100 * time.Millisecond},
		{"1..10 p50", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Millisecond},
		{"1..10 p99 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"1..10 p91 rounds up", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 91, 10 * time.Millisecond},
		{"1..10 p90", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{"tiny p is the min", ms(3, 4, 5), 0.1, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: percentile(p=%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestContentRange(t *testing.T) {
	tests := []struct {
		start, n int64
		want     string
	}{
		{0, 64 << 20, "0-67108863"},
		{64 << 20, 64 << 20, "67108864-134217727"},
		{100, 1, "100-100"},
		{0, 1 << 30, "0-1073741823"},
	}
	for _, tt := range tests {
		if got := contentRange(tt.start, tt.n); got != tt.want {
			t.Errorf("contentRange(%d, %d) = %q, want %q", tt.start, tt.n, got, tt.want)
		}
	}
}

func TestResolveLocation(t *testing.T) {
	req, _ := url.Parse("http://127.0.0.1:5000/v2/bench/x/blobs/uploads/")
	tests := []struct {
		location, want string
	}{
		{"/v2/bench/x/blobs/uploads/abc?_state=s%3D1", "http://127.0.0.1:5000/v2/bench/x/blobs/uploads/abc?_state=s%3D1"},
		{"abc", "http://127.0.0.1:5000/v2/bench/x/blobs/uploads/abc"},
		{"http://other:9/upload/1", "http://other:9/upload/1"},
		{"../uploads/def", "http://127.0.0.1:5000/v2/bench/x/blobs/uploads/def"},
	}
	for _, tt := range tests {
		got, err := resolveLocation(req, tt.location)
		if err != nil {
			t.Errorf("resolveLocation(%q): %v", tt.location, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("resolveLocation(%q) = %s, want %s", tt.location, got, tt.want)
		}
	}
	if _, err := resolveLocation(req, ""); err == nil {
		t.Error("resolveLocation of an empty Location: no error")
	}
}

func TestWithDigest(t *testing.T) {
	const d = "sha256:0123"
	tests := []struct{ loc, want string }{
		{"http://h/v2/r/blobs/uploads/1", "http://h/v2/r/blobs/uploads/1?digest=sha256%3A0123"},
		// Opaque upload state stays byte for byte, not re-encoded or reordered.
		{"http://h/v2/r/blobs/uploads/1?z=1&_state=a%3D%3D", "http://h/v2/r/blobs/uploads/1?z=1&_state=a%3D%3D&digest=sha256%3A0123"},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.loc)
		if got := withDigest(u, d).String(); got != tt.want {
			t.Errorf("withDigest(%s) = %s, want %s", tt.loc, got, tt.want)
		}
		if u.String() != tt.loc {
			t.Errorf("withDigest changed its argument to %s", u)
		}
	}
}

func TestParseSize(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"1GiB", 1 << 30},
		{"256MiB", 256 << 20},
		{"256mib", 256 << 20},
		{"64M", 64 << 20},
		{"1.5KiB", 1536},
		{"100MB", 100_000_000},
		{"4096", 4096},
		{"4096B", 4096},
		{" 2 GiB ", 2 << 30},
		{"1TiB", 1 << 40},
	}
	for _, tt := range good {
		got, err := parseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "GiB", "-1", "0", "0.5", "1.5B", "1XB", "1..2MiB", "99999999TiB"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormatSizeRoundTrips(t *testing.T) {
	for _, n := range []int64{1, 1000, 1024, 1536, 64 << 20, 1 << 30, 3 << 40} {
		s := formatSize(n)
		back, err := parseSize(s)
		if err != nil || back != n {
			t.Errorf("parseSize(formatSize(%d) = %q) = %d, %v", n, s, back, err)
		}
	}
	if got := formatSize(256 << 20); got != "256MiB" {
		t.Errorf("formatSize(256 MiB) = %q, want 256MiB", got)
	}
}

// The pattern must read the same however it is split, or a chunked push
// would send other bytes than the digest was computed on.
func TestPatternIsDeterministicAcrossSplits(t *testing.T) {
	const size = 3*patternBlock + 12345
	p := newPattern(42)
	whole := make([]byte, size)
	p.ReadAt(whole, 0)

	var pieces []byte
	r := p.reader(size)
	buf := make([]byte, 7919) // prime, so reads straddle block stamps
	for {
		n, err := r.Read(buf)
		pieces = append(pieces, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(whole, pieces) {
		t.Fatal("reading in pieces differs from reading at once")
	}
	if bytes.Equal(whole[:patternBlock], whole[patternBlock:2*patternBlock]) {
		t.Error("consecutive blocks are equal; the stamp is missing")
	}
	other := make([]byte, size)
	newPattern(43).ReadAt(other, 0)
	if bytes.Equal(whole, other) {
		t.Error("seeds 42 and 43 give the same content")
	}
	d1, _ := p.digest(size)
	sum := sha256.Sum256(whole)
	if want := "sha256:" + hex.EncodeToString(sum[:]); d1 != want {
		t.Errorf("digest = %s, want %s", d1, want)
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tberth\nVmPeak:\t  999 kB\nVmRSS:\t   20480 kB\nThreads:\t5\n"
	got, err := parseVmRSS([]byte(status))
	if err != nil || got != 20<<20 {
		t.Errorf("parseVmRSS = %d, %v; want %d", got, err, 20<<20)
	}
	if got, err := parseStatusKB([]byte(status), "VmPeak"); err != nil || got != 999<<10 {
		t.Errorf("parseStatusKB(VmPeak) = %d, %v; want %d", got, err, 999<<10)
	}
	zombie := "Name:\tberth\nState:\tZ (zombie)\nThreads:\t1\n"
	if _, err := parseVmRSS([]byte(zombie)); err == nil {
		t.Error("parseVmRSS of a zombie's status: no error")
	}
}

func TestSelectPhases(t *testing.T) {
	got, err := selectPhases("pull, manifest-get")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tcp", "pull", "manifest-get"}; !slices.Equal(got, want) {
		t.Errorf("selectPhases = %v, want %v", got, want)
	}
	if all, _ := selectPhases(""); !slices.Equal(all, phaseOrder) {
		t.Errorf("selectPhases(\"\") = %v, want every phase", all)
	}
	if _, err := selectPhases("push,bogus"); err == nil {
		t.Error("selectPhases with an unknown phase: no error")
	}
}

func TestRunLoadStopsByItself(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]bool{}
	start := time.Now()
	res, err := runLoad(context.Background(), 4, 100*time.Millisecond, func(ctx context.Context, seq int) error {
		mu.Lock()
		seen[seq] = true
		mu.Unlock()
		time.Sleep(time.Millisecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("runLoad of 100ms took %v", d)
	}
	if res.count == 0 || res.count != len(seen) || res.count != len(res.latencies) {
		t.Errorf("count %d, distinct seqs %d, latencies %d: want equal and > 0", res.count, len(seen), len(res.latencies))
	}
	if !slices.IsSorted(res.latencies) {
		t.Error("latencies are not sorted")
	}

	boom := errors.New("boom")
	_, err = runLoad(context.Background(), 4, time.Minute, func(ctx context.Context, seq int) error {
		if seq == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("runLoad error = %v, want boom", err)
	}
}

// uploadServer is the upload half of the distribution API, strict about what
// the spec asks of clients, and answering with relative Locations.
type uploadServer struct {
	mu      sync.Mutex
	uploads map[string]*upload
	blobs   map[string]int64
	patches int
}

type upload struct {
	h    hash.Hash
	size int64
}

func (s *uploadServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if user, pass, ok := r.BasicAuth(); !ok || user != "admin" || pass != "pw" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	const prefix = "/v2/bench/t/blobs/uploads/"
	id, ok := strings.CutPrefix(r.URL.Path, prefix)
	switch {
	case !ok:
		http.NotFound(w, r)
	case r.Method == http.MethodPost && id == "":
		id = strconv.Itoa(len(s.uploads))
		s.uploads[id] = &upload{h: sha256.New()}
		w.Header().Set("Location", id+"?_state=x%3D") // relative to the request
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPatch && s.uploads[id] != nil:
		u := s.uploads[id]
		want := fmt.Sprintf("%d-%d", u.size, u.size+r.ContentLength-1)
		if got := r.Header.Get("Content-Range"); got != want || r.URL.Query().Get("_state") != "x=" {
			http.Error(w, fmt.Sprintf("Content-Range %q, want %q", got, want), http.StatusRequestedRangeNotSatisfiable)
			return
		}
		n, _ := io.Copy(u.h, r.Body)
		u.size += n
		s.patches++
		w.Header().Set("Location", prefix+id+"?_state=x%3D")
		w.Header().Set("Range", fmt.Sprintf("0-%d", u.size-1))
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPut && s.uploads[id] != nil:
		u := s.uploads[id]
		n, _ := io.Copy(u.h, r.Body)
		u.size += n
		digest := "sha256:" + hex.EncodeToString(u.h.Sum(nil))
		if r.URL.Query().Get("digest") != digest || r.URL.Query().Get("_state") != "x=" {
			http.Error(w, `{"errors":[{"code":"DIGEST_INVALID"}]}`, http.StatusBadRequest)
			return
		}
		s.blobs[digest] = u.size
		w.Header().Set("Docker-Content-Digest", digest)
		w.WriteHeader(http.StatusCreated)
	default:
		http.Error(w, "unexpected "+r.Method, http.StatusMethodNotAllowed)
	}
}

func TestPushesAgainstStrictServer(t *testing.T) {
	srv := &uploadServer{uploads: map[string]*upload{}, blobs: map[string]int64{}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	base, _ := url.Parse(ts.URL)
	reg := &registry{base: base, user: "admin", password: "pw"}
	c := newClient(1, 10*time.Second)
	ctx := context.Background()

	const size = 1<<20 + 3 // not a multiple of the chunk
	p := newPattern(5)
	digest, _ := p.digest(size)
	if err := reg.pushChunked(ctx, c, "bench/t", digest, p, size, 256<<10); err != nil {
		t.Fatalf("pushChunked: %v", err)
	}
	if srv.patches != 5 || srv.blobs[digest] != size {
		t.Errorf("after chunked push: %d PATCHes, blob size %d; want 5 and %d", srv.patches, srv.blobs[digest], size)
	}

	p2 := newPattern(6)
	digest2, _ := p2.digest(size)
	if err := reg.pushMonolithic(ctx, c, "bench/t", digest2, p2.reader(size), size); err != nil {
		t.Fatalf("pushMonolithic: %v", err)
	}
	if srv.blobs[digest2] != size {
		t.Errorf("after monolithic push: blob size %d, want %d", srv.blobs[digest2], size)
	}

	// A wrong digest must come back as an error naming status and body.
	err := reg.pushMonolithic(ctx, c, "bench/t", digest, p2.reader(size), size)
	var se *statusError
	if !errors.As(err, &se) || se.status != http.StatusBadRequest || !strings.Contains(err.Error(), "DIGEST_INVALID") {
		t.Errorf("push with a wrong digest: err = %v, want a 400 statusError with the body", err)
	}
	reg.password = "wrong"
	if err := reg.pushBytes(ctx, c, "bench/t", digest, []byte("x")); !errors.As(err, &se) || se.status != http.StatusUnauthorized {
		t.Errorf("push with a wrong password: err = %v, want 401", err)
	}
}

func TestParseOptions(t *testing.T) {
	bad := [][]string{
		{},
		{"--berth", "bin/berth", "--url", "http://127.0.0.1:5000"},
		{"--berth", "bin/berth", "--user", "admin"},
		{"--url", "127.0.0.1:5000"},
		{"--url", "http://127.0.0.1:5000", "--duration", "0s"},
		{"--url", "http://127.0.0.1:5000", "--blob-size", "1XB"},
	}
	for _, args := range bad {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("parseOptions(%q): no error", args)
		}
	}
	opts, err := parseOptions([]string{"--url", "http://127.0.0.1:5000", "--blob-size", "32MiB", "--only", "push-chunked"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if opts.blobSize != 32<<20 || opts.chunkSize != 32<<20 {
		t.Errorf("blob %d, chunk %d: want both 32 MiB (the chunk capped at the blob)", opts.blobSize, opts.chunkSize)
	}
	if want := []string{"sha256", "push-chunked"}; !slices.Equal(opts.phases, want) {
		t.Errorf("phases %v, want %v", opts.phases, want)
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/berth-project/berth/internal/netrules
cpu: Some CPU
BenchmarkDecide100Rules/last-rule-2         	100000000	        10.08 ns/op	       0 B/op	       0 allocs/op
BenchmarkDecide100Rules/no-rule-2           	134895326	       250.5 ns/op	      16 B/op	       1 allocs/op
BenchmarkContains/binary/last               	252703166	         5.152 ns/op
    gate_test.go:12: BenchmarkDecide100Rules logs a line
PASS
ok  	github.com/berth-project/berth/internal/netrules	8.458s
`
	figs, err := parseGoBench([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		phase, name, unit, result string
		value                     float64
	}
	var got []row
	for _, f := range figs {
		got = append(got, row{f.Phase, f.Name, f.Unit, f.Result, *f.Value})
	}
	want := []row{
		{"netrules", "Decide100Rules/last-rule", "ns/op", "PASS", 10.08},
		{"netrules", "Decide100Rules/last-rule", "allocs/op", "PASS", 0},
		{"netrules", "Decide100Rules/no-rule", "ns/op", "MISS", 250.5},
		{"netrules", "Decide100Rules/no-rule", "allocs/op", "MISS", 1},
		{"netrules", "Contains/binary/last", "ns/op", "", 5.152},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseGoBench =\n%v\nwant\n%v", got, want)
	}
	if _, err := parseGoBench([]byte("PASS\nok  \tx\t0.1s\n")); err == nil {
		t.Error("parseGoBench of output without results: no error")
	}
}

// The gate phase must time the gate's worst allowed case: 100 separate
// ranges with the bench's address in the last.
func TestDenyAllBut(t *testing.T) {
	client := netip.MustParseAddr("127.0.0.1")
	rs := denyAllBut(client)
	if rs.DefaultAction != "Deny" || len(rs.IPRules) != 100 {
		t.Fatalf("defaultAction %s with %d rules, want Deny with 100", rs.DefaultAction, len(rs.IPRules))
	}
	var prev netip.Prefix
	for i, r := range rs.IPRules {
		p, err := netip.ParsePrefix(r.Value)
		if err != nil || r.Action != "Allow" || p != p.Masked() {
			t.Fatalf("rule %d %+v: not a masked Allow prefix (%v)", i, r, err)
		}
		// Each range must start past the end of the one before and not
		// right after it, or the gate would merge the two.
		if i > 0 {
			if p.Addr().Compare(lastAddr(prev).Next()) <= 0 {
				t.Errorf("rule %d %s touches or precedes %s", i, p, prev)
			}
		}
		if (i == len(rs.IPRules)-1) != p.Contains(client) {
			t.Errorf("rule %d %s: contains %s = %v", i, p, client, p.Contains(client))
		}
		prev = p
	}
	props := networkProps{PublicNetworkAccess: "Enabled", NetworkRuleSet: &rs}
	if !props.admits(client) || props.admits(netip.MustParseAddr("127.0.0.2")) {
		t.Error("the rules must admit the bench's address and deny the probe's")
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func TestAdmits(t *testing.T) {
	ip := netip.MustParseAddr("127.0.0.2")
	rules := func(action string, values ...string) *networkRuleSet {
		rs := &networkRuleSet{DefaultAction: action, IPRules: []ipRule{}}
		for _, v := range values {
			rs.IPRules = append(rs.IPRules, ipRule{"Allow", v})
		}
		return rs
	}
	tests := []struct {
		name string
		n    networkProps
		want bool
	}{
		{"default allow", networkProps{"Enabled", rules("Allow")}, true},
		{"default allow, any case", networkProps{"enabled", rules("allow")}, true},
		{"public access disabled", networkProps{"Disabled", rules("Allow")}, false},
		{"deny, no rules", networkProps{"Enabled", rules("Deny")}, false},
		{"deny, in a CIDR", networkProps{"Enabled", rules("Deny", "10.0.0.0/8", "127.0.0.0/30")}, true},
		{"deny, a bare address", networkProps{"Enabled", rules("Deny", "127.0.0.2")}, true},
		{"deny, another address", networkProps{"Enabled", rules("Deny", "127.0.0.1/32")}, false},
		{"no rule set", networkProps{"Enabled", nil}, false},
	}
	for _, tt := range tests {
		if got := tt.n.admits(ip); got != tt.want {
			t.Errorf("%s: admits(%s) = %v, want %v", tt.name, ip, got, tt.want)
		}
	}
}

// A null ipRules leaves a registry's rules as they were, so turning the
// gate off must send an empty list.
func TestGateOffSendsEmptyRules(t *testing.T) {
	b, err := json.Marshal(gateOff)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"defaultAction":"Allow","ipRules":[]}`; string(b) != want {
		t.Errorf("gate off = %s, want %s", b, want)
	}
}
