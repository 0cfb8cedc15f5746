package activation

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// TestMobileMemoReadsAsNormaliseMobile: a remembered cell reads as it did
// when it was parsed, valid, landline, invalid, in another form or in
// another region, and the memo never holds more than its bound, keeping
// the first numbers it read.
func TestMobileMemoReadsAsNormaliseMobile(t *testing.T) {
	mm := newMobileMemo(3)
	cells := []string{"+393331234567", " 00393331234567 ", "333 123 4567", "+390612345678", "12", "abc", "", "+14155550123", "3331234567"}
	for round := 0; round < 2; round++ {
		for _, region := range []string{"IT", "US"} {
			for _, c := range cells {
				want, wantErr := normaliseMobile(c, region)
				got, err := mm.normalise(c, region, true)
				if got != want || fmt.Sprint(err) != fmt.Sprint(wantErr) {
					t.Errorf("round %d, %q in %s: memo %q, %v; want %q, %v", round, c, region, got, err, want, wantErr)
				}
				if len(mm.m) > 3 {
					t.Fatalf("the memo holds %d numbers, past its bound of 3", len(mm.m))
				}
			}
		}
	}
	if _, ok := mm.m[mobileCell{"IT", "+393331234567"}]; !ok || len(mm.m) != 3 {
		t.Errorf("the memo holds %v, want the first 3 numbers read", mm.m)
	}
}

// TestImportConfirmationReusesThePreviewsNumbers: confirming a previewed
// file parses none of its mobile numbers again.
func TestImportConfirmationReusesThePreviewsNumbers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		var b strings.Builder
		b.WriteString("full name,mobile number\n")
		for i := 0; i < 50; i++ {
			fmt.Fprintf(&b, "User %d,+39333%07d\n", i, i)
		}
		b.WriteString("Bad,12\n")
		p, err := dom.Imports.Preview(ctx, "a.csv", []byte(b.String()), ImportOptions{Group: "sales"}, admin)
		if err != nil || p.Create != 50 || p.Invalid != 1 {
			t.Fatalf("preview: %+v, %v", p, err)
		}
		parsed := dom.Imports.mobiles.misses
		if parsed != 51 {
			t.Fatalf("the preview parsed %d numbers, want 51", parsed)
		}
		stt, err := dom.Imports.Confirm(ctx, p.ID, admin, nil)
		if err != nil || stt.Created != 50 {
			t.Fatalf("confirm: %+v, %v", stt, err)
		}
		if n := dom.Imports.mobiles.misses - parsed; n != 0 {
			t.Errorf("the confirmation parsed %d numbers again, want none", n)
		}
	})
}
