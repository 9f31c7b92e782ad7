package cli

import (
	"regexp"
	"strings"
	"testing"
)

// TestDemo runs the README's main job end to end on a small world and checks
// that every step found what it should.
func TestDemo(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := runCLI(t, "demo", "--data", data, "--scale", "20000")
	if code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^== 7\. `),
		regexp.MustCompile(`scenario exchange-hot-wallet: stole 401000\.000 SYN`),
		regexp.MustCompile(`SANCTIONED LAZARUS GROUP \[ofac:27307\]`),
		regexp.MustCompile(`(?m)^  native  1   401000000000000000000000 `),
		regexp.MustCompile(`(?m)^endpoint 0x[0-9a-f]{40} exchange "`),
		regexp.MustCompile(`(?m)^source of native: received`),
		regexp.MustCompile(`(?m)^score 0\.9`),
		regexp.MustCompile(`ofac:20157 +KIM, Jong Un`),
	} {
		if !want.MatchString(out) {
			t.Errorf("demo output lacks %s", want)
		}
	}
	if !strings.Contains(out, "--data "+data+" serve --swaps") {
		t.Errorf("demo does not tell how to explore the data")
	}
	if code, _, errOut := runCLI(t, "demo", "--scale", "5"); code != ExitUsage || !strings.Contains(errOut, "--scale 5") {
		t.Errorf("bad --scale: exit %d, stderr %q", code, errOut)
	}
}
