package ir

import (
	"math"
	"slices"
	"time"
)

// Bounds of the memory a report's measure takes, whatever the number of
// incidents measured.
const (
	// exactDurations is how many durations a measure keeps as they are:
	// up to this many, its median and 90th percentile are exact.
	exactDurations = 1024
	// durationAccuracy is the relative error of the median and the 90th
	// percentile of a measure holding more durations: each is within
	// 0.5% of the exact figure. The durations are then counted in
	// buckets whose bounds grow geometrically by durationGamma, at most
	// about 4,400 buckets for durations from 1 ns to 292 years.
	durationAccuracy = 0.005
)

// durationGamma is the ratio of a bucket's upper bound to its lower bound:
// every duration in a bucket is within durationAccuracy of the value the
// bucket stands for.
var (
	durationGamma    = (1 + durationAccuracy) / (1 - durationAccuracy)
	logDurationGamma = math.Log(durationGamma)
)

// durations summarises a stream of non-negative durations in bounded
// memory: the first exactDurations as they are, then, once there are more,
// all of them counted in buckets (see durationAccuracy). The count and the
// mean are always exact.
type durations struct {
	n int
	// sum is in float64 seconds: int64 nanoseconds overflow after about
	// 292 years, which a few thousand month-long incidents reach.
	sum   float64
	exact []time.Duration
	// buckets counts the durations in (gamma^(k-1), gamma^k] ns by k once
	// exact has overflowed; zeros counts zero durations.
	buckets map[int]int64
	zeros   int64
}

// add adds d, which must not be negative.
func (s *durations) add(d time.Duration) {
	s.n++
	s.sum += d.Seconds()
	if s.buckets == nil {
		if len(s.exact) < exactDurations {
			s.exact = append(s.exact, d)
			return
		}
		s.buckets = make(map[int]int64)
		for _, e := range s.exact {
			s.count(e)
		}
		s.exact = nil
	}
	s.count(d)
}

// count adds d to its bucket.
func (s *durations) count(d time.Duration) {
	if d <= 0 {
		s.zeros++
		return
	}
	s.buckets[int(math.Ceil(math.Log(float64(d))/logDurationGamma))]++
}

// stats returns the summary's statistics.
func (s *durations) stats() Stats {
	if s.n == 0 {
		return Stats{}
	}
	at := s.ranks()
	n := s.n
	median := at(n / 2)
	if n%2 == 0 {
		median = (at(n/2-1) + at(n/2)) / 2
	}
	return Stats{
		Count:  n,
		Mean:   time.Duration(s.sum / float64(n) * float64(time.Second)),
		Median: median,
		// The nearest-rank method.
		P90: at(int(math.Ceil(0.9*float64(n))) - 1),
	}
}

// ranks returns a function giving the duration of rank i (from 0) in the
// sorted durations: exact while they are kept, else the value of i's
// bucket.
func (s *durations) ranks() func(i int) time.Duration {
	if s.buckets == nil {
		sorted := slices.Clone(s.exact)
		slices.Sort(sorted)
		return func(i int) time.Duration { return sorted[i] }
	}
	keys := make([]int, 0, len(s.buckets))
	for k := range s.buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return func(i int) time.Duration {
		seen := s.zeros
		if int64(i) < seen {
			return 0
		}
		for _, k := range keys {
			if seen += s.buckets[k]; int64(i) < seen {
				// The value within durationAccuracy of every duration
				// in (gamma^(k-1), gamma^k].
				return time.Duration(2 * math.Pow(durationGamma, float64(k)) / (durationGamma + 1))
			}
		}
		return 0 // not reached: i < n
	}
}
