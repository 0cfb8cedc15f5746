package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/activator-voip/activator/internal/model"
)

// A bulk send paused by a database outage says so in its last error; once
// it goes on and finishes, its status has no last error (the field is
// left out). Following it must end on the finished status as it is, not
// on the pause's error kept from an earlier answer: the import command
// would otherwise report that not every link was sent.
func TestFollowImportEndsWithoutAnErrorTheJobGotOver(t *testing.T) {
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/imports/7" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if polls.Add(1) == 1 {
			fmt.Fprint(w, `{"id":7,"state":"sending","to_send":2,"sent":1,"last_error":"sending paused at 1 of 2, to go on by itself: the database is unavailable"}`)
			return
		}
		fmt.Fprint(w, `{"id":7,"state":"done","to_send":2,"sent":2}`)
	}))
	defer srv.Close()
	c, err := newAPIClient(srv.URL, testToken)
	if err != nil {
		t.Fatal(err)
	}
	var seen []model.ImportStatus
	st, err := followImport(context.Background(), c, "7", model.ImportSending, func(s model.ImportStatus) { seen = append(seen, s) })
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0].LastError == "" {
		t.Fatalf("want the paused status, then the finished one; saw %+v", seen)
	}
	if st.State != model.ImportDone || st.Sent != 2 || st.LastError != "" {
		t.Fatalf("the finished bulk send: %+v, want done, 2 sent and no last error", st)
	}
}
