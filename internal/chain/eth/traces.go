package eth

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// parityMoves turns trace_block output into per-transaction internal moves.
// Traces come in pre-order per transaction; a trace is reverted when it or
// any ancestor (a prefix of its traceAddress) has an error, and a reverted
// trace moves nothing. Top-level traces (empty traceAddress) carry the
// transaction's own value, which normalize takes from the transaction; they
// only say whether the transaction failed. Block and uncle rewards (type
// reward, no transaction) are returned apart, in canonical order (see
// reward).
func parityMoves(block uint64, traces []parityTrace, txHashes []string) ([]txTrace, []reward, error) {
	out := make([]txTrace, len(txHashes))
	var rewards []reward
	reverted := make([]map[string]bool, len(txHashes)) // traceAddress key → reverted
	for i := range traces {
		t := &traces[i]
		if t.TransactionPosition == nil {
			if t.Type != "reward" {
				return nil, nil, fmt.Errorf("block %d: trace %d: type %q without transactionPosition", block, i, t.Type)
			}
			r, err := parityReward(block, i, t)
			if err != nil {
				return nil, nil, err
			}
			rewards = append(rewards, r)
			continue
		}
		pos := *t.TransactionPosition
		if int(pos) >= len(txHashes) {
			return nil, nil, fmt.Errorf("block %d: trace %d: field \"transactionPosition\": %d, block has %d transactions", block, i, pos, len(txHashes))
		}
		p := &parser{ctx: fmt.Sprintf("block %d: tx %s (index %d): trace %v", block, txHashes[pos], pos, t.TraceAddress)}
		if t.TransactionHash != nil {
			if h := p.hash("transactionHash", t.TransactionHash); p.err == nil && h != txHashes[pos] {
				p.fail("transactionHash", "%s does not match the transaction at that position", h)
			}
		}
		if p.err != nil {
			return nil, nil, p.err
		}
		tr := &out[pos]
		if reverted[pos] == nil {
			reverted[pos] = map[string]bool{}
		}
		key := addrKey(t.TraceAddress)
		failed := t.Error != ""
		if len(t.TraceAddress) == 0 {
			if tr.present {
				return nil, nil, fmt.Errorf("%s: second top-level trace", p.ctx)
			}
			tr.present, tr.failed = true, failed
		} else {
			parent, ok := reverted[pos][addrKey(t.TraceAddress[:len(t.TraceAddress)-1])]
			if !ok {
				return nil, nil, fmt.Errorf("%s: trace before its parent", p.ctx)
			}
			failed = failed || parent
		}
		if _, dup := reverted[pos][key]; dup {
			return nil, nil, fmt.Errorf("%s: repeated traceAddress", p.ctx)
		}
		reverted[pos][key] = failed
		m, moves := parityMove(p, t)
		if p.err != nil {
			return nil, nil, p.err
		}
		if moves && !failed && len(t.TraceAddress) > 0 && !m.value.IsZero() {
			tr.moves = append(tr.moves, m)
		}
	}
	for i := range out {
		if len(reverted[i]) > 0 && !out[i].present {
			return nil, nil, fmt.Errorf("block %d: tx %s (index %d): traces without a top-level trace", block, txHashes[i], i)
		}
	}
	sort.SliceStable(rewards, func(i, j int) bool { return rewardRank(rewards[i].typ) < rewardRank(rewards[j].typ) })
	return out, rewards, nil
}

// parityReward reads a reward trace: action.author earns action.value.
// rewardType is "block" or "uncle" (ethash), or "emptyStep" or "external"
// (OpenEthereum's AuRa chains).
func parityReward(block uint64, i int, t *parityTrace) (reward, error) {
	p := &parser{ctx: fmt.Sprintf("block %d: reward trace %d", block, i)}
	var r reward
	if len(t.TraceAddress) != 0 || t.TransactionHash != nil {
		p.fail("traceAddress", "a reward belongs to no transaction")
	}
	if typ, ok := p.need("action.rewardType", t.Action.RewardType); ok {
		switch typ {
		case "block", "uncle", "emptyStep", "external":
			r.typ = typ
		default:
			p.fail("action.rewardType", "unknown reward type %q", typ)
		}
	}
	r.to = p.address("action.author", t.Action.Author)
	r.value = p.u256("action.value", t.Action.Value)
	return r, p.err
}

