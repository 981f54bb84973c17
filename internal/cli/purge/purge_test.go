package purge_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/purge"
	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/pkg/client"
)

// berth is a real server, with its default registry (no login server of
// its own: it is reached at the server's address).
type berth struct {
	url, host string
	password  string // the admin user's
	c         *client.Client
	m         *client.Metadata
	srv       *app.Server // in-process servers only
}

// startBerth starts a server in this process, with cfg changed by mutate.
func startBerth(t testing.TB, mutate ...func(*config.Config)) *berth {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "pw", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	b := connect(t, ts.URL, "pw")
	b.srv = srv
	return b
}

// connect logs in to the server at url as the admin user.
func connect(t testing.TB, url, password string) *berth {
	t.Helper()
	ctx := context.Background()
	anon, err := client.New(url)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := anon.Login(ctx, client.LoginRequest{Username: "admin", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(url, client.WithTokenSource(client.StaticToken(tok.AccessToken)))
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(url, "http://")
	refresh, err := c.Exchange(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	return &berth{url: url, host: host, password: password, c: c, m: c.Metadata(host, refresh)}
}

// put writes a manifest into l and returns it.
func put(t testing.TB, l *ocilayout.Layout, mediaType string, v any) oci.Descriptor {
	t.Helper()
	b, _ := json.Marshal(v)
	d, err := l.PutBytes(mediaType, b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// image writes a one-layer image, with subject when it is not nil.
func image(t testing.TB, l *ocilayout.Layout, text string, subject *oci.Descriptor) oci.Descriptor {
	t.Helper()
	layer, err := l.PutBytes("application/vnd.oci.image.layer.v1.tar", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := l.PutBytes("application/vnd.oci.image.config.v1+json", []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["`+string(layer.Digest)+`"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{"schemaVersion": 2, "mediaType": oci.MediaTypeImageManifest, "config": cfg, "layers": []oci.Descriptor{layer}}
	if subject != nil {
		m["subject"] = subject
	}
	return put(t, l, oci.MediaTypeImageManifest, m)
}

// content are the digests the seed pushed.
type content struct {
	img1, img2, sig1, sig2, orphan, index, amd, arm, locked string
}

// seed pushes the same content into b every time:
//
//	app:v1      img1, signed by sig1 (untagged)
//	app:v10     img2 (hidden from _manifests), signed by sig2 (untagged)
//	app:multi   an index of amd and arm (untagged)
//	app:locked  locked (deleteEnabled false)
//	app@orphan  untagged
//	app2:v1     img1
func seed(t *testing.T, b *berth) content {
	t.Helper()
	ctx := context.Background()
	l, err := ocilayout.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rc := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw"})
	push := func(d oci.Descriptor, repo, tag string) string {
		t.Helper()
		ref := regclient.Reference{Host: b.host, Repository: repo, Tag: tag}
		if tag == "" {
			ref.Digest = d.Digest
		}
		if _, err := rc.Push(ctx, l, d, ref); err != nil {
			t.Fatalf("pushing %s: %v", ref, err)
		}
		return string(d.Digest)
	}
	img1 := image(t, l, "one", nil)
	img2 := image(t, l, "two", nil)
	amd, arm := image(t, l, "amd", nil), image(t, l, "arm", nil)
	index := put(t, l, oci.MediaTypeImageIndex, map[string]any{"schemaVersion": 2, "mediaType": oci.MediaTypeImageIndex, "manifests": []oci.Descriptor{amd, arm}})
	var c content
	c.img1 = push(img1, "app", "v1")
	c.img2 = push(img2, "app", "v10")
	c.sig1 = push(image(t, l, "sig one", &img1), "app", "")
	c.sig2 = push(image(t, l, "sig two", &img2), "app", "")
	c.index = push(index, "app", "multi")
	c.amd, c.arm = string(amd.Digest), string(arm.Digest)
	c.locked = push(image(t, l, "locked", nil), "app", "locked")
	c.orphan = push(image(t, l, "orphan", nil), "app", "")
	push(img1, "app2", "v1")
	f := false
	if _, err := b.m.UpdateTag(ctx, "app", "locked", client.AttributesUpdate{DeleteEnabled: &f}); err != nil {
		t.Fatal(err)
	}
	// img2 is hidden from _manifests: its signature must stay all the same.
	if _, err := b.m.UpdateManifest(ctx, "app", c.img2, client.AttributesUpdate{ListEnabled: &f}); err != nil {
		t.Fatal(err)
	}
	return c
}

// refs lists everything in b as the lines purge prints, without the
// "Would delete: " and with loginServer "HOST".
func refs(t *testing.T, b *berth) map[string]bool {
	t.Helper()
	ctx := context.Background()
	out := map[string]bool{}
	repos, err := b.m.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range repos {
		tags, err := b.m.Tags(ctx, repo, client.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range tags {
			out["HOST/"+repo+":"+tg.Name] = true
		}
		ms, err := b.m.Manifests(ctx, repo, client.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			out["HOST/"+repo+"@"+m.Digest] = true
		}
	}
	return out
}

func run(t *testing.T, b *berth, mutate func(*purge.Options)) (string, error) {
	t.Helper()
	io, _, out, _ := cmdutil.Test()
	opts := &purge.Options{
		IO:     io,
		Client: func() (*client.Client, error) { return b.c, nil },
		// Everything the seed pushed is a minute old.
		Now:      func() time.Time { return time.Now().Add(time.Minute) },
		Registry: "default", Filters: []string{"app:v1", "app:locked"}, Ago: "0d",
		Untagged: true, Concurrency: 3,
	}
	if mutate != nil {
		mutate(opts)
	}
	err := purge.Run(context.Background(), opts)
	return strings.ReplaceAll(out.String(), b.host, "HOST"), err
}

func sorted(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// TestDryRunIsWhatARealRunDeletes seeds two servers alike, purges one for
// real and the other dry, and compares what went with what was announced.
func TestDryRunIsWhatARealRunDeletes(t *testing.T) {
	dry, real := startBerth(t), startBerth(t)
	c := seed(t, dry)
	if c2 := seed(t, real); c2 != c {
		t.Fatalf("the seeds differ: %+v, %+v", c, c2)
	}

	// Bad input deletes nothing.
	before := refs(t, dry)
	for name, mutate := range map[string]func(*purge.Options){
		"invalid regex":    func(o *purge.Options) { o.Filters = []string{"app:v(1"} },
		"malformed ago":    func(o *purge.Options) { o.Ago = "1y" },
		"keep -1":          func(o *purge.Options) { o.Keep = -1 },
		"unknown registry": func(o *purge.Options) { o.Registry = "nosuchregistry" },
	} {
		if _, err := run(t, dry, mutate); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if after := refs(t, dry); len(after) != len(before) {
		t.Fatalf("bad input deleted something: %v", sorted(before))
	}

	out, err := run(t, dry, func(o *purge.Options) { o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	announced := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		ref, ok := strings.CutPrefix(line, "Would delete: ")
		if !ok {
			t.Fatalf("dry run printed %q", line)
		}
		announced[ref] = true
	}
	if after := refs(t, dry); len(after) != len(before) {
		t.Fatal("the dry run deleted something")
	}

	want := []string{"HOST/app:v1", "HOST/app@" + c.img1, "HOST/app@" + c.orphan, "HOST/app@" + c.sig1}
	sort.Strings(want)
	if got := sorted(announced); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("dry run announced\n%v\nwant\n%v", got, want)
	}

	beforeReal := refs(t, real)
	out, err = run(t, real, nil)
	if err != nil {
		t.Fatal(err)
	}
	afterReal := refs(t, real)
	deleted := map[string]bool{}
	for r := range beforeReal {
		if !afterReal[r] {
			deleted[r] = true
		}
	}
	if got, wantS := sorted(deleted), sorted(announced); strings.Join(got, " ") != strings.Join(wantS, " ") {
		t.Errorf("the real run deleted\n%v\nthe dry run announced\n%v", got, wantS)
	}
	for _, line := range []string{"Number of deleted tags: 1", "Number of deleted manifests: 3"} {
		if !strings.Contains(out, line) {
			t.Errorf("the real run printed\n%s\nwithout %q", out, line)
		}
	}
	// What must stay did: index members, the referrer of a subject that
	// stays, the locked tag, the same tag in a repository no filter names.
	for _, r := range []string{"HOST/app@" + c.amd, "HOST/app@" + c.arm, "HOST/app@" + c.sig2, "HOST/app:locked", "HOST/app:v10", "HOST/app2:v1"} {
		if !afterReal[r] {
			t.Errorf("%s was deleted", r)
		}
	}

	// --include-locked takes the locked tag; --untagged-only no tag.
	out, err = run(t, real, func(o *purge.Options) { o.IncludeLocked = true; o.Untagged = false })
	if err != nil || !strings.Contains(out, "Deleted: HOST/app:locked") {
		t.Errorf("--include-locked: %v\n%s", err, out)
	}
	out, err = run(t, real, func(o *purge.Options) { o.Untagged = false; o.UntaggedOnly = true; o.DryRun = true })
	if err != nil || out != "Would delete: HOST/app@"+c.locked+"\n" {
		t.Errorf("--untagged-only: %v\n%s", err, out)
	}
}
