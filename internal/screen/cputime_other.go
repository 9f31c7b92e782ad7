//go:build !linux

package screen

import "time"

// ThreadCPUTime is not available on this system; it returns 0.
func ThreadCPUTime() time.Duration { return 0 }

// ProcessCPUTime is not available on this system; it returns 0.
func ProcessCPUTime() time.Duration { return 0 }
