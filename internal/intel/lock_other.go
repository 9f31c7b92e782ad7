//go:build !unix

package intel

// lock is a no-op where flock is unavailable; run one load at a time there.
func (s *Store) lock() (func(), error) { return func() {}, nil }
