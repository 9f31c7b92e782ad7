package eth

import (
	"fmt"
	"strings"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// BurnAddress receives the burnt part of fees (base fee, blob fee) after London.
const BurnAddress = "0x0000000000000000000000000000000000000000"

// MintAddress is the sender of withdrawals and of block and uncle rewards,
// which the consensus rules create rather than move from an account.
const MintAddress = "0x0000000000000000000000000000000000000000"

// transferTopic is keccak256("Transfer(address,address,uint256)").
const transferTopic = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

var gwei = uint256.NewInt(1_000_000_000)

// move is one value movement found in a trace, below the top-level call.
type move struct {
	from, to string
	value    uint256.Int
}

// txTrace is what traces say about one transaction.
type txTrace struct {
	present bool   // a trace was given for this transaction
	failed  bool   // the top-level call failed (used when receipts lack status)
	moves   []move // successful internal value movements, in pre-order
}

// rawBlock is everything fetched for one block.
type rawBlock struct {
	number   uint64
	block    *rpcBlock
	receipts []rpcReceipt
	traces   []txTrace // nil when tracing is off
	rewards  []reward  // block and uncle rewards (trace_block, or computed)
	// geth tracer: whether rewards are computed for this block, and the
	// calls that fetched its uncles.
	rewardsDue bool
	uncleCalls []*Call
}

// normalize turns a fetched block into a model.Block (see docs/ingest-eth.md).
func normalize(chain model.Chain, rb *rawBlock) (model.Block, error) {
	b := rb.block
	p := &parser{ctx: fmt.Sprintf("block %d", rb.number)}
	out := model.Block{Chain: chain}
	out.Number = p.u64("number", b.Number)
	if p.err == nil && out.Number != rb.number {
		return out, fmt.Errorf("block %d: node returned block %d", rb.number, out.Number)
	}
	out.Hash = p.hash("hash", b.Hash)
	out.ParentHash = p.hash("parentHash", b.ParentHash)
	ts := p.u64("timestamp", b.Timestamp)
	miner := p.address("miner", b.Miner)
	var baseFee *uint256.Int
	if b.BaseFeePerGas != nil {
		v := p.u256("baseFeePerGas", b.BaseFeePerGas)
		baseFee = &v
	}
	if p.err != nil {
		return out, p.err
	}
	if ts > 1<<62 {
		return out, fmt.Errorf("block %d: field \"timestamp\": %d out of range", rb.number, ts)
	}
	out.Time = int64(ts)
	if b.Transactions == nil {
		return out, fmt.Errorf("block %d: field \"transactions\": missing", rb.number)
	}
	if len(rb.receipts) != len(b.Transactions) {
		return out, fmt.Errorf("block %d: %d receipts for %d transactions", rb.number, len(rb.receipts), len(b.Transactions))
	}
	if rb.traces != nil && len(rb.traces) != len(b.Transactions) {
		return out, fmt.Errorf("block %d: traces for %d transactions, block has %d", rb.number, len(rb.traces), len(b.Transactions))
	}
	out.Txs = make([]model.Tx, 0, len(b.Transactions))
	var cx convCollector // reused across transactions
	for i := range b.Transactions {
		var tr *txTrace
		if rb.traces != nil {
			tr = &rb.traces[i]
		}
		if err := normalizeTx(&out, uint32(i), &b.Transactions[i], &rb.receipts[i], tr, miner, baseFee, &cx); err != nil {
			return out, err
		}
	}
	if len(b.Transactions) >= model.RewardTxIndex {
		return out, fmt.Errorf("block %d: %d transactions: too many to position", rb.number, len(b.Transactions))
	}
	// Block and uncle rewards: after every transaction, before withdrawals.
	for i := range rb.rewards {
		r := &rb.rewards[i]
		addTransfer(&out, model.RewardTxIndex, uint32(i), out.Hash, MintAddress, r.to, model.NativeAsset, &r.value, model.KindReward)
	}
	for i := range b.Withdrawals {
		w := &b.Withdrawals[i]
		wp := &parser{ctx: fmt.Sprintf("block %d: withdrawal %d", rb.number, i)}
		wp.u64("index", w.Index)
		to := wp.address("address", w.Address)
		g := wp.u64("amount", w.Amount)
		if wp.err != nil {
			return out, wp.err
		}
		var amt uint256.Int
		amt.Mul(uint256.NewInt(g), gwei) // < 2^64 · 10^9: exact
		addTransfer(&out, model.WithdrawalTxIndex, uint32(i), out.Hash, MintAddress, to, model.NativeAsset, &amt, model.KindWithdrawal)
	}
	return out, out.Validate()
}

func normalizeTx(out *model.Block, idx uint32, t *rpcTx, r *rpcReceipt, tr *txTrace, miner string, baseFee *uint256.Int, cx *convCollector) error {
	p := &parser{ctx: fmt.Sprintf("block %d: tx %d", out.Number, idx)}
	hash := p.hash("hash", t.Hash)
	if p.err != nil {
		return p.err
	}
	p.ctx = fmt.Sprintf("block %d: tx %s (index %d)", out.Number, hash, idx)
	if ti := p.u64("transactionIndex", t.TransactionIndex); p.err == nil && ti != uint64(idx) {
		p.fail("transactionIndex", "%d, but the transaction is number %d in the block", ti, idx)
	}
	tx := model.Tx{Hash: hash, Index: idx}
	tx.From = p.address("from", t.From)
	if t.To != nil {
		tx.To = p.address("to", t.To)
	}
	tx.Value = p.u256("value", t.Value)
	if p.err != nil {
		return p.err
	}

	rp := &parser{ctx: p.ctx + ": receipt"}
	if rh := rp.hash("transactionHash", r.TransactionHash); rp.err == nil && rh != hash {
		rp.fail("transactionHash", "%s does not match the transaction", rh)
	}
	if r.BlockHash != nil {
		if bh := rp.hash("blockHash", r.BlockHash); rp.err == nil && bh != out.Hash {
			rp.fail("blockHash", "%s is not block %s (reorg during fetch?)", bh, out.Hash)
		}
	}
	gasUsed := rp.u64("gasUsed", r.GasUsed)
	var price uint256.Int
	switch {
	case r.EffectiveGasPrice != nil:
		price = rp.u256("effectiveGasPrice", r.EffectiveGasPrice)
	case t.GasPrice != nil: // nodes older than London report only the transaction's gas price
		price = p.u256("gasPrice", t.GasPrice)
	default:
		rp.fail("effectiveGasPrice", "missing (and the transaction has no gasPrice)")
	}
	tx.Status = true
	switch {
	case r.Status != nil:
		switch s := rp.u64("status", r.Status); {
		case rp.err != nil:
		case s == 0:
			tx.Status = false
		case s == 1:
		default:
			rp.fail("status", "want 0x0 or 0x1, got %q", *r.Status)
		}
	case tr != nil && tr.present:
		tx.Status = !tr.failed // pre-Byzantium: the trace tells
	}
	if r.ContractAddress != nil {
		tx.Created = rp.address("contractAddress", r.ContractAddress)
	}
	var blobFee uint256.Int
	if r.BlobGasUsed != nil && r.BlobGasPrice != nil {
		bu := rp.u256("blobGasUsed", r.BlobGasUsed)
		bp := rp.u256("blobGasPrice", r.BlobGasPrice)
		if _, over := blobFee.MulOverflow(&bu, &bp); over {
			rp.fail("blobGasUsed", "blob fee overflows 256 bits")
		}
	}
	if rp.err == nil && !tx.Status {
		tx.Created = "" // a failed creation creates nothing
	}
	if p.err != nil {
		return p.err
	}
	if rp.err != nil {
		return rp.err
	}
	if _, over := tx.Fee.MulOverflow(uint256.NewInt(gasUsed), &price); over {
		return fmt.Errorf("%s: fee gasUsed × effectiveGasPrice overflows 256 bits", rp.ctx)
	}
	out.Txs = append(out.Txs, tx)

	var seq uint32
	first := len(out.Transfers) // this transaction's transfers are out.Transfers[first:]
	emit := func(from, to, asset string, amt *uint256.Int, kind model.Kind) bool {
		if addTransfer(out, idx, seq, hash, from, to, asset, amt, kind) {
			seq++
			return true
		}
		return false
	}
	// 1. Fees: tip to the miner, base fee burnt (before London: all to the miner), blob fee burnt.
	if baseFee == nil {
		emit(tx.From, miner, model.NativeAsset, &tx.Fee, model.KindFee)
	} else {
		if price.Lt(baseFee) {
			return fmt.Errorf("%s: effective gas price %s is below the block's base fee %s", rp.ctx, price.Dec(), baseFee.Dec())
		}
		var tip, burn uint256.Int
		tip.Sub(&price, baseFee)
		tip.Mul(&tip, uint256.NewInt(gasUsed))
		burn.Mul(baseFee, uint256.NewInt(gasUsed))
		emit(tx.From, miner, model.NativeAsset, &tip, model.KindFee)
		emit(tx.From, BurnAddress, model.NativeAsset, &burn, model.KindFee)
	}
	emit(tx.From, BurnAddress, model.NativeAsset, &blobFee, model.KindFee)
	if !tx.Status {
		return nil // a failed transaction moves nothing else
	}
	// 2. The transaction's own value.
	to := tx.To
	if to == "" {
		to = tx.Created
	}
	if !tx.Value.IsZero() {
		if to == "" {
			return fmt.Errorf("%s: contract creation with value but no contractAddress in the receipt", rp.ctx)
		}
		emit(tx.From, to, model.NativeAsset, &tx.Value, model.KindNative)
	}
	// 3. Internal value transfers, in trace pre-order.
	if tr != nil {
		for i := range tr.moves {
			m := &tr.moves[i]
			emit(m.from, m.to, model.NativeAsset, &m.value, model.KindInternal)
		}
	}
	// 4. ERC-20 Transfer events, by log index; conversion events (swaps,
	// bridge deposits and payouts) are collected to be linked to them.
	var lastLog uint64
	cx.reset(first)
	for i := range r.Logs {
		l := &r.Logs[i]
		lp := &parser{ctx: fmt.Sprintf("%s: log %d", rp.ctx, i)}
		li := lp.u64("logIndex", l.LogIndex)
		if lp.err == nil && i > 0 && li <= lastLog {
			lp.fail("logIndex", "%d not after %d", li, lastLog)
		}
		lastLog = li
		if lp.err != nil {
			return lp.err
		}
		if l.Removed {
			return fmt.Errorf("%s: log marked removed (reorg during fetch?)", lp.ctx)
		}
		from, to, amt, ok := tokenTransfer(lp, l)
		if lp.err != nil {
			return lp.err
		}
		if ok {
			token := lp.address("address", l.Address)
			if lp.err != nil {
				return lp.err
			}
			if emit(from, to, token, &amt, model.KindToken) {
				cx.tokenLog(len(out.Transfers)-1, i)
			}
			continue
		}
		cx.event(l, i)
	}
	cx.link(out)
	return nil
}

// tokenTransfer reads an ERC-20 Transfer event: topic0 the Transfer
// signature, exactly three topics (ERC-721 indexes the token id as a fourth)
// and 32 bytes of data, the amount. Other logs are not token transfers.
func tokenTransfer(p *parser, l *rpcLog) (from, to string, amt uint256.Int, ok bool) {
	if len(l.Topics) != 3 || !strings.EqualFold(l.Topics[0], transferTopic) {
		return
	}
	d, have := p.need("data", l.Data)
	if !have || len(d) != 66 {
		return // not the ERC-20 shape (e.g. data-less or packed variants)
	}
	from, okf := topicAddress(l.Topics[1])
	to, okt := topicAddress(l.Topics[2])
	if !okf || !okt {
		return // an indexed word that is not an address: not ERC-20
	}
	if d[0] != '0' || (d[1] != 'x' && d[1] != 'X') || !isHex(d[2:]) {
		p.fail("data", "bad hex %q", clip(d))
		return
	}
	if digits := strings.TrimLeft(d[2:], "0"); digits != "" {
		if err := amt.SetFromHex("0x" + digits); err != nil {
			p.fail("data", "bad hex amount %q: %v", clip(d), err)
			return
		}
	}
	return from, to, amt, true
}

// topicAddress reads an address from a 32-byte topic whose 12 leading bytes are zero.
func topicAddress(t string) (string, bool) {
	if len(t) != 66 || t[0] != '0' || (t[1] != 'x' && t[1] != 'X') || strings.Trim(t[2:26], "0") != "" {
		return "", false
	}
	a, err := model.NormalizeAddress(model.ChainETH, "0x"+t[26:])
	return a, err == nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// addTransfer appends a transfer unless its amount is zero and reports
// whether it did.
func addTransfer(b *model.Block, txIndex, seq uint32, txHash, from, to, asset string, amt *uint256.Int, kind model.Kind) bool {
	if amt.IsZero() {
		return false
	}
	b.Transfers = append(b.Transfers, model.Transfer{
		Chain: b.Chain, Block: b.Number, Time: b.Time,
		Position: model.MakePosition(txIndex, seq),
		TxHash:   txHash, From: from, To: to, Asset: asset, Amount: *amt, Kind: kind,
	})
	return true
}
