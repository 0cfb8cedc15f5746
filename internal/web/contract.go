package web

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
)

// What the API's contract (its OpenAPI document) promises of every route
// besides its own work: a method a path does not take answers 405 with
// Allow, a body of another media type 415, and an unknown path 404.

// unsupportedMediaType is a 415 answer: the body's Content-Type is not one
// the route takes.
type unsupportedMediaType struct {
	got  string
	want []string
}

func (e *unsupportedMediaType) Error() string {
	want := "Content-Type: " + strings.Join(e.want, " or ")
	if e.got == "" {
		return "the request has a body but no Content-Type: send " + want
	}
	return fmt.Sprintf("the body's Content-Type is %q: send %s", e.got, want)
}

// requireMediaType refuses a request whose Content-Type is not one of
// want (parameters such as charset aside).
func requireMediaType(r *http.Request, want ...string) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(want, strings.ToLower(mt)) {
		return &unsupportedMediaType{got: ct, want: want}
	}
	return nil
}

// csvMediaTypes are the media types the import upload takes.
var csvMediaTypes = []string{"text/csv", "text/plain", "application/csv"}

// noRoute answers an API request that no route took: 405 with Allow when
// the path is a route's with other methods, else 404.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	if allow := s.allowed(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("%s does not take %s: it takes %s", r.URL.Path, r.Method, strings.Join(allow, ", ")), "")
		return
	}
	writeJSONError(w, http.StatusNotFound, "no_route", "no API route "+r.Method+" "+r.URL.Path, "")
}

// allowed lists the methods some route serves on r's path.
func (s *Server) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != apiCatchAll {
			out = append(out, m)
		}
	}
	return out
}

// apiCatchAll is the pattern of what no API route takes.
const apiCatchAll = "/api/"

// JSONBodyRoutes lists the routes that take a JSON body, for tests
// walking them.
func (s *Server) JSONBodyRoutes() []RouteInfo {
	var out []RouteInfo
	for i, rt := range s.routes {
		if rt.body != nil {
			out = append(out, s.Routes()[i])
		}
	}
	return out
}
