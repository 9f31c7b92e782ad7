package store

import (
	"context"
	"os"
	"testing"
)

// TestSizeBreakdown prints bytes per transfer by key prefix (set
// REDTHREAD_SIZE_BREAKDOWN=1; it is skipped otherwise).
func TestSizeBreakdown(t *testing.T) {
	if os.Getenv("REDTHREAD_SIZE_BREAKDOWN") == "" {
		t.Skip("set REDTHREAD_SIZE_BREAKDOWN=1")
	}
	n := 1_000_000
	world := benchWorld(n, 100, 1)
	s, err := Open(t.TempDir(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i := 0; i < len(world); i += 1000 {
		if err := s.Write(ctx, world[i:min(i+1000, len(world))], nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []byte{pAddr, pAddrRev, pBlock, pCounter, pIn, pOut, pTransfer, pConversion} {
		du, _ := s.db.EstimateDiskUsage([]byte{p}, []byte{p + 1})
		t.Logf("%c: %.2f bytes/transfer", p, float64(du)/float64(n))
	}
	du, _ := s.DiskUsage()
	t.Logf("total: %.2f bytes/transfer", float64(du)/float64(n))
}
