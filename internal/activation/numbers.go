package activation

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// numberWarnEvery is how often a full range is logged again, per organisation.
const numberWarnEvery = time.Hour

// numberUseLog remembers when each organisation's full range was last logged.
type numberUseLog struct {
	mu   sync.Mutex
	last map[int64]time.Time
}

// NumberRangeUse says how full the caller's organisation's virtual number
// range is, with a warning (also logged, once an hour) from 80% used. An
// organisation with fewer accounts than 80% of the range cannot have
// filled it, so the range is counted (a walk of its part of the unique
// index) only when the maintained account counts say it might be.
func (s *Accounts) NumberRangeUse(ctx context.Context, by Caller) (*model.NumberRangeUse, error) {
	st, err := s.settings.Current(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	nr := st.Numbers
	u := &model.NumberRangeUse{Range: nr.Format(nr.From) + "-" + nr.Format(nr.To), Size: nr.Size()}
	counts, err := s.store.AccountCounts(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	var total uint64
	for _, n := range counts {
		total += uint64(n)
	}
	if total*100 >= nr.Size()*model.WarnPercent {
		if u.Used, err = s.store.VirtualNumbersUsed(ctx, by.OrgID, nr); err != nil {
			return nil, err
		}
	} else {
		u.Used = total // at most; below the warning either way
	}
	u.Percent = float64(u.Used) * 100 / float64(u.Size)
	if u.Used*100 >= u.Size*model.WarnPercent {
		u.Warning = fmt.Sprintf("the virtual number range %s is %.0f%% used (%d of %d): widen the %s setting before it is full, "+
			"when accounts without a number of their own can no longer be created", u.Range, u.Percent, u.Used, u.Size, model.SettingVirtualNumberRange)
		s.warnNumbers(by.OrgID, u)
	}
	return u, nil
}

func (s *Accounts) warnNumbers(orgID int64, u *model.NumberRangeUse) {
	s.numberLog.mu.Lock()
	defer s.numberLog.mu.Unlock()
	if s.numberLog.last == nil {
		s.numberLog.last = map[int64]time.Time{}
	}
	if now := s.now(); now.Sub(s.numberLog.last[orgID]) >= numberWarnEvery {
		s.numberLog.last[orgID] = now
		s.log.Warn("virtual number range nearly full", "org", orgID, "range", u.Range, "used", u.Used, "size", u.Size,
			"percent", fmt.Sprintf("%.1f", u.Percent))
	}
}

// mobileMemoSize bounds the mobile numbers an instance remembers having
// read: a file of 100,000 rows is read once more for nothing but the
// numbers' lookups when it is confirmed.
const mobileMemoSize = 100_000

// mobileMemo remembers how the cells of import files read as mobile
// numbers (readMobile, the costly part of checking a row): the preview's
// check reads every number of a file, and its confirmation reads the file
// again and finds them here. Each check starts it anew (reset) and fills
// it with its first max numbers, no more, so that a confirmation finds the
// first rows of a larger file (a memo emptied when full would hold the
// last ones, of no use to a confirmation that reads from the first); a
// confirmation only reads it, and empties it when done. Safe for
// concurrent use.
type mobileMemo struct {
	mu     sync.Mutex
	max    int
	m      map[mobileCell]mobileMemoed
	misses int // cells read, not found: the numbers parsed
}

// mobileCell is a mobileText read as a number of region.
type mobileCell struct{ region, text string }

// mobileMemoed is how a cell read: its number when that is not the cell
// itself (most files hold numbers in E.164 already, kept once, as the key).
type mobileMemoed struct {
	number string
	how    mobileRead
}

func newMobileMemo(max int) *mobileMemo {
	return &mobileMemo{max: max, m: map[mobileCell]mobileMemoed{}}
}

// reset forgets every number.
func (mm *mobileMemo) reset() {
	mm.mu.Lock()
	mm.m = map[mobileCell]mobileMemoed{}
	mm.mu.Unlock()
}

// normalise is normaliseMobile, remembered when fill says so and there is
// room.
func (mm *mobileMemo) normalise(v, region string, fill bool) (string, error) {
	v = mobileText(v)
	if v == "" {
		return "", nil
	}
	key := mobileCell{region, v}
	mm.mu.Lock()
	r, ok := mm.m[key]
	mm.mu.Unlock()
	if !ok {
		n, how := readMobile(v, region)
		r = mobileMemoed{how: how}
		if n != v {
			r.number = n
		}
		key.text = strings.Clone(v) // not the whole line the cell was cut from
		mm.mu.Lock()
		mm.misses++
		if fill && len(mm.m) < mm.max {
			mm.m[key] = r
		}
		mm.mu.Unlock()
	}
	if r.how != mobileOK {
		return "", mobileError(v, region, r.how)
	}
	if r.number == "" {
		return v, nil
	}
	return r.number, nil
}
