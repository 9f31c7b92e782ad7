package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

// binary builds the redthread binary once for the package's tests that run
// it as a real process, and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "redthread-bin-")
		if built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "redthread")
		build := exec.Command("go", "build", "-o", built.bin, "./cmd/redthread")
		build.Dir = filepath.Join("..", "..")
		built.out, built.err = build.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}
