package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// TestImportKeepsItsSendListApartFromItsFile checks that a confirmed
// import's usernames to send to have a field and a column of their own:
// keeping them forgets the file, the listing carries neither, and dropping
// an import's data forgets both.
func TestImportKeepsItsSendListApartFromItsFile(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		im := &store.Import{Operator: "ada", Content: "full name,e-mail\nAda,ada@example.com\n", State: model.ImportPreviewed, Total: 1}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateImport(ctx, org, im) }); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ImportByID(ctx, org, im.ID); err != nil || got.Content != im.Content || got.SendTo != nil {
			t.Fatalf("a previewed import: %+v, %v", got, err)
		}
		want := []string{"1234567890", "2345678901"}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.KeepImportSendTo(ctx, im.ID, want) }); err != nil {
			t.Fatal(err)
		}
		got, err := s.ImportByID(ctx, org, im.ID)
		if err != nil || got.Content != "" || !slices.Equal(got.SendTo, want) {
			t.Fatalf("a confirmed import: content %q, send to %q, %v; want no file and %q", got.Content, got.SendTo, err, want)
		}
		if list, err := s.Imports(ctx, org, 10); err != nil || len(list) != 1 || list[0].Content != "" || list[0].SendTo != nil {
			t.Fatalf("Imports = %+v, %v (the listing carries neither the file nor the usernames)", list, err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.DropImportContent(ctx, im.ID) }); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ImportByID(ctx, org, im.ID); err != nil || got.Content != "" || got.SendTo != nil {
			t.Fatalf("a done import: %+v, %v", got, err)
		}
	})
}

// TestUpgradeMovesASendingImportsUsernames opens a database as the schema
// before migration 0006 left it, where a confirmed import still sending
// kept its usernames in content, and opens it again with this activator:
// the usernames are in their own column and the file's column is empty,
// while an import not yet confirmed keeps its file.
func TestUpgradeMovesASendingImportsUsernames(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.DSN(t)
			old, err := store.OpenAt(ctx, dsn, 5)
			if err != nil {
				t.Fatal(err)
			}
			seed(t, old)
			const file = "full name\nAda\n"
			err = old.Tx(ctx, func(tx *store.Tx) error {
				for _, row := range [][2]string{{"sending", "1234567890\n2345678901"}, {"previewed", file}} {
					if _, err := tx.ExecRaw(ctx, `INSERT INTO imports (org_id, operator, content, state, created_at, updated_at)
						VALUES ($1, 'ada', $2, $3, 1, 1)`, org, row[1], row[0]); err != nil {
						return err
					}
				}
				return nil
			})
			old.Close()
			if err != nil {
				t.Fatal(err)
			}
			s := storetest.Open(t, dsn)
			list, err := s.Imports(ctx, org, 10)
			if err != nil || len(list) != 2 {
				t.Fatalf("Imports = %+v, %v", list, err)
			}
			for _, l := range list {
				im, err := s.ImportByID(ctx, org, l.ID)
				if err != nil {
					t.Fatal(err)
				}
				switch im.State {
				case model.ImportSending:
					if im.Content != "" || !slices.Equal(im.SendTo, []string{"1234567890", "2345678901"}) {
						t.Errorf("the sending import: content %q, send to %q", im.Content, im.SendTo)
					}
				case model.ImportPreviewed:
					if im.Content != file || im.SendTo != nil {
						t.Errorf("the previewed import: content %q, send to %q", im.Content, im.SendTo)
					}
				default:
					t.Errorf("import %d is %s", im.ID, im.State)
				}
			}
		})
	}
}

// TestClaimImportAndRecordItsBatches: an import is claimed by one holder
// at a time until its lease runs out, or again by its own holder; a batch
// records its progress and renews the lease only for the holder.
func TestClaimImportAndRecordItsBatches(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		im := &store.Import{Operator: "ada", Content: "full name\nAda\n", State: model.ImportImporting, Total: 3000}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateImport(ctx, org, im) }); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		claim := func(owner string, at time.Time) bool {
			t.Helper()
			var ok bool
			if err := s.Tx(ctx, func(tx *store.Tx) (err error) {
				ok, err = tx.ClaimImport(ctx, im.ID, owner, at, time.Minute)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		batch := func(owner string, done, created int) bool {
			t.Helper()
			var ok bool
			next := *im
			next.Done, next.Created = done, created
			if err := s.Tx(ctx, func(tx *store.Tx) (err error) {
				ok, err = tx.SetImportBatch(ctx, &next, owner, now.Add(2*time.Minute))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !claim("a", now) {
			t.Fatal("a free import was not claimed")
		}
		if claim("b", now.Add(30*time.Second)) {
			t.Fatal("b claimed an import a holds")
		}
		if !claim("a", now.Add(30*time.Second)) {
			t.Fatal("a could not claim its own import again")
		}
		if !batch("a", 1000, 900) || batch("b", 2000, 2000) {
			t.Fatal("only the holder records a batch")
		}
		if got, err := s.ImportByID(ctx, org, im.ID); err != nil || got.Done != 1000 || got.Created != 900 {
			t.Fatalf("after a's batch: %+v, %v", got, err)
		}
		// a's batch renewed its lease to now+2m: b waits for that, not the first minute.
		if claim("b", now.Add(90*time.Second)) {
			t.Fatal("b claimed the import before the renewed lease ran out")
		}
		if !claim("b", now.Add(3*time.Minute)) || batch("a", 3000, 3000) {
			t.Fatal("b did not take over the import once its lease ran out, or a still wrote to it")
		}
	})
}
