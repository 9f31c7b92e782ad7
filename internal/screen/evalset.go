package screen

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// readTSV reads a tab-separated file, skipping blank lines and lines that
// start with '#'. Every row needs at least minCols columns.
func readTSV(path string, minCols int) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
			continue
		}
		cols := strings.Split(s, "\t")
		if len(cols) < minCols {
			return nil, fmt.Errorf("%s:%d: %d columns, want at least %d", path, line, len(cols), minCols)
		}
		rows = append(rows, cols)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rows, nil
}
