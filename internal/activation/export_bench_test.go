package activation

// BenchmarkExport100k exports 100,000 accounts (a quarter activated, every
// tenth with its own profile) on SQLite and on PostgreSQL, and reports rows
// per second and the peak Go heap while it ran.
//
//	ACTIVATOR_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -run='^$' -bench=Export100k -benchtime=3x ./internal/activation/

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

const benchExportRows = 100_000

// seedExport adds n accounts to the group sales in one transaction.
func seedExport(b *testing.B, st *store.Store, dom Domain, n int) {
	ctx := context.Background()
	mustGroup(b, dom, "sales")
	g, err := st.GroupByName(ctx, model.DefaultOrgID, "sales")
	if err != nil {
		b.Fatal(err)
	}
	p, err := dom.Profiles.Create(ctx, "bench-profile", []byte(`{}`), admin)
	if err != nil {
		b.Fatal(err)
	}
	stages := []string{model.StageNew, model.StageInvited, model.StageOpened, model.StageInstalled, model.StageActivated}
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	rows := make([]*store.AccountRow, n)
	for i := range rows {
		a := &store.AccountRow{OrgID: model.DefaultOrgID}
		a.GroupID = g.ID
		a.Username = fmt.Sprintf("u%07d", i)
		a.DisplayName = fmt.Sprintf("Bench User %d", i)
		a.Email = fmt.Sprintf("bench.user.%d@example.com", i)
		a.Mobile = fmt.Sprintf("+39333%07d", i)
		a.SecurityModel = model.SecurityModels[i%len(model.SecurityModels)]
		a.VirtualNumber = fmt.Sprintf("%07d", 1000000+i)
		a.Language = "it"
		a.Description = "seeded"
		a.Kind = model.AccountPlain
		a.Stage = stages[i%len(stages)]
		a.Disabled = i%50 == 0
		if i%10 == 0 {
			a.ProfileID = &p.ID
		}
		rows[i] = a
	}
	err = st.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertAccounts(ctx, rows, "bench", func(*store.AccountRow) string { return "" }); err != nil {
			return err
		}
		for i, a := range rows {
			if a.Stage == model.StageActivated && !a.Disabled {
				if err := tx.ActivateAccount(ctx, a.ID, []byte("sealed"), "md5", "sha256", "example.com", at.Add(time.Duration(i)*time.Second)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("seeding: %v", err)
	}
}

func BenchmarkExport100k(b *testing.B) {
	for _, be := range storetest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			ctx := context.Background()
			st := storetest.Open(b, be.DSN(b))
			dom := newDomain(b, st)
			seedExport(b, st, dom, benchExportRows)
			runtime.GC()
			var (
				total time.Duration
				peak  uint64
			)
			b.ResetTimer()
			for range b.N {
				stop := peakHeap()
				start := time.Now()
				n, err := dom.Accounts.ExportRows(ctx, io.Discard, "", "", "", admin, nil)
				total += time.Since(start)
				if h := stop(); h > peak {
					peak = h
				}
				if err != nil {
					b.Fatal(err)
				}
				if n != benchExportRows {
					b.Fatalf("exported %d rows, want %d", n, benchExportRows)
				}
			}
			b.ReportMetric(float64(benchExportRows*b.N)/total.Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
