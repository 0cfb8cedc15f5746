package registrar

import (
	"errors"
	"slices"
	"sync"
	"time"
)

// Bounds of the dialog table.
const (
	// dialogLifetime is how long a call's dialog is honoured, from its
	// INVITE: the expiry of its flow tokens, which sit in both phones'
	// route sets and cannot be renewed. Kamailio's dialog module uses the
	// same default. A call still up after it can no longer be changed or
	// hung up through the proxy (481); the phones end it themselves.
	dialogLifetime = 12 * time.Hour
	// maxDialogs bounds the table (a few hundred bytes each, so some tens
	// of megabytes at most); a new call finding it full is refused with 503.
	maxDialogs = 100000
	// maxDialogsPerAccount keeps one account (or one pair of colluding
	// accounts) from filling the table for everyone.
	maxDialogsPerAccount = 64
	// maxEarlyTags bounds the callee tags an unanswered call keeps from
	// provisional responses.
	maxEarlyTags = 4
)

var (
	errDialogExists   = errors.New("a call with this Call-ID and From-tag is already under way")
	errDialogsFull    = errors.New("the dialog table is full")
	errAccountDialogs = errors.New("the account has too many calls under way")
)

// dialogKey names a call by what is fixed when its INVITE passes, before
// the callee picks its tag: the Call-ID and the caller's From-tag.
type dialogKey struct {
	callID, tag string
}

// dialog is a call the proxy forwarded after authenticating its caller:
// the only calls whose in-dialog requests (To-tag set) it relays.
type dialog struct {
	caller, callee flow
	account        int64    // the caller's account, for its share of the table
	tags           []string // the callee's tags: early ones from provisional responses, then the 2xx's only
	answered       bool
	expires        time.Time
}

// dialogs is the proxy's in-memory dialog table. An entry is made when an
// authenticated INVITE is forwarded, kept when a 2xx answers it, and removed
// on any other final answer, when a BYE passes, or when its lifetime ends.
type dialogs struct {
	mu         sync.Mutex
	items      map[dialogKey]*dialog
	perAccount map[int64]int
	now        func() time.Time
}

func newDialogs(now func() time.Time) *dialogs {
	return &dialogs{items: map[dialogKey]*dialog{}, perAccount: map[int64]int{}, now: now}
}

// open records a call about to be forwarded.
func (t *dialogs) open(k dialogKey, caller, callee flow, account int64) (*dialog, error) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if d, ok := t.items[k]; ok {
		if now.Before(d.expires) {
			return nil, errDialogExists
		}
		t.remove(k, d)
	}
	// Calls past their lifetime leave at the next sweep (Run, every
	// minute): no request walks the whole table.
	if len(t.items) >= maxDialogs {
		return nil, errDialogsFull
	}
	if t.perAccount[account] >= maxDialogsPerAccount {
		return nil, errAccountDialogs
	}
	d := &dialog{caller: caller, callee: callee, account: account, expires: now.Add(dialogLifetime)}
	t.items[k] = d
	t.perAccount[account]++
	return d, nil
}

// response notes the callee's tag from a response to the INVITE of d,
// before the response goes on to the caller (whose ACK or PRACK may follow
// at once). A final answer other than 2xx ends the call.
func (t *dialogs) response(k dialogKey, d *dialog, code int, tag string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.items[k] != d {
		return
	}
	switch {
	case code >= 300:
		t.remove(k, d)
	case code >= 200 && tag != "":
		if !d.answered {
			d.answered = true
			d.tags = []string{tag}
		}
	case code > 100 && tag != "" && !d.answered && len(d.tags) < maxEarlyTags && !slices.Contains(d.tags, tag):
		d.tags = append(d.tags, tag)
	}
}

// close ends the call d recorded under k (a later call reusing k is not d).
func (t *dialogs) close(k dialogKey, d *dialog) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.items[k] == d {
		t.remove(k, d)
	}
}

// abandon ends the call d unless a 2xx answered it: its INVITE timed out
// or the relay gave up.
func (t *dialogs) abandon(k dialogKey, d *dialog) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.items[k] == d && !d.answered {
		t.remove(k, d)
	}
}

// find looks a request of a live call up by its Call-ID and tags, from
// either side, and says where the request goes: the other party's flow.
func (t *dialogs) find(callID, fromTag, toTag string) (dialogKey, *dialog, flow, bool) {
	if callID == "" || fromTag == "" || toTag == "" {
		return dialogKey{}, nil, flow{}, false
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if k := (dialogKey{callID, fromTag}); t.live(k, toTag, now) {
		return k, t.items[k], t.items[k].callee, true // from the caller
	}
	if k := (dialogKey{callID, toTag}); t.live(k, fromTag, now) {
		return k, t.items[k], t.items[k].caller, true // from the callee
	}
	return dialogKey{}, nil, flow{}, false
}

func (t *dialogs) live(k dialogKey, calleeTag string, now time.Time) bool {
	d, ok := t.items[k]
	return ok && now.Before(d.expires) && slices.Contains(d.tags, calleeTag)
}

// sweep removes the calls whose lifetime has ended.
func (t *dialogs) sweep() {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, d := range t.items {
		if !now.Before(d.expires) {
			t.remove(k, d)
		}
	}
}

func (t *dialogs) remove(k dialogKey, d *dialog) {
	delete(t.items, k)
	if t.perAccount[d.account]--; t.perAccount[d.account] <= 0 {
		delete(t.perAccount, d.account)
	}
}

func (t *dialogs) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.items)
}
