package synth

import (
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// Transfer is one movement of value in a generated block, in compact form:
// addresses are ids on the block's chain and the amount is a granule count.
type Transfer struct {
	TxIndex uint32
	Seq     uint32
	From    uint32
	To      uint32
	Asset   uint8
	Kind    model.Kind
	Amount  uint64 // granules of Asset
}

// Tx is one generated transaction.
type Tx struct {
	Index  uint32
	From   uint32
	To     uint32
	Value  uint64 // native granules
	Fee    uint64 // native granules; 0 when the fee is sponsored
	Status bool   // false: reverted, moved nothing but its fee
}

// Block is one generated block. Its slices are reused after the Sink returns:
// a Sink that keeps data must copy it (ModelBlock copies).
type Block struct {
	World     *World
	ChainIdx  int
	Number    uint64
	Time      int64
	Validator uint32
	Txs       []Tx
	Transfers []Transfer
}

// Chain returns the block's chain id.
func (b *Block) Chain() model.Chain { return b.World.specs[b.ChainIdx].chain }

// ModelTransfer converts transfer i to the ledger model.
func (b *Block) ModelTransfer(i int) model.Transfer {
	t := &b.Transfers[i]
	w := b.World
	return model.Transfer{
		Chain:    b.Chain(),
		Block:    b.Number,
		Time:     b.Time,
		Position: model.MakePosition(t.TxIndex, t.Seq),
		TxHash:   w.TxHash(b.ChainIdx, b.Number, t.TxIndex),
		From:     w.Address(b.ChainIdx, t.From),
		To:       w.Address(b.ChainIdx, t.To),
		Asset:    w.specs[b.ChainIdx].assets[t.Asset].ID,
		Amount:   w.amountOf(b.ChainIdx, t.Asset, t.Amount),
		Kind:     t.Kind,
	}
}

// ModelBlock converts the block to the ledger model (a deep copy).
func (b *Block) ModelBlock() model.Block {
	w := b.World
	mb := model.Block{
		Chain:      b.Chain(),
		Number:     b.Number,
		Hash:       w.BlockHash(b.ChainIdx, b.Number),
		ParentHash: w.BlockHash(b.ChainIdx, b.Number-1),
		Time:       b.Time,
		Txs:        make([]model.Tx, len(b.Txs)),
		Transfers:  make([]model.Transfer, len(b.Transfers)),
	}
	for i := range b.Txs {
		t := &b.Txs[i]
		mt := &mb.Txs[i]
		mt.Hash = w.TxHash(b.ChainIdx, b.Number, t.Index)
		mt.Index = t.Index
		mt.From = w.Address(b.ChainIdx, t.From)
		mt.To = w.Address(b.ChainIdx, t.To)
		mt.Value = w.amountOf(b.ChainIdx, 0, t.Value)
		mt.Fee = w.amountOf(b.ChainIdx, 0, t.Fee)
		mt.Status = t.Status
	}
	for i := range b.Transfers {
		mb.Transfers[i] = b.ModelTransfer(i)
	}
	return mb
}

// Swap is a DEX swap: the trader paid AmountIn of AssetIn to the pool and got
// AmountOut of AssetOut back, in the same transaction. The rate is
// AmountOut/AmountIn (smallest units).
type Swap struct {
	Chain     model.Chain
	TxHash    string
	Block     uint64
	Time      int64
	Pool      string
	Trader    string
	AssetIn   string
	AmountIn  uint256.Int
	AssetOut  string
	AmountOut uint256.Int
}

// Bridge is a THORChain-style crossing: an inbound deposit to the vault of
// one chain whose memo names the destination chain, asset and address, and
// the outbound payment from the vault of the other chain whose memo names the
// inbound transaction ("OUT:<hash>").
type Bridge struct {
	InChain   model.Chain
	InTx      string
	InBlock   uint64
	InTime    int64
	InFrom    string
	InVault   string
	InAsset   string
	InAmount  uint256.Int
	Memo      string
	OutChain  model.Chain
	OutTx     string
	OutBlock  uint64
	OutTime   int64
	OutVault  string
	OutTo     string
	OutAsset  string
	OutAmount uint256.Int
	OutMemo   string
}

// Flow is one ledger transfer that carried stolen funds, with the stolen part
// of its amount (ground truth).
type Flow struct {
	Scenario string
	Step     string // theft, split, swap-in, swap-out, fanout, peel, otc, mingle, mix-in, mix-out, bridge-in, bridge-out, consolidate, cashout, fee
	Chain    model.Chain
	TxHash   string
	Block    uint64
	Time     int64
	Position model.Position
	From     string
	To       string
	Asset    string
	Amount   uint256.Int
	Stolen   uint256.Int
}

// Endpoint is stolen value arriving at a cash-out service (ground truth).
type Endpoint struct {
	Scenario string
	Chain    model.Chain
	Address  string
	Entity   string
	Category model.Category
	Asset    string
	Stolen   uint256.Int
	TxHash   string
	Block    uint64
	Time     int64
}

// Mix links a mixer deposit to its withdrawal (ground truth, invisible on chain).
type Mix struct {
	Scenario   string // empty for background users
	Chain      model.Chain
	Pool       string
	Amount     uint256.Int
	DepositTx  string
	Depositor  string
	WithdrawTx string
	Recipient  string
	DepositAt  int64
	WithdrawAt int64
}

// Sink receives a generated world in time order: blocks of both chains
// interleaved by time (each chain's blocks in increasing number, only blocks
// with transfers), and the events and ground truth as they happen.
type Sink interface {
	Block(b *Block) error
	Swap(s *Swap) error
	Bridge(b *Bridge) error
	Flow(f *Flow) error
	Endpoint(e *Endpoint) error
	Mix(m *Mix) error
}

// Discard is a Sink that keeps nothing.
type Discard struct{}

func (Discard) Block(*Block) error       { return nil }
func (Discard) Swap(*Swap) error         { return nil }
func (Discard) Bridge(*Bridge) error     { return nil }
func (Discard) Flow(*Flow) error         { return nil }
func (Discard) Endpoint(*Endpoint) error { return nil }
func (Discard) Mix(*Mix) error           { return nil }
