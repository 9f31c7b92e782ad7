package convert

import (
	"context"
	"fmt"

	"github.com/redthread/redthread/internal/model"
)

// Store is what FromStore needs of the ledger store (*store.Store).
type Store interface {
	ScanConversions(ctx context.Context, chain model.Chain, fromBlock, toBlock uint64, fn func(*model.Conversion) error) error
	TxHash(ctx context.Context, chain model.Chain, block uint64, pos model.Position) (string, bool, error)
}

// FromStore reads every conversion recorded for the chains, looks up the
// transaction of each bridge deposit, matches deposits with payouts across
// all of the chains given (Match) and joins multi-hop swap routes into one
// conversion each (Collapse), so that a trace crosses a route in one step.
// Result.Conversions is ready for trace.NewConversionSet.
func FromStore(ctx context.Context, st Store, chains ...model.Chain) (*Result, error) {
	var halves []Half
	for _, ch := range chains {
		err := st.ScanConversions(ctx, ch, 0, ^uint64(0), func(c *model.Conversion) error {
			h := Half{Conv: *c}
			if c.Kind == model.ConvBridge && c.In.Known() && !c.Out.Known() {
				tx, ok, err := st.TxHash(ctx, c.In.Chain, c.In.Block, c.In.Position)
				if err != nil {
					return fmt.Errorf("deposit %s: %w", c.In, err)
				}
				if !ok {
					return fmt.Errorf("deposit %s: its transfer is not in the store", c.In)
				}
				h.TxHash = tx
			}
			halves = append(halves, h)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read conversions of %s: %w", ch, err)
		}
	}
	r := Match(halves)
	r.Conversions = Collapse(r.Conversions)
	return r, nil
}