// parityMove reads the value movement of one trace, if its type moves value.
func parityMove(p *parser, t *parityTrace) (move, bool) {
	a := &t.Action
	var m move
	switch t.Type {
	case "call":
		ct, ok := p.need("action.callType", a.CallType)
		if !ok {
			return m, false
		}
		switch ct {
		case "call":
		case "callcode", "delegatecall", "staticcall":
			// callcode sends value from the caller to itself; delegatecall
			// and staticcall move none.
			return m, false
		default:
			p.fail("action.callType", "unknown call type %q", ct)
			return m, false
		}
		m.from = p.address("action.from", a.From)
		m.to = p.address("action.to", a.To)
		m.value = p.u256("action.value", a.Value)
	case "create":
		m.from = p.address("action.from", a.From)
		m.value = p.u256("action.value", a.Value)
		if t.Error != "" || len(t.TraceAddress) == 0 {
			return m, false // failed, or the transaction's own creation (normalize has it)
		}
		if t.Result == nil {
			p.fail("result", "missing for a successful create")
			return m, false
		}
		m.to = p.address("result.address", t.Result.Address)
	case "suicide":
		m.from = p.address("action.address", a.Address)
		m.to = p.address("action.refundAddress", a.RefundAddress)
		m.value = p.u256("action.balance", a.Balance)
	case "reward":
		p.fail("type", "reward trace inside a transaction")
		return m, false
	default:
		p.fail("type", "unknown trace type %q", t.Type)
		return m, false
	}
	return m, p.err == nil
}

func addrKey(a []uint32) string {
	var b strings.Builder
	for i, x := range a {
		if i > 0 {
			b.WriteByte('_')
		}
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	}
	return b.String()
}

// gethMoves turns debug_traceBlockByNumber callTracer output into
// per-transaction internal moves, walking each call tree in pre-order. A
// frame with an error, and every frame below it, moves nothing; the
// top-level frame is the transaction itself.
func gethMoves(block uint64, traces []gethTxTrace, txHashes []string) ([]txTrace, error) {
	if len(traces) != len(txHashes) {
		return nil, fmt.Errorf("block %d: callTracer returned %d traces for %d transactions", block, len(traces), len(txHashes))
	}
	out := make([]txTrace, len(txHashes))
	for i := range traces {
		t := &traces[i]
		p := &parser{ctx: fmt.Sprintf("block %d: tx %s (index %d): trace", block, txHashes[i], i)}
		if t.TxHash != nil {
			if h := p.hash("txHash", t.TxHash); p.err == nil && h != txHashes[i] {
				p.fail("txHash", "%s does not match the transaction at that position", h)
			}
		}
		if t.Error != "" {
			p.fail("error", "node could not trace the transaction: %s", t.Error)
		}
		if p.err == nil && t.Result == nil {
			p.fail("result", "missing")
		}
		if p.err != nil {
			return nil, p.err
		}
		tr := &out[i]
		tr.present = true
		tr.failed = t.Result.Error != ""
		if err := gethWalk(p, tr, t.Result, nil, tr.failed); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func gethWalk(p *parser, tr *txTrace, f *gethFrame, addr []uint32, reverted bool) error {
	for i := range f.Calls {
		c := &f.Calls[i]
		a := append(addr[:len(addr):len(addr)], uint32(i))
		failed := reverted || c.Error != ""
		cp := &parser{ctx: fmt.Sprintf("%s %v", p.ctx, a)}
		var m move
		moves := false
		switch strings.ToUpper(c.Type) {
		case "CALL", "CREATE", "CREATE2", "SELFDESTRUCT":
			if c.Value == nil && strings.EqualFold(c.Type, "SELFDESTRUCT") {
				// geth's old JavaScript callTracer wrote bare SELFDESTRUCT
				// frames: the amount moved cannot be known.
				cp.fail("value", "missing in a SELFDESTRUCT frame (an old geth callTracer?); the amount moved is unknown: use a newer geth or --tracer parity")
				break
			}
			m.from = cp.address("from", c.From)
			if c.Value != nil {
				m.value = cp.u256("value", c.Value)
			}
			if !failed && !m.value.IsZero() {
				m.to = cp.address("to", c.To)
				moves = true
			}
		case "CALLCODE", "DELEGATECALL", "STATICCALL":
			// No value leaves the caller (see parityMove).
		default:
			cp.fail("type", "unknown call type %q", c.Type)
		}
		if cp.err != nil {
			return cp.err
		}
		if moves {
			tr.moves = append(tr.moves, m)
		}
		if err := gethWalk(p, tr, c, a, failed); err != nil {
			return err
		}
	}
	return nil
}
