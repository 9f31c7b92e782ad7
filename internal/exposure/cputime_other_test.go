//go:build !linux

package exposure

import "time"

func threadCPU() time.Duration { return 0 }
