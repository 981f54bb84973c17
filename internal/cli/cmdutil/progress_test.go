package cmdutil

import (
	"bytes"
	"strings"
	"testing"
)

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.000 KiB", 2345: "2.290 KiB",
		5 << 20: "5.000 MiB", 3 << 30: "3.000 GiB", 1 << 40: "1.000 TiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// The bar redraws in place, at most every progressEvery, ends its line once
// and ignores what comes after.
func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	p := NewProgressBar(&b, 2048)
	p.Set(512)
	p.Set(1024) // too soon after the first: not drawn
	p.Finish()
	p.Set(2048)
	p.Finish()
	want := "\r[#######-----------------------]  25%  512 B / 2.000 KiB\x1b[K" +
		"\r[###############---------------]  50%  1.000 KiB / 2.000 KiB\x1b[K\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}

	b.Reset()
	p = NewProgressBar(&b, -1)
	p.Set(4096)
	p.Finish()
	if got := b.String(); got != "\r4.000 KiB\x1b[K\r4.000 KiB\x1b[K\n" || strings.Contains(got, "%") {
		t.Errorf("unknown total: %q", got)
	}
}
