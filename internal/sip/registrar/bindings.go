package registrar

import (
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// Refreshes of a binding just written are answered with a read.
//
// A phone sends REGISTER again, for the same contact from the same
// address, when its answer was lost or late (UDP retransmissions), when
// its network blinks, when it restarts its SIP stack: each was a write
// transaction, and on SQLite every REGISTER queued on the one writer (on
// PostgreSQL each waited for a flush of the write-ahead log). A REGISTER
// whose every contact only refreshes a stored binding, unchanged
// (transport, source, user agent), written less than refreshWindow ago
// (and less than a quarter of the binding's period), is answered with
// the stored bindings, read from the database with the account (one
// query: store.SIPAccountRegistering), and what is left of their
// stored expiry: the registration in the database is exactly what the
// phone is told, a little shorter than it asked (RFC 3261 lets a
// registrar shorten it), and it refreshes that much earlier. Anything
// else (a new contact, another transport, source or user agent, a
// removal, a binding older than the window) is written as before. The
// read is of the database, not of memory, so a binding another instance
// removed is written again, and nothing is kept per account.
const refreshWindow = time.Minute

// binding is what a REGISTER asks of one contact.
type binding struct {
	contact, transport, source, agent string
	expires                           int // seconds; 0 removes it
}

// onlyRefreshes reports whether every binding asked is one of stored
// (an account's live bindings), unchanged, written within the window:
// the REGISTER then needs no write.
func onlyRefreshes(asked []binding, stored []model.Registration, now time.Time) bool {
	if len(asked) == 0 {
		return false
	}
	for _, b := range asked {
		if b.expires <= 0 {
			return false
		}
		window := min(refreshWindow, time.Duration(b.expires)*time.Second/4)
		found := false
		for _, r := range stored {
			if r.Contact == b.contact && r.Transport == b.transport && r.Source == b.source && r.UserAgent == b.agent &&
				r.ExpiresAt.After(now) && now.Sub(r.UpdatedAt) >= 0 && now.Sub(r.UpdatedAt) < window {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
