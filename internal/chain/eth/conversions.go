package eth

import (
	"encoding/hex"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// Conversion events recognized in receipts (docs/conversions.md). Their
// topics are the Keccak-256 hashes of the canonical signatures.
var (
	// Uniswap V2 pair (and its forks: SushiSwap, PancakeSwap, …).
	topicV2Swap = eventTopic("Swap(address,uint256,uint256,uint256,uint256,address)")
	// Uniswap V3 pool.
	topicV3Swap = eventTopic("Swap(address,address,int256,int256,uint160,uint128,int24)")
	// THORChain router: inbound deposit with a memo, and outbound payout.
	topicTCDeposit     = eventTopic("Deposit(address,address,uint256,string)")
	topicTCTransferOut = eventTopic("TransferOut(address,address,address,uint256,string)")
	// Router v4: a payout of ETH handed to an aggregator that swaps it.
	topicTCTransferOutAndCall = eventTopic("TransferOutAndCall(address,address,uint256,address,address,uint256,string)")
	// WETH9: wrapping (Deposit) and unwrapping (Withdrawal) the native coin.
	topicWrap   = eventTopic("Deposit(address,uint256)")
	topicUnwrap = eventTopic("Withdrawal(address,uint256)")
)

func eventTopic(sig string) string { return "0x" + hex.EncodeToString(crypto.Keccak256([]byte(sig))) }

// MaxMemo bounds the THORChain memo accepted from a log; longer strings are
// not taken for memos (THORChain itself caps memos far below this).
const MaxMemo = 1024

type evKind uint8

const (
	evV2Swap evKind = iota + 1
	evV3Swap
	evDeposit
	evTransferOut
	evTransferOutAndCall
	evWrap
	evUnwrap
)

// convEvent is one decoded conversion-related log.
type convEvent struct {
	kind evKind
	log  int    // order of the log in its receipt
	addr string // emitting contract: pool, router or wrapped-native token
	// V2 swap: sender, to. V3 swap: sender, recipient. Deposit: vault, asset.
	// TransferOut: vault, to. TransferOutAndCall: vault, target (aggregator).
	// Wrap: dst. Unwrap: src.
	a, b string
	to   string      // TransferOutAndCall: the final recipient
	in   uint256.Int // swaps: amount in; others: the amount
	out  uint256.Int // swaps: amount out
	tok  string      // TransferOut: the asset paid (model.NativeAsset for the zero address)
	memo string
}

// convCollector gathers one transaction's conversion events and links them
// to the transaction's transfers once they are all known.
type convCollector struct {
	first  int      // index of the transaction's first transfer in the block
	tokens [][2]int // (transfer index in the block, log order) of token transfers
	events []convEvent
}

func (cx *convCollector) reset(first int) {
	cx.first, cx.tokens, cx.events = first, cx.tokens[:0], cx.events[:0]
}

func (cx *convCollector) tokenLog(transfer, log int) {
	cx.tokens = append(cx.tokens, [2]int{transfer, log})
}

// event decodes l if it is a conversion-related event. A log whose topic
// matches but whose layout does not is some other contract's event of the
// same signature, and is ignored.
func (cx *convCollector) event(l *rpcLog, order int) {
	if len(l.Topics) < 2 || l.Address == nil || len(l.Topics[0]) != 66 {
		return
	}
	var kind evKind
	switch t := l.Topics[0]; {
	case strings.EqualFold(t, topicV2Swap):
		kind = evV2Swap
	case strings.EqualFold(t, topicV3Swap):
		kind = evV3Swap
	case strings.EqualFold(t, topicTCDeposit):
		kind = evDeposit
	case strings.EqualFold(t, topicTCTransferOut):
		kind = evTransferOut
	case strings.EqualFold(t, topicTCTransferOutAndCall):
		kind = evTransferOutAndCall
	case strings.EqualFold(t, topicWrap):
		kind = evWrap
	case strings.EqualFold(t, topicUnwrap):
		kind = evUnwrap
	default:
		return
	}
	if ev, ok := decodeEvent(kind, l); ok {
		ev.log = order
		cx.events = append(cx.events, ev)
	}
}

// decodeEvent reads the fields of a log already known by its topic to be
// of kind k; ok is false when the layout does not fit.
func decodeEvent(k evKind, l *rpcLog) (ev convEvent, ok bool) {
	ev.kind = k
	addr, err := model.NormalizeAddress(model.ChainETH, *l.Address)
	if err != nil {
		return ev, false
	}
	ev.addr = addr
	if l.Data == nil {
		return ev, false
	}
	d, ok := hexData(*l.Data)
	if !ok {
		return ev, false
	}
	word := func(i int) *uint256.Int { return new(uint256.Int).SetBytes32(d[32*i : 32*i+32]) }
	topics := 3
	// THORChain's first router indexed only the vault: Deposit(address
	// indexed to, address asset, …) and TransferOut(address indexed vault,
	// address to, address asset, …). The topic is the same (indexing does not
	// change the signature); the unindexed addresses lead the data.
	v1 := (k == evDeposit || k == evTransferOut) && len(l.Topics) == 2
	if k == evWrap || k == evUnwrap || k == evTransferOutAndCall || v1 {
		topics = 2
	}
	if len(l.Topics) != topics {
		return ev, false
	}
	if ev.a, ok = topicAddress(l.Topics[1]); !ok {
		return ev, false
	}
	if topics == 3 {
		if ev.b, ok = topicAddress(l.Topics[2]); !ok {
			return ev, false
		}
	}
	switch k {
	case evV2Swap:
		// amount0In, amount1In, amount0Out, amount1Out: exactly one side in
		// and the other side out.
		if len(d) != 4*32 {
			return ev, false
		}
		in0, in1, out0, out1 := word(0), word(1), word(2), word(3)
		switch {
		case !in0.IsZero() && in1.IsZero() && out0.IsZero() && !out1.IsZero():
			ev.in, ev.out = *in0, *out1
		case in0.IsZero() && !in1.IsZero() && !out0.IsZero() && out1.IsZero():
			ev.in, ev.out = *in1, *out0
		default:
			return ev, false
		}
	case evV3Swap:
		// amount0, amount1 (int256, positive: paid to the pool), sqrtPriceX96,
		// liquidity, tick.
		if len(d) != 5*32 {
			return ev, false
		}
		a0, a1 := word(0), word(1)
		switch {
		case positive(a0) && negative(a1):
			ev.in, ev.out = *a0, *new(uint256.Int).Neg(a1)
		case positive(a1) && negative(a0):
			ev.in, ev.out = *a1, *new(uint256.Int).Neg(a0)
		default:
			return ev, false
		}
	case evDeposit:
		// amount, memo (v1: asset, amount, memo).
		w, ok := v1Lead(d, v1, &ev.b)
		if !ok || len(d) < (w+4)*32 {
			return ev, false
		}
		if isZeroAddr(ev.b) {
			ev.b = model.NativeAsset
		}
		ev.in = *word(w)
		if ev.memo, ok = abiString(d, word(w+1)); !ok || ev.in.IsZero() {
			return ev, false
		}
	case evTransferOut:
		// asset, amount, memo (v1: to, asset, amount, memo).
		w, ok := v1Lead(d, v1, &ev.b)
		if !ok || len(d) < (w+5)*32 {
			return ev, false
		}
		if ev.tok, ok = wordAddress(d[32*w : 32*w+32]); !ok {
			return ev, false
		}
		if isZeroAddr(ev.tok) {
			ev.tok = model.NativeAsset
		}
		ev.in = *word(w + 1)
		if ev.memo, ok = abiString(d, word(w+2)); !ok || ev.in.IsZero() {
			return ev, false
		}
	case evTransferOutAndCall:
		// target, amount, finalAsset, to, amountOutMin, memo. The router
		// sends the ETH to the target, or to `to` when the target fails.
		if len(d) < 8*32 {
			return ev, false
		}
		var okT, okTo bool
		ev.b, okT = wordAddress(d[0:32])
		ev.to, okTo = wordAddress(d[3*32 : 4*32])
		ev.tok = model.NativeAsset
		ev.in = *word(1)
		if ev.memo, ok = abiString(d, word(5)); !ok || !okT || !okTo || ev.in.IsZero() {
			return ev, false
		}
	case evWrap, evUnwrap:
		if len(d) != 32 {
			return ev, false
		}
		ev.in = *word(0)
	}
	return ev, true
}

// wordAddress reads an address from an ABI word whose 12 leading bytes are zero.
func wordAddress(w []byte) (string, bool) {
	for _, c := range w[:12] {
		if c != 0 {
			return "", false
		}
	}
	return "0x" + hex.EncodeToString(w[12:]), true
}

func positive(x *uint256.Int) bool { return !x.IsZero() && x.Sign() > 0 }
func negative(x *uint256.Int) bool { return x.Sign() < 0 }

func isZeroAddr(a string) bool { return a == "0x0000000000000000000000000000000000000000" }

// hexData decodes 0x-prefixed hex log data whose length is a whole number of
// 32-byte words.
func hexData(s string) ([]byte, bool) {
	if len(s) < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || (len(s)-2)%64 != 0 {
		return nil, false
	}
	b, err := hex.DecodeString(s[2:])
	return b, err == nil
}

// abiString reads an ABI-encoded string whose head word is off. It must lie
// inside d and be at most MaxMemo bytes; bytes that are not UTF-8 are
// replaced so that the memo is always valid text.
func abiString(d []byte, off *uint256.Int) (string, bool) {
	if !off.IsUint64() || off.Uint64() > uint64(len(d)) || uint64(len(d))-off.Uint64() < 32 {
		return "", false
	}
	o := int(off.Uint64())
	n := new(uint256.Int).SetBytes32(d[o : o+32])
	if !n.IsUint64() || n.Uint64() > MaxMemo || n.Uint64() > uint64(len(d)-o-32) {
		return "", false
	}
	s := string(d[o+32 : o+32+int(n.Uint64())])
	return strings.ToValidUTF8(s, "\uFFFD"), true
}

// link turns the collected events into conversions of out (see
// docs/conversions.md for the rules). Every transfer is the In leg of at
// most one conversion and the Out leg of at most one; a transfer that keys
// a stored conversion (its In leg, or the Out leg of a payout half) keys
// only one.
func (cx *convCollector) link(out *model.Block) {
	if len(cx.events) == 0 {
		return
	}
	ts := out.Transfers[cx.first:]
	lk := linker{ts: ts, logOf: make([]int, len(ts)), keyed: make([]bool, len(ts)), usedOut: make([]bool, len(ts))}
	for i := range lk.logOf {
		lk.logOf[i] = -1
	}
	for _, p := range cx.tokens {
		lk.logOf[p[0]-cx.first] = p[1]
	}
	leg := func(i int) model.Leg {
		return model.Leg{Chain: out.Chain, Block: out.Number, Position: ts[i].Position}
	}
	for k := range cx.events {
		ev := &cx.events[k]
		switch ev.kind {
		case evV2Swap, evV3Swap:
			in, o, ai, ao, ok := lk.swap(cx.events, ev)
			if !ok {
				continue
			}
			lk.keyed[in], lk.usedOut[o] = true, true
			out.Conversions = append(out.Conversions, model.Conversion{Kind: model.ConvSwap,
				In: leg(in), Out: leg(o), AmountIn: ai, AmountOut: ao, Ref: ev.addr})
		case evDeposit:
			var in int
			if ev.b == model.NativeAsset {
				in = lk.native(func(t *model.Transfer) bool { return t.To == ev.addr && t.Amount.Eq(&ev.in) }, lk.keyed)
			} else {
				in = lk.token(ev.log, func(t *model.Transfer) bool {
					return t.To == ev.addr && t.Asset == ev.b && t.Amount.Eq(&ev.in)
				}, lk.keyed)
			}
			if in < 0 {
				continue
			}
			lk.keyed[in] = true
			out.Conversions = append(out.Conversions, model.Conversion{Kind: model.ConvBridge,
				In: leg(in), AmountIn: ev.in, Ref: ev.memo})
		case evTransferOut, evTransferOutAndCall:
			pred := func(t *model.Transfer) bool {
				return t.From == ev.addr && t.To == ev.b && t.Asset == ev.tok && t.Amount.Eq(&ev.in)
			}
			var o int
			if ev.tok == model.NativeAsset {
				o = lk.native(pred, lk.usedOut, lk.keyed)
			} else {
				o = lk.token(ev.log, pred, lk.usedOut, lk.keyed)
			}
			if o < 0 && ev.kind == evTransferOutAndCall {
				o = lk.native(func(t *model.Transfer) bool {
					return t.From == ev.addr && t.To == ev.to && t.Amount.Eq(&ev.in)
				}, lk.usedOut, lk.keyed)
			}
			if o < 0 {
				continue
			}
			lk.keyed[o], lk.usedOut[o] = true, true
			out.Conversions = append(out.Conversions, model.Conversion{Kind: model.ConvBridge,
				Out: leg(o), AmountOut: ev.in, Ref: ev.memo})
		}
	}
}

// linker finds a transaction's transfers by what they moved.
type linker struct {
	ts      []model.Transfer // the transaction's transfers
	logOf   []int            // log order of token transfers, -1 for the others
	keyed   []bool           // In leg of a conversion, or Out leg of a payout half
	usedOut []bool           // Out leg of a conversion
}

// token returns the token transfer emitted latest before log `before` that
// satisfies pred and is not marked in any of used, or -1.
func (lk *linker) token(before int, pred func(*model.Transfer) bool, used ...[]bool) int {
	best := -1
	for i := range lk.ts {
		if lk.logOf[i] < 0 || lk.logOf[i] >= before || (best >= 0 && lk.logOf[i] < lk.logOf[best]) {
			continue
		}
		if free(i, used) && pred(&lk.ts[i]) {
			best = i
		}
	}
	return best
}

// free reports whether transfer i is marked in none of used.
func free(i int, used [][]bool) bool {
	for _, u := range used {
		if u[i] {
			return false
		}
	}
	return true
}

// native returns the first native or internal transfer that satisfies pred
// and is not marked in any of used, or -1.
func (lk *linker) native(pred func(*model.Transfer) bool, used ...[]bool) int {
	for i := range lk.ts {
		t := &lk.ts[i]
		if (t.Kind == model.KindNative || t.Kind == model.KindInternal) && free(i, used) && pred(t) {
			return i
		}
	}
	return -1
}

// swap finds the legs of a V2 or V3 swap event: the token transfer the pool
// paid to the recipient (amount out) and the token transfer of another token
// that paid the pool (amount in), both emitted before the Swap log. A
// wrapped-native leg is replaced by the native transfer behind it when the
// same transaction wraps the input (WETH Deposit by the payer, native value
// from the payer to the token) or unwraps the output (WETH Withdrawal by the
// recipient, native value from the token to the recipient), so that a trace
// of the native coin crosses the swap.
//
// A fee-on-transfer token makes a leg's amount differ from the event's: the
// pool pays amount out but the recipient's Transfer shows less, or the
// payer's Transfer shows more than the pool counts in. When no transfer has
// the event's amount, the one transfer of the pool that fits otherwise
// (out: less than amount out; in: any amount) is the leg, and the
// conversion takes that leg's amount, which is what actually moved.
func (lk *linker) swap(evs []convEvent, ev *convEvent) (in, out int, amtIn, amtOut uint256.Int, ok bool) {
	pool, recipient := ev.addr, ev.b
	amtIn, amtOut = ev.in, ev.out
	out = lk.token(ev.log, func(t *model.Transfer) bool {
		return t.From == pool && t.To == recipient && t.Amount.Eq(&ev.out)
	}, lk.usedOut)
	if out < 0 {
		out = lk.only(ev.log, func(t *model.Transfer) bool {
			return t.From == pool && t.To == recipient && t.Amount.Lt(&ev.out)
		}, lk.usedOut)
		if out < 0 {
			return
		}
		amtOut = lk.ts[out].Amount
	}
	outAsset := lk.ts[out].Asset
	in = lk.token(ev.log, func(t *model.Transfer) bool {
		return t.To == pool && t.Asset != outAsset && t.Amount.Eq(&ev.in)
	}, lk.keyed)
	if in < 0 {
		in = lk.only(ev.log, func(t *model.Transfer) bool {
			return t.To == pool && t.Asset != outAsset
		}, lk.keyed)
		if in < 0 {
			return
		}
		amtIn = lk.ts[in].Amount
	}
	ok = true
	if hasEvent(evs, evUnwrap, outAsset, recipient, &amtOut, ev.log, true) {
		if n := lk.native(func(t *model.Transfer) bool {
			return t.From == outAsset && t.To == recipient && t.Amount.Eq(&amtOut)
		}, lk.usedOut); n >= 0 {
			out = n
		}
	}
	payer, inAsset := lk.ts[in].From, lk.ts[in].Asset
	if hasEvent(evs, evWrap, inAsset, payer, &amtIn, lk.logOf[in], false) {
		if n := lk.native(func(t *model.Transfer) bool {
			return t.From == payer && t.To == inAsset && t.Amount.Eq(&amtIn)
		}, lk.keyed); n >= 0 {
			in = n
		}
	}
	return
}

// only returns the one token transfer emitted before log `before` that
// satisfies pred and is not marked in any of used; -1 when there is none
// or more than one.
func (lk *linker) only(before int, pred func(*model.Transfer) bool, used ...[]bool) int {
	found := -1
	for i := range lk.ts {
		if lk.logOf[i] < 0 || lk.logOf[i] >= before || !free(i, used) {
			continue
		}
		if pred(&lk.ts[i]) {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

// hasEvent reports whether a wrap or unwrap event of kind k by token for
// holder and amount was logged after (or, with after false, before) log at.
func hasEvent(evs []convEvent, k evKind, token, holder string, amt *uint256.Int, at int, after bool) bool {
	for i := range evs {
		e := &evs[i]
		if e.kind == k && e.addr == token && e.a == holder && e.in.Eq(amt) && (e.log > at) == after && e.log != at {
			return true
		}
	}
	return false
}

// v1Lead reads the address word that the first router's events put before
// the others, into *dst, and returns how many words it took.
func v1Lead(d []byte, v1 bool, dst *string) (int, bool) {
	if !v1 {
		return 0, true
	}
	if len(d) < 32 {
		return 0, false
	}
	a, ok := wordAddress(d[:32])
	*dst = a
	return 1, ok
}
