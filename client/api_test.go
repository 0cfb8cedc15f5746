package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPublicAPINamesNoInternalPackage type-checks this package as another
// module sees it and fails if an exported name's signature reaches a type of
// an internal package: a client developer's module could call such an API but
// not name what it takes or returns. Types of this package are followed into
// their exported fields (embedded ones too) and methods; types of other public
// packages (net/http, ...) are their owners' business.
func TestPublicAPINamesNoInternalPackage(t *testing.T) {
	pkg := typeCheckSelf(t)
	w := apiWalker{own: pkg, seen: map[*types.Named]bool{}}
	for _, name := range pkg.Scope().Names() {
		obj := pkg.Scope().Lookup(name)
		if !obj.Exported() {
			continue
		}
		w.walk(obj.Type(), name)
	}
	for _, f := range w.found {
		t.Errorf("exported API reaches an internal package: %s", f)
	}
}

// typeCheckSelf type-checks the package's non-test files against the export
// data the go command builds for its imports.
func typeCheckSelf(t *testing.T) *types.Package {
	t.Helper()
	cmd := exec.Command("go", "list", "-export", "-deps", "-json=ImportPath,Export,Dir,GoFiles", ".")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type listed struct {
		ImportPath, Export, Dir string
		GoFiles                 []string
	}
	exports := map[string]string{}
	var self listed // -deps lists the package itself last
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		exports[p.ImportPath] = p.Export
		self = p
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range self.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(self.Dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	lookup := func(path string) (io.ReadCloser, error) {
		if exports[path] == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(exports[path])
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", lookup)}
	pkg, err := conf.Check(self.ImportPath, fset, files, nil)
	if err != nil {
		t.Fatalf("type-checking %s: %v", self.ImportPath, err)
	}
	return pkg
}

// apiWalker collects where exported signatures reach internal packages.
type apiWalker struct {
	own   *types.Package
	seen  map[*types.Named]bool
	found []string
}

func isInternal(path string) bool {
	return strings.HasPrefix(path, "internal/") || strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal")
}

// walk follows typ; at names where it is found, as Go would write a selector.
func (w *apiWalker) walk(typ types.Type, at string) {
	switch t := typ.(type) {
	case *types.Alias:
		w.walk(types.Unalias(t), at)
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() != nil && isInternal(obj.Pkg().Path()) {
			w.found = append(w.found, fmt.Sprintf("%s: %s", at, types.TypeString(t, nil)))
			return
		}
		for i := range t.TypeArgs().Len() {
			w.walk(t.TypeArgs().At(i), at)
		}
		if obj.Pkg() != w.own || w.seen[t] {
			return
		}
		w.seen[t] = true
		w.walk(t.Underlying(), obj.Name())
		for i := range t.NumMethods() {
			if m := t.Method(i); m.Exported() {
				w.walk(m.Type(), obj.Name()+"."+m.Name())
			}
		}
	case *types.Pointer:
		w.walk(t.Elem(), at)
	case *types.Slice:
		w.walk(t.Elem(), at)
	case *types.Array:
		w.walk(t.Elem(), at)
	case *types.Chan:
		w.walk(t.Elem(), at)
	case *types.Map:
		w.walk(t.Key(), at)
		w.walk(t.Elem(), at)
	case *types.Signature:
		for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
			for i := range tup.Len() {
				w.walk(tup.At(i).Type(), at)
			}
		}
	case *types.Struct:
		for i := range t.NumFields() {
			// An embedded field of an unexported type still promotes its
			// exported fields and methods.
			if f := t.Field(i); f.Exported() || f.Embedded() {
				w.walk(f.Type(), at+"."+f.Name())
			}
		}
	case *types.Interface:
		for i := range t.NumEmbeddeds() {
			w.walk(t.EmbeddedType(i), at)
		}
		for i := range t.NumExplicitMethods() {
			if m := t.ExplicitMethod(i); m.Exported() {
				w.walk(m.Type(), at+"."+m.Name())
			}
		}
	case *types.TypeParam:
		w.walk(t.Constraint(), at)
	}
}
