package cli

import (
	"fmt"
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
