package store

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/redthread/redthread/internal/model"
)

// Conversions (swaps, bridge deposits and payouts) are kept under
// X len chain block(8) pos(8), the leg seen in that block (the In leg when
// known). Value: kind byte (0 swap, 1 bridge), the In and Out legs (a flag
// byte 1 and len chain, uvarint block, uvarint position; or 0 for an
// unknown leg), amount in and out (decimal encoding), uvarint length and
// the reference text.

func conversionKey(dst []byte, l model.Leg) []byte {
	dst = chainPrefix(dst, pConversion, l.Chain)
	dst = binary.BigEndian.AppendUint64(dst, l.Block)
	return binary.BigEndian.AppendUint64(dst, uint64(l.Position))
}

func appendConversion(dst []byte, c *model.Conversion) []byte {
	k := byte(0)
	if c.Kind == model.ConvBridge {
		k = 1
	}
	dst = append(dst, k)
	for _, l := range []model.Leg{c.In, c.Out} {
		if !l.Known() {
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, 1, byte(len(l.Chain)))
		dst = append(dst, l.Chain...)
		dst = binary.AppendUvarint(dst, l.Block)
		dst = binary.AppendUvarint(dst, uint64(l.Position))
	}
	dst = appendAmountDec(dst, &c.AmountIn)
	dst = appendAmountDec(dst, &c.AmountOut)
	dst = binary.AppendUvarint(dst, uint64(len(c.Ref)))
	return append(dst, c.Ref...)
}

func decodeConversion(b []byte, c *model.Conversion) error {
	if len(b) < 1 || b[0] > 1 {
		return errCorrupt
	}
	*c = model.Conversion{Kind: model.ConvSwap}
	if b[0] == 1 {
		c.Kind = model.ConvBridge
	}
	b = b[1:]
	var err error
	for _, l := range []*model.Leg{&c.In, &c.Out} {
		if len(b) < 1 || b[0] > 1 {
			return errCorrupt
		}
		if b[0] == 0 {
			b = b[1:]
			continue
		}
		if len(b) < 2 || len(b) < 2+int(b[1]) || b[1] == 0 {
			return errCorrupt
		}
		l.Chain = model.Chain(b[2 : 2+b[1]])
		b = b[2+b[1]:]
		if l.Block, b, err = readUvarint(b); err != nil {
			return err
		}
		var p uint64
		if p, b, err = readUvarint(b); err != nil {
			return err
		}
		l.Position = model.Position(p)
	}
	if b, err = readAmountDec(b, &c.AmountIn); err != nil {
		return err
	}
	if b, err = readAmountDec(b, &c.AmountOut); err != nil {
		return err
	}
	n, b, err := readUvarint(b)
	if err != nil || n != uint64(len(b)) {
		return errCorrupt
	}
	c.Ref = string(b)
	return nil
}

// ScanConversions calls fn for every conversion observed in blocks
// fromBlock ≤ block ≤ toBlock of a chain, in chain order. The conversion
// passed to fn is reused.
func (s *Store) ScanConversions(ctx context.Context, chain model.Chain, fromBlock, toBlock uint64, fn func(*model.Conversion) error) error {
	if err := s.live(); err != nil {
		return err
	}
	lo, hi := blockBounds(pConversion, chain, fromBlock, toBlock)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	var c model.Conversion
	for ok := it.First(); ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := decodeConversion(it.Value(), &c); err != nil {
			return fmt.Errorf("conversion %x: %w", it.Key(), err)
		}
		if err := fn(&c); err != nil {
			return err
		}
	}
	return it.Error()
}
