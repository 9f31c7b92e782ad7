package eth

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// Raw JSON-RPC shapes. Every field the normalizer needs is a pointer or a
// slice so that a missing field can be told from a zero one; values are
// checked by parser, which names the block, transaction and field of the
// first bad value.

type rpcBlock struct {
	Number        *string         `json:"number"`
	Hash          *string         `json:"hash"`
	ParentHash    *string         `json:"parentHash"`
	Timestamp     *string         `json:"timestamp"`
	Miner         *string         `json:"miner"`
	BaseFeePerGas *string         `json:"baseFeePerGas"`
	Difficulty    *string         `json:"difficulty"` // 0 after the merge (proof of stake)
	Uncles        []string        `json:"uncles"`     // uncle (ommer) hashes, in order
	Transactions  []rpcTx         `json:"transactions"`
	Withdrawals   []rpcWithdrawal `json:"withdrawals"`
}

// rpcUncle is the part of an uncle header (eth_getUncleByBlockHashAndIndex)
// that rewards need.
type rpcUncle struct {
	Hash   *string `json:"hash"`
	Number *string `json:"number"`
	Miner  *string `json:"miner"`
}

type rpcTx struct {
	Hash             *string `json:"hash"`
	TransactionIndex *string `json:"transactionIndex"`
	From             *string `json:"from"`
	To               *string `json:"to"`
	Value            *string `json:"value"`
	GasPrice         *string `json:"gasPrice"`
}

type rpcWithdrawal struct {
	Index   *string `json:"index"`
	Address *string `json:"address"`
	Amount  *string `json:"amount"` // Gwei
}

type rpcReceipt struct {
	TransactionHash   *string  `json:"transactionHash"`
	TransactionIndex  *string  `json:"transactionIndex"`
	BlockHash         *string  `json:"blockHash"`
	GasUsed           *string  `json:"gasUsed"`
	EffectiveGasPrice *string  `json:"effectiveGasPrice"`
	Status            *string  `json:"status"` // absent before Byzantium
	ContractAddress   *string  `json:"contractAddress"`
	BlobGasUsed       *string  `json:"blobGasUsed"`
	BlobGasPrice      *string  `json:"blobGasPrice"`
	Logs              []rpcLog `json:"logs"`
}

type rpcLog struct {
	Address  *string  `json:"address"`
	Topics   []string `json:"topics"`
	Data     *string  `json:"data"`
	LogIndex *string  `json:"logIndex"`
	Removed  bool     `json:"removed"`
}

// parityTrace is one entry of trace_block (OpenEthereum, Erigon, Nethermind, Reth).
type parityTrace struct {
	Type                string           `json:"type"`
	Action              parityAction     `json:"action"`
	Result              *parityResult    `json:"result"`
	Error               string           `json:"error"`
	TraceAddress        []uint32         `json:"traceAddress"`
	TransactionHash     *string          `json:"transactionHash"`
	TransactionPosition *uint32          `json:"transactionPosition"`
	BlockNumber         *json.RawMessage `json:"blockNumber"`
}

type parityAction struct {
	CallType      *string `json:"callType"`
	From          *string `json:"from"`
	To            *string `json:"to"`
	Value         *string `json:"value"`
	Address       *string `json:"address"`       // suicide: the destroyed contract
	RefundAddress *string `json:"refundAddress"` // suicide: the beneficiary
	Balance       *string `json:"balance"`       // suicide: the amount moved
	Author        *string `json:"author"`        // reward: the beneficiary
	RewardType    *string `json:"rewardType"`    // reward: "block", "uncle", …
}

type parityResult struct {
	Address *string `json:"address"` // create: the new contract
}

// gethTxTrace is one entry of debug_traceBlockByNumber with the callTracer.
type gethTxTrace struct {
	TxHash *string    `json:"txHash"`
	Result *gethFrame `json:"result"`
	Error  string     `json:"error"`
}

// gethFrame is a callTracer call frame.
type gethFrame struct {
	Type  string      `json:"type"`
	From  *string     `json:"from"`
	To    *string     `json:"to"`
	Value *string     `json:"value"`
	Error string      `json:"error"`
	Calls []gethFrame `json:"calls"`
}

// parser checks raw values, keeping the first error with its context.
type parser struct {
	ctx string // e.g. "block 17173049: tx 0xab… (index 3): receipt"
	err error
}

func (p *parser) fail(field, format string, a ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: field %q: %s", p.ctx, field, fmt.Sprintf(format, a...))
	}
}

func (p *parser) need(field string, s *string) (string, bool) {
	if s == nil {
		p.fail(field, "missing")
		return "", false
	}
	return *s, true
}

// hexDigits returns the digits of a 0x-prefixed hex quantity without leading
// zeros, or fails.
func (p *parser) hexDigits(field, s string, maxBits int) (string, bool) {
	if len(s) < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		p.fail(field, "want a 0x-prefixed hex quantity, got %q", clip(s))
		return "", false
	}
	d := strings.TrimLeft(s[2:], "0")
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			p.fail(field, "bad hex digit in %q", clip(s))
			return "", false
		}
	}
	if len(d) > maxBits/4 { // maxBits is a multiple of 4
		p.fail(field, "value %q does not fit %d bits", clip(s), maxBits)
		return "", false
	}
	return d, true
}

func (p *parser) u64(field string, s *string) uint64 {
	v, ok := p.need(field, s)
	if !ok {
		return 0
	}
	d, ok := p.hexDigits(field, v, 64)
	if !ok {
		return 0
	}
	var n uint64
	for i := 0; i < len(d); i++ {
		n = n<<4 | uint64(unhex(d[i]))
	}
	return n
}

func (p *parser) u256(field string, s *string) uint256.Int {
	var z uint256.Int
	v, ok := p.need(field, s)
	if !ok {
		return z
	}
	d, ok := p.hexDigits(field, v, 256)
	if !ok {
		return z
	}
	if d == "" {
		return z
	}
	if err := z.SetFromHex("0x" + d); err != nil {
		p.fail(field, "%v", err)
	}
	return z
}

func (p *parser) address(field string, s *string) string {
	v, ok := p.need(field, s)
	if !ok {
		return ""
	}
	a, err := model.NormalizeAddress(model.ChainETH, v)
	if err != nil {
		p.fail(field, "%v", err)
		return ""
	}
	return a
}

func (p *parser) hash(field string, s *string) string {
	v, ok := p.need(field, s)
	if !ok {
		return ""
	}
	h, err := model.NormalizeHash(v)
	if err != nil {
		p.fail(field, "%v", err)
		return ""
	}
	return h
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
