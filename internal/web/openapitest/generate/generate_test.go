// Package generate makes ../client.gen.go from the served OpenAPI document
// (its test); it is apart from the client's own tests so that a client
// that no longer compiles with them can still be made again.
package generate

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"

	"github.com/activator-voip/activator/internal/app/apptest"
)

// generatedFile is the client oapi-codegen makes from the served document,
// in the package whose tests drive the server through it.
const generatedFile = "../client.gen.go"

// TestGeneratedClientIsCurrent generates the client from the document a
// live server serves and finds it the same as ../client.gen.go: the
// committed client is what the document gives today. With
// ACTIVATOR_REGENERATE=1 it writes the file instead.
func TestGeneratedClientIsCurrent(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	resp, err := http.Get(s.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the document: %d %v", resp.StatusCode, err)
	}
	spec, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("kin-openapi cannot load the document: %v", err)
	}
	if err := spec.Validate(openapi3.NewLoader().Context); err != nil {
		t.Fatalf("the document is not valid OpenAPI 3: %v", err)
	}
	code, err := codegen.Generate(spec, codegen.Configuration{
		PackageName: "openapitest",
		Generate:    codegen.GenerateOptions{Client: true, Models: true},
	})
	if err != nil {
		t.Fatalf("oapi-codegen: %v", err)
	}
	if os.Getenv("ACTIVATOR_REGENERATE") == "1" {
		if err := os.WriteFile(generatedFile, []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	committed, err := os.ReadFile(generatedFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, []byte(code)) {
		t.Fatalf("%s is not what oapi-codegen makes of the served document: regenerate it (see doc.go)", generatedFile)
	}
}
