package model

import (
	"fmt"

	"github.com/holiman/uint256"
)

// ConversionKind says what converted value from one asset or chain to another.
type ConversionKind string

// Conversion kinds.
const (
	ConvSwap   ConversionKind = "swap"   // asset A in, asset B out, on one chain (DEX)
	ConvBridge ConversionKind = "bridge" // deposit on one chain, payout on another
)

// Leg locates one transfer of a conversion. The zero Leg (empty Chain) is a
// leg not yet seen: one half of a bridge observed on one chain only.
type Leg struct {
	Chain    Chain
	Block    uint64
	Position Position
}

// Known reports whether the leg locates a transfer.
func (l Leg) Known() bool { return l.Chain != "" }

func (l Leg) String() string { return fmt.Sprintf("%s:%d.%d", l.Chain, l.Block, l.Position) }

// Conversion links the transfer that paid into a swap or bridge (In) with
// the transfer that paid out (Out). Taint crosses it at the rate
// AmountOut/AmountIn; when both are zero the rate is the legs' own amounts.
type Conversion struct {
	Kind      ConversionKind
	In, Out   Leg
	AmountIn  uint256.Int
	AmountOut uint256.Int
	Ref       string // free text: pool, memo, bridge transfer id
}
