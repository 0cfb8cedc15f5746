package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/app/apptest"
)

// TestProviderSetsUpAnOrganisation runs the provider's set-up against a
// real server, as docs/configuration.md shows it: an organisation with its
// SIP domain and base URL, its admin and their token made acting inside it
// (--org, and $ACTIVATOR_ORG), an import and an export inside it, then the
// listing, counts, suspension and the refusals, each with a clear error.
func TestProviderSetsUpAnOrganisation(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	env := map[string]string{envURL: s.URL, envToken: s.AdminToken}
	cli := func(args ...string) result {
		t.Helper()
		r := runCLI(t, env, "", args...)
		if strings.Contains(r.all(), s.AdminToken) {
			t.Fatalf("%v printed the provider's token", args)
		}
		return r
	}
	r := cli("org", "create", "ACME Corp", "--slug", "acme", "--sip-domain", "sip.acme.example", "--base-url", "https://acme.activate.example")
	if r.err != nil || !strings.Contains(r.stdout, "acme") || !strings.Contains(r.stdout, "ACME Corp") {
		t.Fatalf("org create: %v %q", r.err, r.stdout)
	}
	if r := cli("org", "create", "No slug"); r.err == nil || !strings.Contains(r.err.Error(), "--slug") {
		t.Errorf("org create without --slug: %v", r.err)
	}
	if r := cli("org", "create", "Bad", "--slug", "Bad Slug"); r.err == nil || !strings.Contains(r.err.Error(), "field slug") {
		t.Errorf("org create with a bad slug: %v", r.err)
	}
	if r := cli("--org", "acme", "settings", "show"); r.err != nil || !strings.Contains(r.stdout, "sip.acme.example") || !strings.Contains(r.stdout, "https://acme.activate.example") {
		t.Fatalf("acme's settings: %v %q", r.err, r.stdout)
	}
	r = cli("--org", "acme", "operator", "add", "acme-admin", "--role", "admin")
	if r.err != nil || !strings.Contains(r.stdout, "https://acme.activate.example/console/set-password/avp_") {
		t.Fatalf("acme's admin: %v %q", r.err, r.stdout)
	}
	r = cli("--org", "acme", "token", "create", "laptop", "--operator", "acme-admin")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	acmeToken := lines[len(lines)-1]
	if r.err != nil || !strings.HasPrefix(acmeToken, "ava_") {
		t.Fatalf("acme's token: %v %q", r.err, r.stdout)
	}
	// The organisation's admin works in it with their own token.
	asAcme := map[string]string{envURL: s.URL, envToken: acmeToken}
	if r := runCLI(t, asAcme, "", "group", "create", "sales"); r.err != nil {
		t.Fatal(r.err)
	}
	csv := filepath.Join(t.TempDir(), "staff.csv")
	os.WriteFile(csv, []byte("Full name;E-mail\nAda Lovelace;ada@acme.example\nGrace Hopper;grace@acme.example\n"), 0o644)
	// The provider imports inside acme through $ACTIVATOR_ORG: the upload
	// names the organisation as every other request does.
	inAcme := map[string]string{envURL: s.URL, envToken: s.AdminToken, envOrg: "acme"}
	if r := runCLI(t, inAcme, "", "import", csv, "--group", "sales"); r.err != nil || !strings.Contains(r.stdout, "2 created") {
		t.Fatalf("import inside acme: %v %q %q", r.err, r.stdout, r.stderr)
	}
	out := filepath.Join(t.TempDir(), "acme.csv")
	if r := runCLI(t, inAcme, "", "export", "-f", out); r.err != nil {
		t.Fatalf("export inside acme: %v %q", r.err, r.stderr)
	}
	if b, _ := os.ReadFile(out); strings.Count(string(b), "@acme.example") != 2 {
		t.Errorf("acme's export: %q", b)
	}
	if r := cli("account", "list"); r.err != nil || strings.Contains(r.stdout, "Ada Lovelace") {
		t.Errorf("the default organisation lists acme's accounts: %v %q", r.err, r.stdout)
	}
	if r := runCLI(t, asAcme, "", "--org", "default", "group", "list"); r.err == nil || !strings.Contains(r.err.Error(), "provider admin") {
		t.Errorf("acme's admin acting in another organisation: %v", r.err)
	}
	if r := runCLI(t, asAcme, "", "org", "list"); r.err == nil || !strings.Contains(r.err.Error(), "provider") {
		t.Errorf("acme's admin listing organisations: %v", r.err)
	}

	if r := cli("org", "list"); r.err != nil || !strings.Contains(r.stdout, "acme") || !strings.Contains(r.stdout, "default") {
		t.Fatalf("org list: %v %q", r.err, r.stdout)
	}
	if r := cli("org", "stats", "acme"); r.err != nil || !strings.Contains(r.stdout, "new 2") {
		t.Errorf("org stats: %v %q", r.err, r.stdout)
	}
	if r := cli("org", "suspend", "acme"); r.err != nil || !strings.Contains(r.stdout, "suspended") {
		t.Fatalf("org suspend: %v %q", r.err, r.stdout)
	}
	if r := runCLI(t, asAcme, "", "group", "list"); r.err == nil || !strings.Contains(r.err.Error(), "suspended") {
		t.Errorf("a suspended organisation's admin: %v", r.err)
	}
	if r := cli("org", "resume", "acme"); r.err != nil {
		t.Fatal(r.err)
	}
	if r := runCLI(t, asAcme, "", "group", "list"); r.err != nil {
		t.Errorf("after resuming: %v", r.err)
	}
	if r := cli("org", "edit", "acme"); r.err == nil || !strings.Contains(r.err.Error(), "nothing to change") {
		t.Errorf("org edit with no flags: %v", r.err)
	}
	if r := cli("org", "edit", "acme", "--name", "ACME Europe"); r.err != nil || !strings.Contains(r.stdout, "ACME Europe") {
		t.Errorf("org edit: %v %q", r.err, r.stdout)
	}
	// A quota the provider sets is what the organisation's admin meets.
	if r := cli("org", "edit", "acme", "--max-accounts", "2"); r.err != nil || !strings.Contains(r.stdout, "most accounts") || !strings.Contains(r.stdout, " 2") {
		t.Errorf("org edit --max-accounts: %v %q", r.err, r.stdout)
	}
	if r := runCLI(t, asAcme, "", "account", "create", "--group", "sales", "--name", "Alan Turing", "--email", "alan@acme.example"); r.err == nil || !strings.Contains(r.err.Error(), "max_accounts") {
		t.Errorf("an account past acme's quota: %v", r.err)
	}
	if r := cli("org", "delete", "acme"); r.err == nil || !strings.Contains(r.err.Error(), "accounts") {
		t.Errorf("deleting an organisation with accounts: %v", r.err)
	}
	if r := cli("org", "show", "no-such-org"); r.err == nil || !strings.Contains(r.err.Error(), "no organisation") {
		t.Errorf("org show of an unknown one: %v", r.err)
	}
}

