// Package testscript runs the data-driven test scripts of the engines
// (internal/trace, internal/exposure): files of command blocks
//
//	command args…
//	input lines…
//	----
//	expected output, up to the next blank line
//
// where blank lines and lines starting with # outside the expected output
// are comments. It compares each command's output with its expected block
// and, when asked to rewrite, writes the outputs back into the file. Only
// tests import it.
package testscript

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Block is one command of a script.
type Block struct {
	Line     int      // 1-based line of the command
	Cmd      string   // the command line, trimmed
	Input    []string // input lines, trimmed, comments dropped
	Expected string   // expected output, each line ending in \n
	start    int      // index of the first line after the separator
	end      int      // index after the expected output
}

// Parse splits a script into its lines and command blocks.
func Parse(t testing.TB, data []byte) ([]string, []Block) {
	t.Helper()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	var blocks []Block
	for i := 0; i < len(lines); {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			i++
			continue
		}
		b := Block{Line: i + 1, Cmd: l}
		i++
		for i < len(lines) && lines[i] != "----" {
			if s := strings.TrimSpace(lines[i]); s != "" && !strings.HasPrefix(s, "#") {
				b.Input = append(b.Input, s)
			}
			i++
		}
		if i == len(lines) {
			t.Fatalf("line %d: command without ----", b.Line)
		}
		i++
		b.start = i
		var exp []string
		for i < len(lines) && lines[i] != "" {
			exp = append(exp, lines[i])
			i++
		}
		b.end = i
		if len(exp) > 0 {
			b.Expected = strings.Join(exp, "\n") + "\n"
		}
		blocks = append(blocks, b)
	}
	return lines, blocks
}

// Run runs every block of the script file through do and compares the
// output with the expected block; with rewrite it writes the outputs back
// into the file instead.
func Run(t *testing.T, file string, rewrite bool, do func(b *Block) string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines, blocks := Parse(t, data)
	outs := make([]string, len(blocks))
	for i := range blocks {
		b := &blocks[i]
		outs[i] = do(b)
		if !rewrite {
			if d := cmp.Diff(b.Expected, outs[i]); d != "" {
				t.Errorf("%s:%d: %s: output differs (-want +got):\n%s", file, b.Line, b.Cmd, d)
			}
		}
	}
	if !rewrite {
		return
	}
	var sb strings.Builder
	prev := 0
	for i, b := range blocks {
		for _, l := range lines[prev:b.start] {
			sb.WriteString(l + "\n")
		}
		sb.WriteString(outs[i])
		prev = b.end
	}
	for _, l := range lines[prev:] {
		sb.WriteString(l + "\n")
	}
	if err := os.WriteFile(file, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Each runs run as a subtest, named by file, for every file matching
// pattern; no match is a failure.
func Each(t *testing.T, pattern string, run func(t *testing.T, file string)) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts match %s: %v", pattern, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { run(t, file) })
	}
}
