package purge_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/purge"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/pkg/client"
)

// BenchmarkPurge purges 10,000 tags across 100 repositories (each tag its
// own manifest, so --untagged deletes 10,000 manifests too) on a real
// server: go test -run '^$' -bench Purge -benchtime 1x ./internal/cli/purge
func BenchmarkPurge(b *testing.B) {
	const repos, tags = 100, 100
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv := startBerth(b)
		ctx := context.Background()
		l, err := ocilayout.Create(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		rc := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw"})
		for r := 0; r < repos; r++ {
			for n := 0; n < tags; n++ {
				d := image(b, l, fmt.Sprintf("%d/%d", r, n), nil)
				ref := regclient.Reference{Host: srv.host, Repository: fmt.Sprintf("bench/r%03d", r), Tag: fmt.Sprintf("t%03d", n)}
				if _, err := rc.Push(ctx, l, d, ref); err != nil {
					b.Fatal(err)
				}
			}
		}
		io, _, out, _ := cmdutil.Test()
		opts := &purge.Options{
			IO: io, Client: func() (*client.Client, error) { return srv.c, nil },
			Now:      func() time.Time { return time.Now().Add(time.Minute) },
			Registry: "default", Filters: []string{"bench/.*:.*"}, Ago: "0d", Untagged: true, Concurrency: 8,
		}
		b.StartTimer()
		start := time.Now()
		if err := purge.Run(ctx, opts); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		deleted := strings.Count(out.String(), "Deleted: ")
		if deleted != 2*repos*tags {
			b.Fatalf("deleted %d, want %d", deleted, 2*repos*tags)
		}
		b.ReportMetric(float64(deleted)/elapsed.Seconds(), "deletions/s")
		b.ReportMetric(elapsed.Seconds(), "s/purge")
	}
}
