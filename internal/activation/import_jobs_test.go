package activation

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// confirmedSend previews and confirms an import of n accounts to be sent
// their activations by e-mail, and returns its id.
func confirmedSend(t *testing.T, dom Domain, n int, prefix string) int64 {
	t.Helper()
	var b strings.Builder
	b.WriteString("full name,e-mail\n")
	for i := range n {
		fmt.Fprintf(&b, "%s %d,%s%d@example.com\n", prefix, i, prefix, i)
	}
	ctx := context.Background()
	p, err := dom.Imports.Preview(ctx, "", []byte(b.String()), ImportOptions{Group: "sales", Send: model.ChannelEmail}, admin)
	if err != nil {
		t.Fatal(err)
	}
	st, err := dom.Imports.Confirm(ctx, p.ID, admin, nil)
	if err != nil || st.State != model.ImportSending || st.ToSend != n {
		t.Fatalf("confirm: %+v, %v", st, err)
	}
	return p.ID
}

// TestImportSendJobIsDurable checks the bulk send as a job: the server
// sends by itself, with nobody asking for batches; a job another instance
// holds under a live lease is left to it; one whose instance died half way
// (its lease ran out) is finished by another, and nobody is sent twice;
// and an instance's own claim from before it restarted is taken back at
// once.
func TestImportSendJobIsDurable(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")

		// By itself: RunJobs finishes the send, woken by the confirmation.
		id := confirmedSend(t, dom, 120, "a")
		jctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { dom.Imports.RunJobs(jctx, "here"); close(done) }()
		deadline := time.Now().Add(30 * time.Second)
		for {
			s, err := dom.Imports.Status(ctx, id, admin)
			if err != nil {
				t.Fatal(err)
			}
			if s.State == model.ImportDone {
				if s.Sent != 120 || s.LastError != "" {
					t.Fatalf("done: %+v", s)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server did not send by itself: %+v", s)
			}
			time.Sleep(20 * time.Millisecond)
		}
		stop()
		<-done

		// Held by a live instance: left alone.
		id = confirmedSend(t, dom, 120, "b")
		var job *store.ImportJob
		if err := st.Tx(ctx, func(tx *store.Tx) (err error) {
			var ok bool
			job, ok, err = tx.ClaimImportJob(ctx, "other", time.Now(), jobLease, model.ImportSending)
			if err == nil && !ok {
				err = fmt.Errorf("no job to claim")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		runJobs(t, dom.Imports, "here")
		if s, _ := dom.Imports.Status(ctx, id, admin); s.Sent != 0 || s.State != model.ImportSending {
			t.Fatalf("a job another live instance holds was run: %+v", s)
		}
		// That instance sends one batch and dies: its lease runs out.
		if _, err := dom.Imports.sendBatch(ctx, job, "other"); err != nil {
			t.Fatal(err)
		}
		if err := st.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecRaw(ctx, `UPDATE imports SET job_until = 1 WHERE id = $1`, id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		runJobs(t, dom.Imports, "here")
		s, err := dom.Imports.Status(ctx, id, admin)
		if err != nil || s.State != model.ImportDone || s.Sent != 120 {
			t.Fatalf("the job of a dead instance was not finished: %+v, %v", s, err)
		}

		// Its own claim, made before a restart: taken back at once.
		id = confirmedSend(t, dom, 10, "c")
		if err := st.Tx(ctx, func(tx *store.Tx) error {
			_, _, err := tx.ClaimImportJob(ctx, "here", time.Now(), time.Hour, model.ImportSending)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		runJobs(t, dom.Imports, "here")
		if s, _ := dom.Imports.Status(ctx, id, admin); s.State != model.ImportDone || s.Sent != 10 {
			t.Fatalf("an instance's own claim from before its restart waited: %+v", s)
		}

		ms, err := dom.Messages.List(ctx, "", "", 1000, admin)
		if err != nil {
			t.Fatal(err)
		}
		to := map[string]int{}
		for _, m := range ms {
			to[m.Recipient]++
		}
		if len(to) != 250 || len(ms) != 250 {
			t.Fatalf("%d messages to %d recipients, want one each to 250", len(ms), len(to))
		}
	})
}
