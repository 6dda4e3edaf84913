package main

import (
	"math"
	"math/bits"
	"time"
)

// The latency histogram is log-bucketed, HDR style: values (nanoseconds)
// below 2*histSub are counted exactly; above, each power of two is cut
// into histSub buckets of equal width. A bucket is at most 1/histSub of
// its lower bound wide, and a quantile is reported as the middle of its
// bucket, so it is within 1/(2*histSub) (0.8%) of the true value.
// Values from 2^histMaxBits ns (17 s) up fall into the last bucket: a
// round trip is bounded well below that by the -rt-timeout.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits // buckets per power of two
	histMaxBits = 34
	// linear 0 .. 2*histSub-1, then one row of histSub per shift
	histBuckets = 2*histSub + (histMaxBits-histSubBits-1)*histSub
)

// hist is one connection's histogram: a fixed array, so that recording
// a value never allocates. uint32 counts: a connection does well under
// 4e9 round trips in any bounded run.
type hist struct {
	counts [histBuckets]uint32
	n      uint64
	sum    uint64 // ns
	max    uint64 // ns
}

func histIndex(v uint64) int {
	if v < 2*histSub {
		return int(v)
	}
	if v >= 1<<histMaxBits {
		return histBuckets - 1
	}
	shift := bits.Len64(v) - histSubBits - 1 // v>>shift in [histSub, 2*histSub)
	return 2*histSub + (shift-1)*histSub + int(v>>shift) - histSub
}

// histBounds is the bucket i's range of values, [lo, hi).
func histBounds(i int) (lo, hi uint64) {
	if i < 2*histSub {
		return uint64(i), uint64(i) + 1
	}
	row := (i - 2*histSub) / histSub
	shift := row + 1
	lo = uint64(histSub+(i-2*histSub)%histSub) << shift
	return lo, lo + 1<<shift
}

func (h *hist) record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[histIndex(v)]++
	h.n++
	h.sum += v
	if v > h.max {
		h.max = v
	}
}

// merged is the sum of the connections' histograms.
type merged struct {
	counts [histBuckets]uint64
	n      uint64
	sum    uint64
	max    uint64
}

func (m *merged) add(h *hist) {
	for i, c := range h.counts {
		m.counts[i] += uint64(c)
	}
	m.n += h.n
	m.sum += h.sum
	if h.max > m.max {
		m.max = h.max
	}
}

// quantile is the q-quantile (0 < q <= 1) in ns: the middle of the
// bucket holding the ceil(q*n)-th smallest value, capped at the largest
// value seen; 0 when empty.
func (m *merged) quantile(q float64) float64 {
	if m.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(m.n)))
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	for i, c := range m.counts {
		cum += c
		if cum >= rank {
			lo, hi := histBounds(i)
			if hi-lo == 1 {
				return float64(lo)
			}
			mid := float64(lo) + float64(hi-lo)/2
			return math.Min(mid, float64(m.max))
		}
	}
	return float64(m.max)
}

func (m *merged) mean() float64 {
	if m.n == 0 {
		return 0
	}
	return float64(m.sum) / float64(m.n)
}
