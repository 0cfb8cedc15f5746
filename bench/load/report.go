package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// report reads the results bench/run.sh left in a folder, one file per
// measurement (PATH.ENGINE.SIDE.json, or PATH.ENGINE.error when a path
// failed), and prints the table with the targets of issue 10. It fails
// when a path failed or a row is missing, never because a target is
// missed: the machine running it decides the figures.

// row is one path on one engine: what is measured and what it must reach.
type row struct {
	path, unit  string
	ceilingName string  // "" when the row has no ceiling: its target is absolute
	minRatio    float64 // of the ceiling; 0: none
	maxP99      float64 // ms; 0: none
	minValue    float64 // absolute floor; 0: none
	maxValue    float64 // absolute ceiling (memory); 0: none
	latency     bool    // the figure is the median latency (ms), not a rate
}

var rows = []row{
	{path: "landing", unit: "req/s", ceilingName: "bare handler"},
	{path: "redeem", unit: "req/s", ceilingName: "bare handler", minRatio: 0.35, maxP99: 50},
	{path: "import", unit: "rows/s", ceilingName: "raw INSERT", minRatio: 0.25},
	{path: "queue", unit: "msg/s"},
	{path: "sip", unit: "REGISTER/s", ceilingName: "Kamailio", minRatio: 0.8},
	{path: "memory", unit: "MB", maxValue: 150},
	// Issue 15, at BENCH_ACCOUNTS accounts: one request at a time, so the
	// figures are each request's own latency.
	{path: "export", unit: "rows/s", minValue: 50000},
	{path: "first-page", unit: "ms p50", maxP99: 20, latency: true},
	{path: "deep-page", unit: "ms p50", maxP99: 20, latency: true},
	{path: "search", unit: "ms p50", maxP99: 20, latency: true},
	{path: "filter", unit: "ms p50", maxP99: 20, latency: true},
	{path: "dashboard", unit: "ms p50", maxP99: 20, latency: true},
	{path: "steady-memory", unit: "MB", maxValue: 150},
	{path: "idle-cpu", unit: "% of a core"},
}

// target is the row's target on engine: landing's ratio is set for SQLite
// only, the queue's floor differs by engine.
func (r row) target(engine string) row {
	switch {
	case r.path == "landing" && engine == "sqlite":
		r.minRatio = 0.6
	case r.path == "queue" && engine == "sqlite":
		r.minValue = 2000
	case r.path == "queue" && engine == "postgres":
		r.minValue = 1000
	}
	return r
}

type measured struct {
	Rate   float64 `json:"rate"`
	Errors int64   `json:"errors"` // requests that failed, where a few may (SIP at saturation)
	Value  float64 `json:"value"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
	Note   string  `json:"note"`
	// Zero says a figure of 0 was measured (idle CPU), not missing.
	Zero    bool `json:"zero"`
	latency bool
}

func (m *measured) figure() float64 {
	if m.latency {
		return m.P50
	}
	if m.Value != 0 {
		return m.Value
	}
	return m.Rate
}

func runReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	var (
		dir     = fs.String("results", "", "the folder of results (required)")
		engines = fs.String("engines", "sqlite,postgres", "engines that were measured")
		paths   = fs.String("paths", "landing,redeem,import,queue,sip,memory,export,first-page,deep-page,search,filter,dashboard,steady-memory,idle-cpu", "paths that were measured")
		labels  = fs.String("labels", "", "path=label pairs shown instead of the path name (comma-separated)")
	)
	fs.Parse(args)
	if *dir == "" {
		return errors.New("report needs --results")
	}
	label := map[string]string{}
	for _, kv := range strings.Split(*labels, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			label[k] = v
		}
	}
	wanted := map[string]bool{}
	for _, p := range strings.Split(*paths, ",") {
		wanted[strings.TrimSpace(p)] = true
	}
	read := func(name string, latency bool) (*measured, error) {
		b, err := os.ReadFile(filepath.Join(*dir, name))
		if err != nil {
			return nil, err
		}
		m := measured{latency: latency}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if m.figure() <= 0 && !m.Zero {
			return nil, fmt.Errorf("%s: no figure", name)
		}
		return &m, nil
	}
	var problems []string
	fmt.Println("| path | engine | activator | p99 | ceiling | ceiling p99 | ratio | target | met |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, base := range rows {
		if !wanted[base.path] {
			continue
		}
		for _, engine := range strings.Split(*engines, ",") {
			r := base.target(engine)
			name := r.path
			if l, ok := label[r.path]; ok {
				name = l
			}
			cells := []string{name, engine}
			if msg, err := os.ReadFile(filepath.Join(*dir, r.path+"."+engine+".error")); err == nil {
				problems = append(problems, fmt.Sprintf("%s on %s failed: %s", r.path, engine, strings.TrimSpace(string(msg))))
				fmt.Println("| " + strings.Join(append(cells, "FAILED", "", "", "", "", r.describe(), "no"), " | ") + " |")
				continue
			}
			act, err := read(r.path+"."+engine+".activator.json", r.latency)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s on %s: no result (%v)", r.path, engine, err))
				fmt.Println("| " + strings.Join(append(cells, "MISSING", "", "", "", "", r.describe(), "no"), " | ") + " |")
				continue
			}
			cells = append(cells, num(act.figure())+" "+r.unit+failed(act), ms(act.P99))
			met := true
			ratio := "–"
			if r.ceilingName != "" {
				ceil, err := read(r.path+"."+engine+".ceiling.json", r.latency)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s on %s: no ceiling result (%v)", r.path, engine, err))
					cells = append(cells, "MISSING", "", "")
					met = false
				} else {
					q := act.figure() / ceil.figure()
					ratio = strconv.FormatFloat(q, 'f', 2, 64)
					cells = append(cells, num(ceil.figure())+" "+r.unit+" ("+r.ceilingName+")"+failed(ceil), ms(ceil.P99), ratio)
					if r.minRatio > 0 && q < r.minRatio {
						met = false
					}
				}
			} else {
				cells = append(cells, "–", "–", ratio)
			}
			if r.maxP99 > 0 && act.P99 >= r.maxP99 {
				met = false
			}
			if r.minValue > 0 && act.figure() < r.minValue {
				met = false
			}
			if r.maxValue > 0 && act.figure() > r.maxValue {
				met = false
			}
			verdict := "yes"
			switch {
			case r.describe() == "–":
				verdict = "–"
			case !met:
				verdict = "no"
			}
			fmt.Println("| " + strings.Join(append(cells, r.describe(), verdict), " | ") + " |")
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "bench: "+p)
		}
		return fmt.Errorf("%d of the table's rows failed or are missing", len(problems))
	}
	return nil
}

func (r row) describe() string {
	var parts []string
	if r.minRatio > 0 {
		parts = append(parts, "≥ "+strconv.FormatFloat(r.minRatio, 'f', 2, 64)+" of ceiling")
	}
	if r.maxP99 > 0 {
		parts = append(parts, "p99 < "+strconv.FormatFloat(r.maxP99, 'f', 0, 64)+" ms")
	}
	if r.minValue > 0 {
		parts = append(parts, "≥ "+num(r.minValue)+" "+r.unit)
	}
	if r.maxValue > 0 {
		parts = append(parts, "≤ "+num(r.maxValue)+" "+r.unit)
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, ", ")
}

// num writes v with thousands separators, and one decimal below 100.
func num(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func failed(m *measured) string {
	if m.Errors == 0 {
		return ""
	}
	return ", " + strconv.FormatInt(m.Errors, 10) + " failed"
}

func ms(v float64) string {
	if v == 0 {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
}
