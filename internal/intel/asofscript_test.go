package intel

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redthread/redthread/internal/model"
)

func formatClaim(c Claim) string {
	s := fmt.Sprintf("  %s %s %q entity=%s incident=%s conf=%d source=%q published=%s", c.Category, c.Status, c.Label,
		dashIfEmpty(c.Entity), dashIfEmpty(c.Incident), c.Confidence, c.Source.Name, dayText(c.Source.Published))
	if !c.ValidFrom.IsZero() {
		s += " valid_from=" + dayText(c.ValidFrom)
	}
	if !c.ValidTo.IsZero() {
		s += " valid_to=" + dayText(c.ValidTo)
	}
	if c.DelistedBy != nil {
		s += fmt.Sprintf(" delisted_by=%q@%s", c.DelistedBy.Name, dayText(c.DelistedBy.Published))
	}
	if c.DelistingNote != nil {
		s += fmt.Sprintf(" note=%q", c.DelistingNote.URL)
	}
	return s
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dayText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateOnly)
}

// TestAsOfScript runs testdata/asof.txt: as-of queries on the shipped packs
// with their expected claims.
func TestAsOfScript(t *testing.T) {
	db := shippedDB(t)
	f, err := os.Open("testdata/asof.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want, got []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "  ") {
			got = append(got, line)
		}
		if strings.HasPrefix(line, "  ") || !strings.HasPrefix(line, "> ") {
			want = append(want, line)
			continue
		}
		want = append(want, line)
		fields := strings.Fields(strings.TrimPrefix(line, "> "))
		if len(fields) != 3 {
			t.Fatalf("bad query %q", line)
		}
		claims := db.Explain(model.Chain(fields[0]), fields[1], date(fields[2]))
		if len(claims) == 0 {
			got = append(got, "  (none)")
		}
		for _, c := range claims {
			got = append(got, formatClaim(c))
		}
	}
	if *rewrite {
		if err := os.WriteFile("testdata/asof.txt", []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("testdata/asof.txt (-want +got):\n%s", d)
	}
}
