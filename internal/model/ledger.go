package model

import (
	"errors"
	"fmt"
	"strings"

	"github.com/holiman/uint256"
)

// Chain is a short chain identifier such as "eth" or "btc".
type Chain string

// Known chain identifiers.
const (
	ChainETH Chain = "eth"
	ChainBTC Chain = "btc"
)

// NativeAsset names a chain's own coin wherever an asset is expected.
const NativeAsset = "native"

// Kind says what produced a transfer.
type Kind uint8

// Transfer kinds.
const (
	KindNative     Kind = iota + 1 // value of a top-level transaction
	KindInternal                   // value moved by a call inside a transaction (traces)
	KindToken                      // a token Transfer event
	KindFee                        // transaction fee: tip to the block's fee recipient, base fee to the burn address
	KindWithdrawal                 // consensus-layer withdrawal credited to an address (post-Shanghai)
	KindReward                     // block or uncle reward (pre-merge traces)
)

var kindNames = [...]string{"", "native", "internal", "token", "fee", "withdrawal", "reward"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if i > 0 && n == s {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown transfer kind %q", s)
}

// Position totally orders transfers inside a block. Adapters build it with
// MakePosition from the transaction index and a sequence number inside the
// transaction; imports may give any integer.
type Position uint64

// WithdrawalTxIndex is the transaction index given to withdrawals, which a
// block processes after all of its transactions.
const WithdrawalTxIndex = 1<<32 - 1

// RewardTxIndex is the transaction index given to block and uncle rewards
// (proof-of-work issuance): after all transactions, before withdrawals.
const RewardTxIndex = 1<<32 - 2

// MakePosition packs a transaction index and a sequence inside it.
func MakePosition(txIndex uint32, seq uint32) Position {
	return Position(uint64(txIndex)<<32 | uint64(seq))
}

// TxIndex returns the transaction index part of a position built by MakePosition.
func (p Position) TxIndex() uint32 { return uint32(p >> 32) }

// Seq returns the sequence part of a position built by MakePosition.
func (p Position) Seq() uint32 { return uint32(p) }

// Transfer is one movement of value. Amount is exact, in the asset's smallest unit.
type Transfer struct {
	Chain    Chain
	Block    uint64
	Time     int64 // block time, Unix seconds
	Position Position
	TxHash   string // canonical text form ("0x" + 64 lower-case hex digits on EVM chains)
	From     string // canonical address
	To       string // canonical address
	Asset    string // NativeAsset or a canonical token contract address
	Amount   uint256.Int
	Kind     Kind
}

// Less orders transfers in chain order.
func (t *Transfer) Less(u *Transfer) bool {
	if t.Block != u.Block {
		return t.Block < u.Block
	}
	return t.Position < u.Position
}

// Tx is a transaction as ingested: enough to say that it happened, whether it
// succeeded and what it cost, even when it moved no value.
type Tx struct {
	Hash    string
	Index   uint32
	From    string
	To      string // empty for contract creation
	Value   uint256.Int
	Fee     uint256.Int // gas used × effective gas price
	Status  bool        // false: reverted; it moved no value but paid its fee
	Created string      // address of the contract it created, if any
}

// Block is the unit of ingestion: a block's header facts, its transactions and
// every transfer it made, in position order.
type Block struct {
	Chain      Chain
	Number     uint64
	Hash       string
	ParentHash string
	Time       int64
	Txs        []Tx
	Transfers  []Transfer
	// Conversions observed in this block (DEX swaps, bridge deposits and
	// payouts): each has a leg in this block, its In leg if that is known.
	Conversions []Conversion
}

// Validate checks the invariants every adapter must produce.
func (b *Block) Validate() error {
	var prev Position
	for i := range b.Transfers {
		t := &b.Transfers[i]
		if t.Chain != b.Chain || t.Block != b.Number || t.Time != b.Time {
			return fmt.Errorf("block %d: transfer %d: chain, block or time differs from its block", b.Number, i)
		}
		if i > 0 && t.Position <= prev {
			return fmt.Errorf("block %d: transfer %d: position %d not after %d", b.Number, i, t.Position, prev)
		}
		prev = t.Position
	}
	for i := range b.Conversions {
		c := &b.Conversions[i]
		l := c.In
		if !l.Known() {
			l = c.Out
		}
		if l.Chain != b.Chain || l.Block != b.Number {
			return fmt.Errorf("block %d: conversion %d: no leg in this block", b.Number, i)
		}
		if c.Kind != ConvSwap && c.Kind != ConvBridge {
			return fmt.Errorf("block %d: conversion %d: unknown kind %q", b.Number, i, c.Kind)
		}
	}
	return nil
}

// ErrInvalidAddress reports an address that is not canonical for its chain.
var ErrInvalidAddress = errors.New("invalid address")

// NormalizeAddress returns the canonical form of an address on a chain.
// EVM chains take "0x" and 40 hex digits in any case and return lower case.
func NormalizeAddress(chain Chain, s string) (string, error) {
	s = strings.TrimSpace(s)
	if IsEVM(chain) {
		return normalizeHex(s, 20)
	}
	if s == "" || len(s) > 128 {
		return "", fmt.Errorf("%w: %q on %s", ErrInvalidAddress, s, chain)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return "", fmt.Errorf("%w: %q on %s", ErrInvalidAddress, s, chain)
		}
	}
	return s, nil
}

// NormalizeHash returns the canonical form of a 32-byte transaction or block hash.
func NormalizeHash(s string) (string, error) {
	h, err := normalizeHex(strings.TrimSpace(s), 32)
	if err != nil {
		return "", fmt.Errorf("invalid hash %q", s)
	}
	return h, nil
}

// NormalizeAsset returns NativeAsset or the canonical token contract address.
func NormalizeAsset(chain Chain, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == NativeAsset || s == "" {
		return NativeAsset, nil
	}
	return NormalizeAddress(chain, s)
}

// IsEVM reports whether a chain uses 20-byte hex addresses.
func IsEVM(chain Chain) bool {
	switch chain {
	case "eth", "bsc", "arb", "op", "base", "polygon", "avax", "ftm", "etc", "synth", "synth2":
		return true
	}
	return false
}

func normalizeHex(s string, n int) (string, error) {
	if len(s) != 2+2*n || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return "", fmt.Errorf("%w: %q: want 0x and %d hex digits", ErrInvalidAddress, s, 2*n)
	}
	b := []byte(s)
	b[1] = 'x'
	for i := 2; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			b[i] = c + ('a' - 'A')
		default:
			return "", fmt.Errorf("%w: %q: bad hex digit at %d", ErrInvalidAddress, s, i)
		}
	}
	return string(b), nil
}

// ParseAmount parses a non-negative decimal integer that must fit 256 bits.
func ParseAmount(s string) (uint256.Int, error) {
	var z uint256.Int
	if s == "" {
		return z, errors.New("empty amount")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return z, fmt.Errorf("amount %q is not a non-negative decimal integer", trunc(s))
		}
	}
	if err := z.SetFromDecimal(s); err != nil {
		return z, fmt.Errorf("amount %q does not fit 256 bits", trunc(s))
	}
	return z, nil
}

func trunc(s string) string {
	if len(s) > 90 {
		return s[:90] + "…"
	}
	return s
}
