package activation

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// recordingBackend is an account backend that keeps what it is told.
type recordingBackend struct {
	mu   sync.Mutex
	puts []SIPSubscriber
}

func (b *recordingBackend) Name() string { return "recording" }

func (b *recordingBackend) Put(_ context.Context, s SIPSubscriber) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.puts = append(b.puts, s)
	return nil
}

func (b *recordingBackend) Remove(context.Context, string, string) error { return nil }

// A redeem puts the account it activated into the backend with the
// digest hashes of the password it answered, from the redeem's own
// values: they are those a read of the account gives.
func TestRedeemPutsTheActivatedAccountIntoTheBackend(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		b := &recordingBackend{}
		dom.Accounts.backend = b
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		resp, err := dom.Devices.Redeem(ctx, redeemReq(sendToken(t, dom, a.Username, model.LinkActivation)))
		if err != nil {
			t.Fatal(err)
		}
		acc := resp.Config.Account
		md5hex := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
		sha := sha256.Sum256([]byte(acc.Username + ":" + acc.SIPDomain + ":" + acc.Password))
		want := SIPSubscriber{Username: a.Username, Domain: acc.SIPDomain,
			HA1:       md5hex(acc.Username + ":" + acc.SIPDomain + ":" + acc.Password),
			HA1B:      md5hex(acc.Username + "@" + acc.SIPDomain + ":" + acc.SIPDomain + ":" + acc.Password),
			HA1SHA256: hex.EncodeToString(sha[:])}
		if len(b.puts) != 1 || b.puts[0] != want {
			t.Fatalf("the backend after a redeem: %+v, want one put of %+v", b.puts, want)
		}
		// What a sync from the stored account puts is the same.
		dom.Accounts.syncSIP(ctx, model.DefaultOrgID, a.Username)
		if len(b.puts) != 2 || b.puts[1] != want {
			t.Fatalf("a sync after the redeem: %+v, want %+v", b.puts[1:], want)
		}
	})
}
