package traceeval

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/redthread/redthread/internal/synth"
)

// Several tests read the same default 200 000-transfer worlds; each is
// generated once per test binary. Tests must not modify a shared world.
var shared struct {
	mu     sync.Mutex
	worlds map[uint64]*World
	dirs   []string
}

// defaultWorld returns the shared world of synth.Params{Seed: seed, Scale:
// 200_000}.
func defaultWorld(t *testing.T, seed uint64) *World {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if w := shared.worlds[seed]; w != nil {
		return w
	}
	dir, err := os.MkdirTemp("", "traceeval-world-")
	if err != nil {
		t.Fatal(err)
	}
	shared.dirs = append(shared.dirs, dir)
	w, err := Generate(context.Background(), synth.Params{Seed: seed, Scale: 200_000}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if shared.worlds == nil {
		shared.worlds = map[uint64]*World{}
	}
	shared.worlds[seed] = w
	return w
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range shared.dirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}