// TestOrgEditAllowCallsTo: the provider lets one organisation's accounts
// call another's (org edit --allow-calls-to), shown by org show; an
// unknown slug is refused naming the field, and "" takes the permission
// back.
func TestOrgEditAllowCallsTo(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	env := map[string]string{envURL: s.URL, envToken: s.AdminToken}
	for _, o := range [][]string{{"ACME Corp", "acme", "acme.example"}, {"Beta", "beta", "beta.example"}, {"Gamma", "gamma", "gamma.example"}} {
		if r := runCLI(t, env, "", "org", "create", o[0], "--slug", o[1], "--sip-domain", o[2]); r.err != nil {
			t.Fatal(r.err)
		}
	}
	if r := runCLI(t, env, "", "org", "create", "Delta", "--slug", "delta", "--sip-domain", "ACME.example"); r.err == nil || !strings.Contains(r.err.Error(), "another organisation's") ||
		!strings.Contains(r.err.Error(), "field sip_domain") {
		t.Errorf("org create with acme's SIP domain: want a refusal on sip_domain, got %v", r.err)
	}
	if r := runCLI(t, env, "", "org", "edit", "acme", "--allow-calls-to", "beta,gamma"); r.err != nil || !strings.Contains(r.stdout, "beta, gamma") {
		t.Fatalf("org edit --allow-calls-to beta,gamma: %v %q", r.err, r.stdout)
	}
	if r := runCLI(t, env, "", "org", "show", "acme", "-o", "json"); r.err != nil || !strings.Contains(strings.Join(strings.Fields(r.stdout), ""), `"allow_calls_to":["beta","gamma"]`) {
		t.Errorf("org show acme: %v %q", r.err, r.stdout)
	}
	if r := runCLI(t, env, "", "org", "edit", "acme", "--allow-calls-to", "nobody"); r.err == nil || !strings.Contains(r.err.Error(), "allow_calls_to") {
		t.Errorf("org edit --allow-calls-to nobody: want a refusal on allow_calls_to, got %v", r.err)
	}
	if r := runCLI(t, env, "", "org", "edit", "acme", "--allow-calls-to", ""); r.err != nil || !strings.Contains(r.stdout, "its own accounts only") {
		t.Errorf("org edit --allow-calls-to \"\": %v %q", r.err, r.stdout)
	}
}
