package activation

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The domain knows gateway kinds only through internal/messaging's types;
// internal/app chooses the adapters and hands their list to the domain. A
// domain package importing an adapter, even through another package, would
// bring back the per-provider switches a new kind had to be added to. So no
// package but internal/app imports an adapter (the packages under
// internal/messaging/), and this one depends on none. Tests may: they run
// real adapters against stand-ins of their providers.
func TestOnlyTheWiringImportsGatewayAdapters(t *testing.T) {
	const mod = "github.com/activator-voip/activator"
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the imports with")
	}
	out, err := exec.Command(goTool, "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}", mod+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	adapter := func(pkg string) bool { return strings.HasPrefix(pkg, mod+"/internal/messaging/") }
	seen := false
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) != 3 {
			t.Fatalf("go list line %q", line)
		}
		pkg, imports, deps := f[0], strings.Fields(f[1]), strings.Fields(f[2])
		if pkg == mod+"/internal/activation" {
			seen = true
			if i := slices.IndexFunc(deps, adapter); i >= 0 {
				t.Errorf("internal/activation depends on the gateway adapter %s", deps[i])
			}
		}
		if pkg == mod+"/internal/app" || adapter(pkg) {
			continue
		}
		for _, imp := range imports {
			if adapter(imp) {
				t.Errorf("%s imports the gateway adapter %s; only internal/app may (register a kind in internal/app/gateways.go)", pkg, imp)
			}
		}
	}
	if !seen {
		t.Fatal("go list did not list internal/activation")
	}
}
