package activation

// BenchmarkImport100k imports 100,000 CSV rows (preview, then confirm) into
// an empty database on SQLite and on PostgreSQL, and reports rows per second
// and the peak Go heap while it ran.
//
//	ACTIVATOR_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -run='^$' -bench=Import100k -benchtime=1x ./internal/activation/

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/store/storetest"
)

const benchRows = 100_000

func benchCSV(n int) []byte {
	var b strings.Builder
	b.Grow(n * 80)
	b.WriteString("full name,mobile number,e-mail,security model,description,group,profile,language\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "User Number %d,+39333%07d,user%d@example.com,end-to-end,imported,sales,,it\n", i, i, i)
	}
	return []byte(b.String())
}

// peakHeap samples the heap in use until stop is called and returns the peak.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak.Load() }
}

func BenchmarkImport100k(b *testing.B) {
	file := benchCSV(benchRows)
	for _, be := range storetest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			ctx := context.Background()
			var total time.Duration
			var peak uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				st := storetest.Open(b, be.DSN(b))
				dom := newDomain(b, st)
				mustGroup(b, dom, "sales")
				runtime.GC()
				b.StartTimer()
				stop := peakHeap()
				start := time.Now()
				p, err := dom.Imports.Preview(ctx, "bench.csv", file, ImportOptions{}, admin)
				if err != nil {
					b.Fatal(err)
				}
				if p.Create != benchRows {
					b.Fatalf("preview: %d to create, %d invalid: %+v", p.Create, p.Invalid, p.Errors[:min(3, len(p.Errors))])
				}
				stt, err := dom.Imports.Confirm(ctx, p.ID, admin, nil)
				if err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				if h := stop(); h > peak {
					peak = h
				}
				if stt.Created != benchRows {
					b.Fatalf("created %d", stt.Created)
				}
				b.StopTimer()
				st.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(benchRows*b.N)/total.Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
