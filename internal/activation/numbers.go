package activation

import (
	"context"
	"fmt"
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
