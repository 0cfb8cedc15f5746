package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportChecksItIsWhole: "export -f FILE" writes FILE only when the
// server's export arrived whole (it parses and holds the rows the trailer
// counts); a cut export, or one whose count disagrees, exits non-zero
// and leaves no file, partial or otherwise; on standard output a cut
// export is reported as incomplete.
func TestExportChecksItIsWhole(t *testing.T) {
	const rows = 2500
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode := r.URL.Query().Get("q")
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Trailer", rowsTrailer)
		fmt.Fprintln(w, "full name,mobile number,e-mail")
		for i := range rows {
			if mode == "cut" && i == rows/2 {
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler)
			}
			fmt.Fprintf(w, "User %d,+39333%07d,\"user%d@example.com\"\n", i, i, i)
		}
		n := rows
		if mode == "miscount" {
			n++
		}
		w.Header().Set(rowsTrailer, fmt.Sprint(n))
	}))
	defer srv.Close()
	env := map[string]string{envURL: srv.URL, envToken: testToken}
	dir := t.TempDir()

	file := filepath.Join(dir, "accounts.csv")
	r := runCLI(t, env, "", "export", "-f", file)
	b, err := os.ReadFile(file)
	if r.err != nil || err != nil || strings.Count(string(b), "\n") != rows+1 || !strings.Contains(r.stderr, fmt.Sprintf("exported %d accounts", rows)) {
		t.Fatalf("a whole export: want %d rows in the file and the count on stderr; got %d lines, %q, %v, %v", rows, strings.Count(string(b), "\n"), r.stderr, r.err, err)
	}
	for _, mode := range []string{"cut", "miscount"} {
		file := filepath.Join(dir, mode+".csv")
		r := runCLI(t, env, "", "export", "--search", mode, "-f", file)
		if r.err == nil || !strings.Contains(r.err.Error(), "cut short") || !strings.Contains(r.err.Error(), "was not written") {
			t.Errorf("%s: want an error saying the export was cut short and not written, got %v", mode, r.err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("%s: want only the whole export's file in the folder, got %v", mode, names)
		}
	}
	r = runCLI(t, env, "", "export", "--search", "cut")
	if r.err == nil || !strings.Contains(r.err.Error(), "incomplete") || !strings.Contains(r.stdout, "User 0,") {
		t.Errorf("cut, to standard output: want the rows received and an error saying they are incomplete, got %v", r.err)
	}
	if r := runCLI(t, env, "", "export", "audit", "--group", "sales"); r.err == nil {
		t.Errorf("export audit --group: want an error")
	}
	if r := runCLI(t, env, "", "export", "people"); r.err == nil {
		t.Errorf("export people: want an error")
	}
}

// TestExportJobWaitsAndDownloads: "export --job" starts the job, waits
// while it runs, then downloads its file as a streamed export (checked
// whole); a failed job exits non-zero with its error.
func TestExportJobWaitsAndDownloads(t *testing.T) {
	var polls int
	var started string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Method + " " + r.URL.Path {
		case "POST /api/v1/exports":
			b, _ := io.ReadAll(r.Body)
			started = string(b)
			w.WriteHeader(202)
			fmt.Fprint(w, `{"id":5,"kind":"accounts","state":"running","rows":0}`)
		case "GET /api/v1/exports/5":
			if polls++; polls < 2 {
				fmt.Fprint(w, `{"id":5,"kind":"accounts","state":"running","rows":1}`)
				return
			}
			fmt.Fprint(w, `{"id":5,"kind":"accounts","state":"done","rows":3}`)
		case "GET /api/v1/exports/5/file":
			w.Header().Set("Content-Type", "text/csv")
			w.Header().Set("Trailer", rowsTrailer)
			fmt.Fprint(w, "full name\nA\nB\nC\n")
			w.Header().Set(rowsTrailer, "3")
		case "GET /api/v1/exports/6":
			fmt.Fprint(w, `{"id":6,"kind":"accounts","state":"failed","rows":7,"last_error":"the server stopped"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	env := map[string]string{envURL: srv.URL, envToken: testToken}
	file := filepath.Join(t.TempDir(), "job.csv")
	r := runCLI(t, env, "", "export", "--job", "--status", "activated", "-f", file)
	b, _ := os.ReadFile(file)
	if r.err != nil || string(b) != "full name\nA\nB\nC\n" || !strings.Contains(r.stderr, "export job 5 started") || !strings.Contains(started, `"status":"activated"`) {
		t.Fatalf("--job: want the job's file and its start on stderr; got %q, %q, %v (sent %s)", b, r.stderr, r.err, started)
	}
	if r := runCLI(t, env, "", "export", "--job-id", "6"); r.err == nil || !strings.Contains(r.err.Error(), "the server stopped") {
		t.Errorf("a failed job: want its error, got %v", r.err)
	}
}
