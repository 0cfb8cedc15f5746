package registrar

import "sync/atomic"

// Stats counts what the registrar did since it started; the metrics read
// them at scrape (internal/metrics).
type Stats struct {
	Registers    uint64 // REGISTER requests answered 200: new, refreshed or removed bindings
	AuthFailures uint64 // digest answers that did not match an enabled account's
	Bans         uint64 // addresses banned after too many failures
}

type stats struct {
	registers, authFailures, bans atomic.Uint64
}

// Stats returns the registrar's counts so far.
func (s *Server) Stats() Stats {
	return Stats{Registers: s.stats.registers.Load(), AuthFailures: s.stats.authFailures.Load(), Bans: s.stats.bans.Load()}
}
