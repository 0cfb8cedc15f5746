package messaging

import "time"

// SetSleepClock makes w sleep between its rounds on after instead of the
// real clock: a test sees how long the worker asks to sleep and decides
// when it wakes.
func SetSleepClock(w *Worker, after func(time.Duration) <-chan time.Time) { w.after = after }
