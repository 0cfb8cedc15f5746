package model_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
)

// bareLiteralsAllowed are the places outside internal/model where a string
// literal spelling a role or an import state is something else, by file
// (from the module's root) and value, each with why. The i18n catalogue
// (internal/i18n/locales) and the HTML templates are not Go and are not
// walked.
var bareLiteralsAllowed = map[string]map[string]string{
	"bench/load/links.go": {
		"sending": "a message state in the API's query, from a load driver that speaks only the wire",
	},
	"internal/activation/import_jobs.go": {
		"done": "a log attribute: the rows a resumed import had done",
	},
	"internal/activation/imports.go": {
		"importing": "the verb of an error message (importing: ...), not a state",
	},
	"internal/messaging/adapter.go": {
		"failed": "a send's outcome (messaging.OutcomeFailed), not an import state",
	},
	"internal/messaging/worker.go": {
		"failed": "a log attribute of the delivery summary: the sends that failed since the last",
	},
	"internal/web/console/flash.go": {
		"importing": "a flash message's name in a console redirect: the import goes on as a job",
	},
	"internal/messaging/twilio/twilio.go": {
		"failed": "a message status in Twilio's words",
	},
	"internal/messaging/vonage/vonage.go": {
		"failed": "a delivery receipt status in Vonage's words",
	},
}

// TestRolesAndImportStatesAreNamedByTheirConstants walks every non-test Go
// file of the module and fails on a string literal that spells a role or
// an import state: those are named by model's constants (model.RoleAdmin,
// model.ImportDone, ...), which are the only place the strings are
// written, so a misspelt one cannot compile. Tests may still write the
// strings where they check the wire.
func TestRolesAndImportStatesAreNamedByTheirConstants(t *testing.T) {
	values := map[string]string{}
	for _, r := range model.Roles {
		values[string(r)] = "model.Role"
	}
	for _, s := range []model.ImportState{model.ImportChecking, model.ImportPreviewed, model.ImportImporting, model.ImportSending,
		model.ImportDone, model.ImportFailed, model.ImportCancelled} {
		values[string(s)] = "model.ImportState"
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module's root: %v", err)
	}
	used := map[string]bool{}
	files := 0
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if ast.IsGenerated(f) { // the client generated from the OpenAPI document has the document's own constants, as an integrator's would
			return nil
		}
		files++
		inModel := filepath.Dir(rel) == "internal/model"
		ast.Inspect(f, func(n ast.Node) bool {
			if g, ok := n.(*ast.GenDecl); ok && inModel && g.Tok == token.CONST {
				return false // the constants themselves
			}
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil || values[v] == "" {
				return true
			}
			if why := bareLiteralsAllowed[rel][v]; why != "" {
				used[rel+" "+v] = true
				return true
			}
			t.Errorf("%s: the bare string %q: name it by its %s constant", fset.Position(lit.Pos()), v, values[v])
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("only %d Go files walked from %s", files, root)
	}
	for file, vs := range bareLiteralsAllowed {
		for v := range vs {
			if !used[file+" "+v] {
				t.Errorf("bareLiteralsAllowed lists %q in %s, which no longer has it: remove the entry", v, file)
			}
		}
	}
}
