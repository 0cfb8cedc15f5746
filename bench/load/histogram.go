package main

import (
	"math/bits"
	"time"
)

// histogram counts latencies in microseconds in log-linear buckets: exact
// below 256 µs, then 128 buckets per power of two, so any quantile it
// reports is within 1% of the true one. It keeps no sample, however many
// requests are made.
type histogram struct {
	counts [256 + 48*128]int64
	n      int64
}

const subBuckets = 128

func bucketOf(us uint64) int {
	if us < 256 {
		return int(us)
	}
	shift := bits.Len64(us) - 8 // us>>shift is in [128, 256)
	i := 256 + (shift-1)*subBuckets + int(us>>shift) - subBuckets
	return min(i, len(histogram{}.counts)-1)
}

// valueOf is the middle of bucket i, in microseconds.
func valueOf(i int) float64 {
	if i < 256 {
		return float64(i)
	}
	shift := (i-256)/subBuckets + 1
	lo := uint64((i-256)%subBuckets+subBuckets) << shift
	return float64(lo) + float64(uint64(1)<<shift)/2
}

func (h *histogram) record(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	h.counts[bucketOf(uint64(us))]++
	h.n++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile is the latency below which a share q of requests stayed, in
// milliseconds.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	rank = max(1, min(rank, h.n))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return valueOf(i) / 1000
		}
	}
	return valueOf(len(h.counts)-1) / 1000
}
