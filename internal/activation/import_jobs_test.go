package activation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

// TestUploadedFileIsCheckedAsAJob uploads files for the server to check as
// a job: a bad header is refused at once; a file whose new accounts the
// virtual number range cannot number is refused by the check, with a
// message giving both counts, the refusal shown as its preview and the
// import not confirmable; a file that fits is previewed, kept in pieces,
// and imported.
func TestUploadedFileIsCheckedAsAJob(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		if _, err := dom.Settings.Set(ctx, model.SettingVirtualNumberRange, "10-19", admin); err != nil {
			t.Fatal(err)
		}
		file := func(n int) *strings.Reader {
			var b strings.Builder
			b.WriteString("full name,group\n")
			for i := range n {
				fmt.Fprintf(&b, "Person %d,sales\n", i)
			}
			return strings.NewReader(b.String())
		}
		var de *Error
		if _, err := dom.Imports.Upload(ctx, "bad.csv", strings.NewReader("who,group\nx,sales\n"), ImportOptions{}, admin); !errors.As(err, &de) || de.Field != "file" {
			t.Fatalf("a bad header: want a refusal of the file at once, got %v", err)
		}

		big, err := dom.Imports.Upload(ctx, "big.csv", file(11), ImportOptions{}, admin)
		if err != nil || big.State != model.ImportChecking || big.Size == 0 {
			t.Fatalf("upload: %+v, %v", big, err)
		}
		if _, err := dom.Imports.PreviewOf(ctx, big.ID, admin); !errors.As(err, &de) || de.Code != "import_checking" {
			t.Fatalf("the preview of a file being checked: %v", err)
		}
		runJobs(t, dom.Imports, "here")
		s, _ := dom.Imports.Status(ctx, big.ID, admin)
		if s.State != model.ImportFailed || !strings.Contains(s.LastError, "needs 11 new virtual numbers") || !strings.Contains(s.LastError, "has only 10 free") || s.Checked != s.Size {
			t.Fatalf("11 rows for 10 numbers: %+v", s)
		}
		if _, err := dom.Imports.PreviewOf(ctx, big.ID, admin); !errors.As(err, &de) || de.Code != "virtual_numbers_exhausted" {
			t.Fatalf("the refused file's preview: want its refusal, got %v", err)
		}
		if _, err := dom.Imports.Confirm(ctx, big.ID, admin, nil); !errors.As(err, &de) || de.Kind != KindConflict {
			t.Fatalf("a refused file was confirmed: %v", err)
		}

		fits, err := dom.Imports.Upload(ctx, "fits.csv", file(10), ImportOptions{}, admin)
		if err != nil {
			t.Fatal(err)
		}
		runJobs(t, dom.Imports, "here")
		p, done, err := dom.Imports.AwaitPreview(ctx, fits.ID, 0, admin)
		if err != nil || !done || p.Create != 10 || p.State != model.ImportPreviewed {
			t.Fatalf("the preview: %+v, %v, %v", p, done, err)
		}
		imp, err := dom.Imports.Confirm(ctx, fits.ID, admin, nil)
		if err != nil || imp.Created != 10 {
			t.Fatalf("confirm: %+v, %v", imp, err)
		}
	})
}

// TestFilePiecesEndAtLineEndsAndKeepCharactersWhole cuts a file into
// pieces and reads it back the same, each piece but the last ending at a
// line end, and a file with no line end cut between characters only.
func TestFilePiecesEndAtLineEndsAndKeepCharactersWhole(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 3*pieceSize; i++ {
		fmt.Fprintf(&b, "Zoë %d,é\n", i)
	}
	for _, text := range []string{b.String(), strings.Repeat("é", 2*pieceSize)} {
		c := newPieceCutter(strings.NewReader(text))
		var got strings.Builder
		for n := 0; ; n++ {
			piece, ok, err := c.next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if !utf8.ValidString(piece) || len(piece) > pieceSize {
				t.Fatalf("piece %d: %d bytes, valid UTF-8 %v", n, len(piece), utf8.ValidString(piece))
			}
			if strings.Contains(text, "\n") && !strings.HasSuffix(piece, "\n") {
				t.Fatalf("piece %d does not end at a line end", n)
			}
			got.WriteString(piece)
		}
		if got.String() != text {
			t.Fatal("the pieces do not make the file again")
		}
	}
	if _, _, err := newPieceCutter(strings.NewReader("a,\xff\n")).next(); err == nil {
		t.Fatal("a file that is not UTF-8 was kept")
	}
}
