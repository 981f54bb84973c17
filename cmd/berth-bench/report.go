package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"text/tabwriter"
	"time"
)

// figure is one measured number and, where it has one, its target.
type figure struct {
	Phase   string   `json:"phase"`
	Name    string   `json:"figure"`
	Value   *float64 `json:"value"` // nil: skipped
	Unit    string   `json:"unit"`
	Target  *target  `json:"target,omitempty"`
	Ratio   *float64 `json:"ratio,omitempty"`    // to the machine limit RatioOf
	RatioOf string   `json:"ratio_of,omitempty"` // "sha256", "tcp" or "pack"
	Result  string   `json:"result,omitempty"`   // PASS, MISS, SKIP or empty
	Comment string   `json:"note,omitempty"`
}

// target is "Op Value", on the figure itself or, when Of is set, on its
// ratio to a machine limit ("sha256" or "tcp").
type target struct {
	Op    string  `json:"op"` // ">=" or "<="
	Value float64 `json:"value"`
	Of    string  `json:"of,omitempty"`
}

func (t *target) met(v float64) bool {
	if t.Op == "<=" {
		return v <= t.Value
	}
	return v >= t.Value
}

func (t *target) String() string {
	op := map[string]string{">=": "≥", "<=": "≤"}[t.Op]
	if t.Of != "" {
		return fmt.Sprintf("%s %.2f× %s", op, t.Value, t.Of)
	}
	return fmt.Sprintf("%s %s", op, strconv.FormatFloat(t.Value, 'f', -1, 64))
}

func atLeast(v float64) *target { return &target{Op: ">=", Value: v} }
func atMost(v float64) *target  { return &target{Op: "<=", Value: v} }

// add records a figure, judging it against t (nil: no target).
func (b *bench) add(phase, name string, value float64, unit string, t *target) {
	f := figure{Phase: phase, Name: name, Value: &value, Unit: unit, Target: t}
	if t != nil {
		f.Result = "MISS"
		if t.met(value) {
			f.Result = "PASS"
		}
	}
	b.figures = append(b.figures, f)
}

// addRatio records a throughput with its ratio to the machine limit of
// (measured as limit), judged by t when t is not nil. t.Of must equal of.
func (b *bench) addRatio(phase, name string, value float64, unit, of string, limit float64, t *target) {
	f := figure{Phase: phase, Name: name, Value: &value, Unit: unit, Target: t}
	if limit > 0 {
		r := value / limit
		f.Ratio, f.RatioOf = &r, of
		if t != nil {
			f.Result = "MISS"
			if t.met(r) {
				f.Result = "PASS"
			}
		}
	}
	b.figures = append(b.figures, f)
}

// skip records a figure that could not be measured, and why.
func (b *bench) skip(phase, name, unit string, t *target, why string) {
	b.figures = append(b.figures, figure{Phase: phase, Name: name, Unit: unit, Target: t, Result: "SKIP", Comment: why})
}

func formatValue(v float64, unit string) string {
	switch unit {
	case "ms":
		return strconv.FormatFloat(v, 'f', 3, 64)
	case "ns/op":
		return strconv.FormatFloat(v, 'f', 1, 64)
	case "MiB", "MB":
		return strconv.FormatFloat(v, 'f', 1, 64)
	case "ratio", "s":
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

// writeTable prints the report as a plain aligned table.
func writeTable(w io.Writer, figs []figure) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PHASE\tFIGURE\tVALUE\tUNIT\tTARGET\tRATIO\tRESULT")
	for _, f := range figs {
		value, tgt, ratio := "-", "", ""
		if f.Value != nil {
			value = formatValue(*f.Value, f.Unit)
		}
		if f.Target != nil {
			tgt = f.Target.String()
		}
		if f.Ratio != nil {
			ratio = fmt.Sprintf("%.2f× %s", *f.Ratio, f.RatioOf)
		}
		result := f.Result
		if f.Comment != "" {
			result += " (" + f.Comment + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Phase, f.Name, value, f.Unit, tgt, ratio, result)
	}
	tw.Flush()
}

// writeJSON writes the figures with what they were measured on.
func writeJSON(path string, opts *options, started time.Time, figs []figure) error {
	doc := struct {
		Started   time.Time `json:"started"`
		URL       string    `json:"url"`
		Berth     string    `json:"berth,omitempty"`
		BlobSize  int64     `json:"blob_size"`
		ChunkSize int64     `json:"chunk_size"`
		Duration  string    `json:"duration"`
		CPUs      int       `json:"cpus"`
		GoVersion string    `json:"go_version"`
		Figures   []figure  `json:"figures"`
	}{started, opts.url, opts.berthPath, opts.blobSize, opts.chunkSize, opts.duration.String(),
		runtime.NumCPU(), runtime.Version(), figs}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<=" readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
