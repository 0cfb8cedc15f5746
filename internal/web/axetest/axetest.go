// Package axetest runs axe-core, the accessibility checker, on a page a
// browser test has open, and fails the test on any violation. axe-core
// comes from npm: .ci/run installs it under .ci/node; a test outside CI
// without it skips, and under CI=true fails.
package axetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// script is axe-core's browser build, relative to the repository's root.
const script = ".ci/node/node_modules/axe-core/axe.min.js"

var (
	once    sync.Once
	source  string
	errRead error
)

// load reads axe.min.js once per test binary.
func load() (string, error) {
	once.Do(func() {
		_, here, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(here), "..", "..", "..")
		b, err := os.ReadFile(filepath.Join(root, script))
		source, errRead = string(b), err
	})
	return source, errRead
}

// Need skips t, or fails it under CI=true, when axe-core is not installed.
// Call it before starting a browser, so a skip costs nothing.
func Need(t testing.TB) {
	t.Helper()
	if _, err := load(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is required in CI (.ci/run installs it): %v", err)
		}
		t.Skipf("skipping the accessibility check: axe-core not found (npm install --prefix .ci/node axe-core, as .ci/run does); CI=true makes this a failure: %v", err)
	}
}

// Available reports whether axe-core is installed. Without it, it fails t
// under CI=true, and otherwise logs that the accessibility checks are
// skipped: for a test that checks more than accessibility.
func Available(t testing.TB) bool {
	t.Helper()
	if _, err := load(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is required in CI (.ci/run installs it): %v", err)
		}
		t.Logf("skipping the accessibility checks: axe-core not found (npm install --prefix .ci/node axe-core, as .ci/run does); CI=true makes this a failure: %v", err)
		return false
	}
	return true
}

// Violation is one rule axe-core found broken, with the elements that break it.
type Violation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s):", v.ID, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// Run injects axe-core into the page open in ctx, runs every rule it runs
// by default, and returns the violations. The page's scripts must be
// enabled in the tab; the page's own Content-Security-Policy does not
// apply to what the test evaluates.
func Run(ctx context.Context) ([]Violation, error) {
	src, err := load()
	if err != nil {
		return nil, err
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+";\ntypeof axe === 'object'")); err != nil {
		return nil, fmt.Errorf("injecting axe-core: %w", err)
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary}))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("running axe-core: %w", err)
	}
	return vs, nil
}

// Check runs axe-core on the page open in ctx and fails t with each
// violation's id and elements. what names the page in the failure.
func Check(t testing.TB, ctx context.Context, what string) {
	t.Helper()
	vs, err := Run(ctx)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, v := range vs {
		t.Errorf("%s: axe-core violation %s", what, v)
	}
}
