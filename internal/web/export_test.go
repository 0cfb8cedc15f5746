package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/web/stream"
)

// slowWriter holds each write back a little, so that an answer of many
// writes takes longer than a tiny write timeout however fast the machine.
type slowWriter struct {
	http.ResponseWriter
	delay time.Duration
}

func (w slowWriter) Write(b []byte) (int, error) {
	time.Sleep(w.delay)
	return w.ResponseWriter.Write(b)
}

func (w slowWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestExportOutlivesTheWriteTimeout: an export that takes far longer than
// the server's write timeout (100 ms here, every write held back 2 ms)
// arrives whole: it parses as CSV, holds every account once, and ends
// with the row count trailer. Without the deadline moved for each part,
// the server cut it at the timeout.
func TestExportOutlivesTheWriteTimeout(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
		g, err := s.app.Store.GroupByName(ctx, model.DefaultOrgID, "sales")
		if err != nil {
			t.Fatal(err)
		}
		const n = 12000
		rows := make([]*store.AccountRow, n)
		for i := range rows {
			rows[i] = &store.AccountRow{OrgID: model.DefaultOrgID, Account: model.Account{GroupID: g.ID,
				Username: fmt.Sprint(3000000000 + i), DisplayName: fmt.Sprintf("Export %d", i), Email: fmt.Sprintf("export%d@example.com", i),
				SecurityModel: model.EndToEnd, VirtualNumber: fmt.Sprint(300000 + i), Kind: "wizard", Stage: model.StageNew}}
		}
		if err := s.app.Store.Tx(ctx, func(tx *store.Tx) error {
			return tx.InsertAccounts(ctx, rows, "test", func(*store.AccountRow) string { return "" })
		}); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.app.Web.ServeHTTP(slowWriter{w, 2 * time.Millisecond}, r)
		}))
		srv.Config.WriteTimeout = 100 * time.Millisecond
		srv.Start()
		defer srv.Close()

		for _, path := range []string{"/api/v1/export/accounts", "/api/v1/audit?format=csv"} {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+s.token)
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(resp.Body).ReadAll()
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			took := time.Since(start)
			if err != nil {
				t.Fatalf("%s: the export does not parse after %d records (%s): %v", path, len(recs), took, err)
			}
			if path == "/api/v1/audit?format=csv" {
				if got := resp.Trailer.Get(stream.RowsTrailer); got != fmt.Sprint(len(recs)-1) {
					t.Fatalf("%s: trailer %q for %d entries", path, got, len(recs)-1)
				}
				continue
			}
			if len(recs) != n+1 || resp.Trailer.Get(stream.RowsTrailer) != fmt.Sprint(n) {
				t.Fatalf("%s: want the header and %d rows with trailer %d; got %d records, trailer %q (%s)",
					path, n, n, len(recs), resp.Trailer.Get(stream.RowsTrailer), took)
			}
			seen := map[string]bool{}
			for _, r := range recs[1:] {
				seen[r[8]] = true // username
			}
			if len(seen) != n {
				t.Fatalf("%s: %d distinct usernames, want %d", path, len(seen), n)
			}
			if took < 3*srv.Config.WriteTimeout {
				t.Logf("%s took %s: not much longer than the write timeout", path, took)
			}
		}
	})
}

// TestExportJob: an export started as a job runs on the server, and its
// file, once done, holds every account with the row count trailer; an
// unknown kind is refused naming it, an unknown job is not found.
func TestExportJob(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
		for i := range 30 {
			s.mustDo("POST", "/api/v1/accounts", fmt.Sprintf(`{"group":"sales","name":"Job %d"}`, i), 201)
		}
		var j model.ExportJob
		if err := json.Unmarshal(s.mustDo("POST", "/api/v1/exports", `{"kind":"accounts","group":"sales"}`, 202), &j); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); j.State == model.ExportRunning && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if err := json.Unmarshal(s.mustDo("GET", fmt.Sprintf("/api/v1/exports/%d", j.ID), "", 200), &j); err != nil {
				t.Fatal(err)
			}
		}
		if j.State != model.ExportDone || j.Rows != 30 || j.Filter.Group != "sales" {
			t.Fatalf("the job: want done with 30 rows of group sales, got %+v", j)
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/exports/%d/file", s.url, j.ID), nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(resp.Body).ReadAll()
		resp.Body.Close()
		if err != nil || len(recs) != 31 || resp.Trailer.Get(stream.RowsTrailer) != "30" {
			t.Fatalf("the job's file: want a header and 30 rows with trailer 30, got %d records, %q, %v", len(recs), resp.Trailer.Get(stream.RowsTrailer), err)
		}
		code, body, _ := s.do("POST", "/api/v1/exports", `{"kind":"people"}`, "")
		if e := apiError(t, body); code != 400 || e.Field != "kind" {
			t.Errorf("an unknown kind: want 400 naming kind, got %d %+v", code, e)
		}
		if code, _, _ := s.do("GET", "/api/v1/exports/999/file", "", ""); code != 404 {
			t.Errorf("an unknown job's file: want 404, got %d", code)
		}
	})
}
