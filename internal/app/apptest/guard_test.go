package apptest_test

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
)

const module = "github.com/activator-voip/activator"

// mayCallNew lists the tests that build an App with app.New themselves, as
// "file:function", each with why the harness cannot serve it: they test
// what New does before Run or instead of it.
var mayCallNew = map[string]string{
	"internal/app/app_test.go:TestTLSNeedsBothFiles": "New must refuse a certificate without its key; Start fails the test on any error of New",
	"internal/app/app_test.go:TestReadyFileNamesTheChosenPorts": "the ready file must not exist between New and Run and must be gone after Run; Start waits for it, " +
		"so the test needs New and Run apart",
}

// TestTestsStartServersThroughTheHarness keeps every in-process test of a
// whole server on Start: a test file that calls app.New outside
// mayCallNew fails, so the next test does not write a seventh way of
// starting activator. And the harness stays out of the binary: only test
// files import apptest.
func TestTestsStartServersThroughTheHarness(t *testing.T) {
	root := moduleRoot(t)
	seen := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		isTest := strings.HasSuffix(rel, "_test.go")
		appName := ""
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == module+"/internal/app/apptest" && !isTest {
				t.Errorf("%s imports apptest: only test files may", rel)
			}
			if p == module+"/internal/app" {
				appName = "app"
				if imp.Name != nil {
					appName = imp.Name.Name
				}
			}
		}
		if !isTest || strings.HasPrefix(rel, "internal/app/apptest/") {
			return nil
		}
		inApp := f.Name.Name == "app" // internal/app's own internal tests call New unqualified
		if appName == "" && !inApp {
			return nil
		}
		for _, decl := range f.Decls {
			fn, _ := decl.(*ast.FuncDecl)
			ast.Inspect(decl, func(n ast.Node) bool {
				callsNew := false
				switch x := n.(type) {
				case *ast.SelectorExpr:
					id, ok := x.X.(*ast.Ident)
					callsNew = ok && id.Name == appName && x.Sel.Name == "New"
				case *ast.CallExpr:
					id, ok := x.Fun.(*ast.Ident)
					callsNew = inApp && ok && id.Name == "New"
				}
				if !callsNew {
					return true
				}
				name := "package level"
				if fn != nil {
					name = fn.Name.Name
				}
				where := rel + ":" + name
				seen[where] = true
				if _, ok := mayCallNew[where]; !ok {
					t.Errorf("%s:%d (%s) calls app.New: start a whole server with apptest.Start, or list the test in mayCallNew with why it cannot",
						rel, fset.Position(n.Pos()).Line, name)
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for where := range mayCallNew {
		if !seen[where] {
			t.Errorf("mayCallNew lists %s, which no longer calls app.New: take it off the list", where)
		}
	}
}

// moduleRoot is the folder of go.mod above this package's.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if !strings.HasPrefix(string(b), "module "+module+"\n") {
				t.Fatalf("%s/go.mod is not activator's", dir)
			}
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}
