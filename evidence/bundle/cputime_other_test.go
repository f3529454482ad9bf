//go:build !unix

package bundle_test

import "time"

// cpuTime returns false: the CPU time the process used is not known here.
func cpuTime() (time.Duration, bool) { return 0, false }
