package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/redthread/redthread/internal/traceeval"
)

// TestEvalTrace runs `redthread eval trace` on a small generated world and
// checks the JSON report, the table and bad invocations.
func TestEvalTrace(t *testing.T) {
	var so, se bytes.Buffer
	args := []string{"eval", "trace", "--seed", "3", "--scale", "20000", "--policies", "haircut,fifo", "--data", t.TempDir()}
	if code := Main(context.Background(), append(args, "--json"), &so, &se); code != 0 {
		t.Fatalf("eval trace: exit %d: %s", code, se.String())
	}
	var rep traceeval.Report
	if err := json.Unmarshal(so.Bytes(), &rep); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if rep.Seed != 3 || rep.Scale != 20000 || len(rep.Scores) != 4 {
		t.Fatalf("report seed %d scale %d with %d scores, want seed 3 scale 20000 and 2 scenarios × 2 policies", rep.Seed, rep.Scale, len(rep.Scores))
	}
	for _, s := range rep.Scores {
		if s.Policy != "haircut" && s.Policy != "fifo" || len(s.Assets) == 0 {
			t.Errorf("score %+v", s)
		}
	}
	so.Reset()
	if code := Main(context.Background(), append(args, "--scenarios", "bridge-drain", "--mixer", "fifo", "--min-taint", "1000000000000000000", "--markdown"), &so, &se); code != 0 {
		t.Fatalf("eval trace --mixer fifo --min-taint: exit %d: %s", code, se.String())
	}
	if out := so.String(); !strings.Contains(out, "mixer fifo") || !strings.Contains(out, "dust threshold 1000000000000000000") {
		t.Errorf("markdown header does not state the mixer mode and the dust threshold:\n%s", out)
	}
	so.Reset()
	if code := Main(context.Background(), append(args, "--scenarios", "bridge-drain"), &so, &se); code != 0 {
		t.Fatalf("eval trace: exit %d: %s", code, se.String())
	}
	if out := so.String(); !strings.Contains(out, "bridge-drain  haircut") || strings.Contains(out, "exchange-hot-wallet") {
		t.Errorf("table:\n%s", out)
	}
	// the opt-in scenario is generated only when named
	so.Reset()
	if code := Main(context.Background(), append(args, "--scenarios", "mixer-burst", "--mixer", "demix", "--json"), &so, &se); code != 0 {
		t.Fatalf("eval trace --scenarios mixer-burst: exit %d: %s", code, se.String())
	}
	rep = traceeval.Report{}
	if err := json.Unmarshal(so.Bytes(), &rep); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if len(rep.Scores) != 2 || rep.Scores[0].Scenario != "mixer-burst" || rep.Scores[0].MixNotes == 0 || rep.Scores[0].MixLinks == 0 {
		t.Errorf("mixer-burst: %d scores, first %+v: want the scenario's notes and links reported", len(rep.Scores), rep.Scores)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "trace", "--policies", "taint-all"}, "--policies"},
		{[]string{"eval", "trace", "--scale", "0"}, "--scale"},
		{[]string{"eval", "trace", "--labels", "oracle"}, "--labels"},
		{[]string{"eval", "trace", "--world", t.TempDir() + "/none"}, "--world"},
		{[]string{"eval", "trace", "--world", t.TempDir(), "--seed", "2"}, "not both"},
		{[]string{"eval", "trace", "--scale", "20000", "--scenarios", "heist"}, "unknown scenario"},
		{[]string{"eval", "trace", "--mixer", "blender"}, "--mixer"},
		{[]string{"eval", "trace", "--min-taint", "0.5"}, "--min-taint"},
		{[]string{"eval", "trace", "--mix-max-delay", "-1h"}, "--mix-max-delay"},
	} {
		so.Reset()
		se.Reset()
		if code := Main(context.Background(), tc.args, &so, &se); code != ExitUsage || !strings.Contains(se.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args[2:], code, se.String(), ExitUsage, tc.want)
		}
	}
}
