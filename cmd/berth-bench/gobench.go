package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
)

// goBenchTargets are the targets of Go benchmarks, by benchmark name
// without sub-benchmark, then by unit.
var goBenchTargets = map[string]map[string]*target{
	// Issue 4: the gate decision with 100 rules.
	"BenchmarkDecide100Rules": {"ns/op": atMost(200), "allocs/op": atMost(0)},
}

// readGoBench turns the output of go test -bench in file into figures, one
// per benchmark line and unit (ns/op, allocs/op where reported, and the
// benchmark's own metrics such as deletions/s; not B/op), so
// that `make bench` prints them in the one table beside their targets.
func readGoBench(file string) ([]figure, error) {
	out, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	figs, err := parseGoBench(out)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return figs, nil
}

func parseGoBench(out []byte) ([]figure, error) {
	var b bench
	phase := "go-bench"
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if pkg, ok := strings.CutPrefix(line, "pkg: "); ok {
			phase = path.Base(strings.TrimSpace(pkg))
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue // not a result line, e.g. a benchmark's own log
		}
		name := trimProcs(fields[0])
		base, _, _ := strings.Cut(name, "/")
		for i := 2; i+1 < len(fields); i += 2 {
			unit := fields[i+1]
			if unit == "B/op" {
				continue // allocs/op says what matters here
			}
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %s %q: %v", name, unit, fields[i], err)
			}
			b.add(phase, strings.TrimPrefix(name, "Benchmark"), v, unit, goBenchTargets[base][unit])
		}
	}
	if len(b.figures) == 0 {
		return nil, fmt.Errorf("no benchmark results")
	}
	return b.figures, nil
}

// trimProcs removes the -GOMAXPROCS suffix go test adds to a benchmark's
// name when GOMAXPROCS is not 1.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}
