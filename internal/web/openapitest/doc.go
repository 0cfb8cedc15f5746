// Package openapitest holds a client generated from activator's OpenAPI
// document by oapi-codegen (client.gen.go), as an integrator would make
// one, and the tests that drive the live server through it: the document
// is a contract a generated client can keep. Nothing but tests imports it.
//
// After a change to the API, regenerate it with
//
//	ACTIVATOR_REGENERATE=1 go test -run TestGeneratedClientIsCurrent ./internal/web/openapitest/generate/
package openapitest
