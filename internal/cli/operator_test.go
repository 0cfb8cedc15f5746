package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
)

// TestOperatorTokenImportExportAgainstAServer runs the console's commands
// against a real server: an operator and their one-time link, a token for
// them that is printed once and listed by prefix, a CSV import with a dry
// run, bad cells, the import with sending and its progress bar, and the
// export.
func TestOperatorTokenImportExportAgainstAServer(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	url, token := s.URL, s.AdminToken
	env := map[string]string{envURL: url, envToken: token}
	cli := func(args ...string) result {
		t.Helper()
		r := runCLI(t, env, "", args...)
		if strings.Contains(r.all(), token) {
			t.Fatalf("%v printed the admin token", args)
		}
		return r
	}

	r := cli("operator", "add", "ada", "--role", "csr")
	if r.err != nil || !strings.Contains(r.stdout, url+"/console/set-password/avp_") {
		t.Fatalf("operator add: %v %q", r.err, r.stdout)
	}
	if r := cli("operator", "add", "bob", "--role", "root"); r.err == nil || !strings.Contains(r.err.Error(), "role") {
		t.Fatalf("a bad role: %v", r.err)
	}
	if r := cli("operator", "list"); r.err != nil || !strings.Contains(r.stdout, "ada") || !strings.Contains(r.stdout, "no password yet") {
		t.Fatalf("operator list: %v %q", r.err, r.stdout)
	}

	r = cli("token", "create", "laptop", "--operator", "ada")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	opToken := lines[len(lines)-1]
	if r.err != nil || !strings.HasPrefix(opToken, "ava_") {
		t.Fatalf("token create: %v %q", r.err, r.stdout)
	}
	r = cli("token", "list")
	if r.err != nil || strings.Contains(r.stdout, opToken) || !strings.Contains(r.stdout, opToken[:10]) {
		t.Fatalf("token list must show the prefix only: %v %q", r.err, r.stdout)
	}
	// The operator's token works as the operator: a csr reads but may not configure.
	asAda := runCLI(t, map[string]string{envURL: url, envToken: opToken}, "", "group", "create", "support")
	if asAda.err == nil || !strings.Contains(asAda.err.Error(), "csr") {
		t.Fatalf("a csr's token created a group: %v", asAda.err)
	}

	if r := cli("group", "create", "sales"); r.err != nil {
		t.Fatal(r.err)
	}
	csv := filepath.Join(t.TempDir(), "staff.csv")
	os.WriteFile(csv, []byte("Full name;Mobile number;E-mail\nAda Lovelace;+39 333 123 4567;ada@example.com\nBad;12;\nCharles Babbage;+39 333 765 4321;\n"), 0o644)
	r = cli("import", csv, "--group", "sales", "--dry-run")
	if r.err != nil || !strings.Contains(r.stdout, "2 to create") || !strings.Contains(r.stdout, "mobile number") || !strings.Contains(r.stdout, "nothing imported") {
		t.Fatalf("dry run: %v %q", r.err, r.stdout)
	}
	if as, _ := s.App.Domain.Accounts.List(context.Background(), "", "", "", 10, 0, activation.Caller{OrgID: model.DefaultOrgID}); len(as) != 0 {
		t.Fatalf("the dry run imported %d accounts", len(as))
	}
	r = cli("import", csv, "--group", "sales", "--send", "sms")
	if r.err != nil || !strings.Contains(r.stdout, "2 created, 2 sent") {
		t.Fatalf("import: %v %q %q", r.err, r.stdout, r.stderr)
	}
	// Standard error is no terminal here: plain progress lines, for logs.
	if !strings.Contains(r.stderr, "sent 2/2\n") || strings.Contains(r.stderr, "\r") {
		t.Errorf("no plain progress line on stderr: %q", r.stderr)
	}
	if r := cli("import", csv, "--group", "sales"); r.err != nil || !strings.Contains(r.stdout, "0 to create, 2 already exist") {
		t.Fatalf("re-import: %v %q", r.err, r.stdout)
	}
	r = cli("export", "--status", "invited")
	if r.err != nil || strings.Count(r.stdout, "\n") != 3 || !strings.Contains(r.stdout, "Charles Babbage,+393337654321") {
		t.Fatalf("export: %v %q", r.err, r.stdout)
	}
	if r := cli("token", "revoke", "2"); r.err != nil {
		t.Fatalf("token revoke: %v", r.err)
	}
	if r := runCLI(t, map[string]string{envURL: url, envToken: opToken}, "", "group", "list"); r.err == nil {
		t.Fatal("a revoked token still works")
	}
	if r := cli("operator", "disable", "ada"); r.err != nil || !strings.Contains(r.stdout, "disabled") {
		t.Fatalf("operator disable: %v %q", r.err, r.stdout)
	}
}
