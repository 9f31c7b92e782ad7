package trace

import (
	"fmt"
	"strings"
	"testing"
)

// TestRepeatedRecipientDegree: a recipient of more than MaxDegree (200)
// transfers is no evidence of a link (an exchange or a busy user receives
// many withdrawals by chance), one of exactly 200 still is. c receives the
// 4 withdrawals after a's burst of 4 deposits, and extra transfers of 1
// from others.
func TestRepeatedRecipientDegree(t *testing.T) {
	for _, c := range []struct {
		extra, links int
	}{
		{196, 4}, // 200 transfers
		{197, 0}, // 201
	} {
		lines := []string{"1 thief a 400"}
		for range 4 {
			lines = append(lines, "10 a tc100 100")
		}
		for b := 100; b <= 400; b += 100 {
			lines = append(lines, fmt.Sprintf("%d tc100 c 100", b))
		}
		for i := range c.extra {
			lines = append(lines, fmt.Sprintf("500 x%d c 1", i))
		}
		lines = append(lines, "label tc100 mixer TumbleCash 100 pool")
		w, err := parseLedger(lines)
		if err != nil {
			t.Fatal(err)
		}
		out := runTrace(t, w, w.graphs(t)["append"], strings.Fields("--from thief --policy haircut --direction forward --mixer demix"))
		if n := strings.Count(out, "ref repeated-recipient"); n != c.links {
			t.Errorf("recipient of %d transfers: %d repeated-recipient links, want %d\n%s", 4+c.extra, n, c.links, out)
		}
	}
}
