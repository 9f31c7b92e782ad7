package importer

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// memSink is an in-memory Sink that keeps transfers by (chain, block,
// position) like the store does and rejects a conflicting rewrite.
type memSink struct {
	cps    map[string][]byte
	ts     map[string]model.Transfer
	blocks map[string]model.Block // block facts without transfers
	writes int
	failAt int // fail the failAt-th write (1-based); 0: never
}

func newMemSink() *memSink {
	return &memSink{cps: map[string][]byte{}, ts: map[string]model.Transfer{}, blocks: map[string]model.Block{}}
}

func (m *memSink) Checkpoint(name string) ([]byte, bool, error) {
	v, ok := m.cps[name]
	return v, ok, nil
}

func (m *memSink) Write(_ context.Context, blocks []model.Block, name string, value []byte) error {
	m.writes++
	if m.failAt == m.writes {
		return fmt.Errorf("injected failure at write %d", m.writes)
	}
	for _, b := range blocks {
		if err := b.Validate(); err != nil {
			return err
		}
	}
	for _, b := range blocks {
		for _, t := range b.Transfers {
			k := fmt.Sprintf("%s/%d/%d", t.Chain, t.Block, t.Position)
			if old, ok := m.ts[k]; ok && old != t {
				return fmt.Errorf("conflict at %s", k)
			}
			m.ts[k] = t
		}
		meta := b
		meta.Transfers = nil
		meta.Txs = slices.Clone(b.Txs)
		bk := fmt.Sprintf("%s/%d", b.Chain, b.Number)
		if old, ok := m.blocks[bk]; ok && len(meta.Txs) == 0 {
			meta.Txs = old.Txs // a later import without transactions keeps them
		}
		m.blocks[bk] = meta
	}
	m.cps[name] = append([]byte(nil), value...)
	return nil
}

// transfers returns every stored transfer in chain order.
func (m *memSink) transfers() []model.Transfer {
	var out []model.Transfer
	for _, t := range m.ts {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b model.Transfer) int {
		if a.Chain != b.Chain {
			if a.Chain < b.Chain {
				return -1
			}
			return 1
		}
		if a.Less(&b) {
			return -1
		}
		if b.Less(&a) {
			return 1
		}
		return 0
	})
	return out
}

func td(parts ...string) string { return filepath.Join(append([]string{"testdata"}, parts...)...) }

func run(t *testing.T, m *memSink, o Options) Result {
	t.Helper()
	res, err := Run(context.Background(), m, o)
	if err != nil {
		t.Fatalf("import %s %v: %v", o.Format, o.Files, err)
	}
	return res
}

func u256(s string) uint256.Int {
	v, err := uint256.FromDecimal(s)
	if err != nil {
		panic(err)
	}
	return *v
}
