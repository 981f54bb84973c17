package gc_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

// BenchmarkCollect measures the reclaim rate: one pass over 1,000
// unreferenced 1 KiB blobs, in blobs/s.
func BenchmarkCollect(b *testing.B) {
	const n = 1000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEnv(b)
		ctx := b.Context()
		ds := make([]oci.Digest, n)
		for j := range ds {
			c := []byte(fmt.Sprintf("%d-%d-%s", i, j, bytes.Repeat([]byte("x"), 1024)))
			ds[j] = oci.FromBytes(c)
			id := fmt.Sprintf("u%d", j)
			if err := e.blobs.CreateUpload(ctx, id); err != nil {
				b.Fatal(err)
			}
			if _, err := e.blobs.WriteUpload(ctx, id, 0, bytes.NewReader(c)); err != nil {
				b.Fatal(err)
			}
			if err := e.blobs.CommitUpload(ctx, id, int64(len(c)), ds[j]); err != nil {
				b.Fatal(err)
			}
		}
		err := e.db.Update(ctx, func(tx *meta.Tx) error {
			for _, d := range ds {
				if err := tx.PutBlob(ctx, d, 1024); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		c := e.collector(0)
		c.Now = func() time.Time { return time.Now().Add(time.Second) }
		b.StartTimer()
		st, err := c.Collect(ctx)
		b.StopTimer()
		if err != nil || st.Blobs != n {
			b.Fatalf("Collect = %+v, %v", st, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "blobs/s")
}
