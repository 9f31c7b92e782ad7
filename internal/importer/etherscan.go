package importer

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// TokenSpec gives the contract and decimals of a token named in Etherscan
// exports by symbol (or by contract).
type TokenSpec struct {
	Symbol   string // may be empty
	Contract string // canonical address; may be empty for symbol-only specs
	Decimals int
}

// ParseTokenSpec parses "[SYMBOL=]CONTRACT:DECIMALS" or "SYMBOL=:DECIMALS".
func ParseTokenSpec(s string) (TokenSpec, error) {
	var t TokenSpec
	rest := s
	if sym, r, ok := strings.Cut(s, "="); ok {
		t.Symbol, rest = strings.TrimSpace(sym), r
		if t.Symbol == "" {
			return t, errors.New("empty symbol before '='")
		}
	}
	c, d, ok := strings.Cut(rest, ":")
	if !ok {
		return t, errors.New("want [SYMBOL=]CONTRACT:DECIMALS")
	}
	n, err := strconv.Atoi(d)
	if err != nil || n < 0 || n > 77 {
		return t, fmt.Errorf("decimals %q: want 0 to 77", d)
	}
	t.Decimals = n
	if c = strings.TrimSpace(c); c != "" {
		if t.Contract, err = model.NormalizeAddress(model.ChainETH, c); err != nil {
			return t, fmt.Errorf("contract: %w", err)
		}
	} else if t.Symbol == "" {
		return t, errors.New("give a symbol, a contract or both")
	}
	return t, nil
}

// Etherscan exports lack the transaction index and the log or trace
// position. Positions are derived from content instead, the same way for
// every export that holds the same transfer, so overlapping exports (two
// addresses that traded with each other) store it once:
//
//	transaction index: the first 31 bits of the transaction hash
//	native value:      sequence 0
//	internal:          1 + (26-bit hash of from, to, amount)<<4 + repeat
//	token:             tokenSeq + (26-bit hash of token, from, to, amount)<<4 + repeat
//
// where repeat numbers identical rows of one transaction in one file (0–15).
// docs/formats.md discusses the limits.

// escanKind is which Etherscan download a parser reads.
type escanKind int

const (
	escanNormal escanKind = iota
	escanInternal
	escanToken
)

type etherscanPrep struct {
	o    *Options
	kind escanKind
}

func prepareEtherscan(kind escanKind) func(o *Options) (preparer, error) {
	return func(o *Options) (preparer, error) {
		if !model.IsEVM(o.Chain) {
			return nil, fmt.Errorf("Etherscan exports are EVM data; chain %s is not EVM", o.Chain)
		}
		return &etherscanPrep{o: o, kind: kind}, nil
	}
}

func (p *etherscanPrep) sideFiles() []string { return nil }

func (p *etherscanPrep) open(path string, offset, line int64) (Source, error) {
	ep := &etherscanParser{o: p.o, kind: p.kind, file: path, repeats: make(map[repeatKey]uint32)}
	src, err := openSource(path, ep, false, p.o.BatchTransfers, offset, line)
	if err != nil {
		return nil, err
	}
	src.noSplit = true
	return src, nil
}

type repeatKey struct {
	tx   string
	seq  uint32
	kind model.Kind
}

type etherscanParser struct {
	o       *Options
	kind    escanKind
	file    string
	t       *table
	hasFee  bool
	repeats map[repeatKey]uint32
	// token exports
	valueCol    int
	symbolCol   int
	contractCol int
	fixedToken  *TokenSpec // the only --token, for exports without a contract column
}

const (
	esHash = iota
	esBlock
	esTime
	esFrom
	esTo
	esContract // normal/internal: created contract; token: the token
	esValueIn  // normal/internal
	esValueOut
	esFee
	esStatus
	esErrCode
	esType
	esTokenValue // token
	esQuantity
	esSymbol
)

// canonicalEtherscanColumn maps the header spellings of the Etherscan
// downloads (and their sister explorers) onto one set of names.
func canonicalEtherscanColumn(name string) string {
	n := strings.TrimSpace(name)
	switch {
	case n == "Transaction Hash" || n == "Txhash" || n == "TxHash":
		return "Txhash"
	case n == "TxTo":
		return "To"
	case strings.HasPrefix(n, "Value_IN("):
		return "Value_IN"
	case strings.HasPrefix(n, "Value_OUT("):
		return "Value_OUT"
	case strings.HasPrefix(n, "TxnFee(") && !strings.EqualFold(n, "TxnFee(USD)"):
		return "TxnFee"
	}
	return n
}

func (p *etherscanParser) header(f [][]byte) error {
	cols := []string{"Txhash", "Blockno", "UnixTimestamp", "From", "To"}
	opt := []string{"ContractAddress", "Value_IN", "Value_OUT", "TxnFee", "Status", "ErrCode", "Type", "TokenValue", "Quantity", "TokenSymbol"}
	p.t = newTable(p.file, false, cols, opt)
	renamed := make([][]byte, len(f))
	for i, c := range f {
		renamed[i] = []byte(canonicalEtherscanColumn(string(c)))
	}
	if err := p.t.header(renamed); err != nil {
		if bytes.Equal(bytes.TrimSpace(f[0]), []byte("Txhash")) && !p.has("Blockno") {
			return fmt.Errorf("%w (this older export has no block numbers; download it again from Etherscan)", err)
		}
		return err
	}
	switch p.kind {
	case escanNormal, escanInternal:
		if p.t.has(esTokenValue) || p.t.has(esQuantity) {
			return errors.New("this is a token transfers export: use etherscan-token")
		}
		if !p.t.has(esValueIn) || !p.t.has(esValueOut) {
			return errors.New("missing column(s) Value_IN(...), Value_OUT(...): is this an Etherscan transactions export?")
		}
		if p.kind == escanNormal && (p.t.has(esType) || headerHas(f, "ParentTxFrom")) {
			return errors.New("this is an internal transactions export (ParentTxFrom, TxTo, Type): use etherscan-internal")
		}
		p.hasFee = p.t.has(esFee)
	case escanToken:
		switch {
		case p.t.has(esTokenValue):
			p.valueCol = esTokenValue
		case p.t.has(esQuantity):
			p.valueCol = esQuantity
		default:
			return errors.New("missing column TokenValue (or Quantity): is this an Etherscan token transfers export?")
		}
		if !p.t.has(esContract) {
			var withContract []TokenSpec
			for _, s := range p.o.Tokens {
				if s.Contract != "" {
					withContract = append(withContract, s)
				}
			}
			if len(withContract) != 1 {
				return errors.New("this export has no ContractAddress column: name its token with exactly one --token [SYMBOL=]CONTRACT:DECIMALS")
			}
			p.fixedToken = &withContract[0]
		}
	}
	return nil
}

func (p *etherscanParser) has(name string) bool {
	for i, c := range p.t.cols {
		if c == name {
			return p.t.has(i)
		}
	}
	return false
}

// etherscanFailed reads Status and ErrCode: the normal export leaves Status
// empty for success ("Error(0)" and the like otherwise); the internal export
// writes 0 for success and 1 for failure.
func (p *etherscanParser) failed() (bool, error) {
	st := strings.TrimSpace(string(p.t.vals[esStatus]))
	if p.t.present[esErrCode] && strings.TrimSpace(string(p.t.vals[esErrCode])) != "" {
		return true, nil
	}
	switch {
	case st == "" || st == "0" || strings.EqualFold(st, "success"):
		return false, nil
	case st == "1" || strings.HasPrefix(strings.ToLower(st), "error") || strings.EqualFold(st, "fail") || strings.EqualFold(st, "failed"):
		return true, nil
	}
	return false, errors.New("unknown status (want empty, 0, 1 or Error(...))")
}

func (p *etherscanParser) row(f [][]byte, line int64, out *rowOut) (bool, error) {
	if err := p.t.row(f, line); err != nil {
		return false, err
	}
	r := &fieldReader{t: p.t, line: line}
	chain := p.o.Chain
	hash := r.hash(esHash)
	block := r.uint(esBlock)
	ts, err := parseTime(p.t.vals[esTime])
	if err != nil {
		r.fail(esTime, "%v", err)
	}
	from := r.addr(chain, esFrom)
	var to string
	if len(bytes.TrimSpace(p.t.vals[esTo])) > 0 {
		to = r.addr(chain, esTo)
	}
	var contract string
	if p.t.present[esContract] && len(bytes.TrimSpace(p.t.vals[esContract])) > 0 {
		contract = r.addr(chain, esContract)
	}
	if r.err != nil {
		return false, r.err
	}
	txIdx := uint32(0)
	for i := 0; i < 4; i++ {
		txIdx = txIdx<<8 | uint32(hexNibble(hash[2+2*i])<<4|hexNibble(hash[3+2*i]))
	}
	txIdx >>= 1
	out.key = blockKey{chain, block}
	out.time, out.hasTime = ts, true
	t := model.Transfer{Chain: chain, Block: block, Time: ts, TxHash: hash, From: from, To: to}

	switch p.kind {
	case escanNormal, escanInternal:
		amt, err := p.inOut(r)
		if err != nil {
			return false, err
		}
		failed, err := p.failed()
		if err != nil {
			r.fail(esStatus, "%v", err)
			return false, r.err
		}
		if t.To == "" {
			t.To = contract // contract creation: the value goes to the new contract
		}
		if p.kind == escanNormal {
			tx := model.Tx{Hash: hash, Index: txIdx, From: from, To: to, Value: amt, Status: !failed}
			if !failed {
				tx.Created = contract
			}
			if p.hasFee && len(bytes.TrimSpace(p.t.vals[esFee])) > 0 {
				if tx.Fee, err = parseDecimalUnits(string(p.t.vals[esFee]), 18); err != nil {
					r.fail(esFee, "%v", err)
					return false, r.err
				}
			}
			out.tx, out.hasTx = tx, true
			t.Kind = model.KindNative
			t.Position = model.MakePosition(txIdx, 0)
		} else {
			if p.t.present[esType] {
				switch strings.ToLower(strings.TrimSpace(string(p.t.vals[esType]))) {
				case "delegatecall", "staticcall", "callcode":
					return true, nil // moves no value
				}
			}
			t.Kind = model.KindInternal
		}
		if failed || amt.IsZero() {
			return p.kind == escanInternal, nil
		}
		if t.To == "" {
			r.fail(esTo, "empty, and no ContractAddress for a transfer of value")
			return false, r.err
		}
		t.Asset, t.Amount = model.NativeAsset, amt
		if p.kind == escanInternal {
			t.Position = model.MakePosition(txIdx, 1+p.seq(&t, model.NativeAsset))
		}
	case escanToken:
		spec, err := p.token(r, contract)
		if err != nil {
			return false, err
		}
		amt, err := parseDecimalUnits(string(p.t.vals[p.valueCol]), spec.Decimals)
		if err != nil {
			r.fail(p.valueCol, "%v", err)
			return false, r.err
		}
		if t.To == "" {
			r.fail(esTo, "empty")
			return false, r.err
		}
		if amt.IsZero() {
			return true, nil
		}
		t.Asset, t.Amount, t.Kind = spec.Contract, amt, model.KindToken
		t.Position = model.MakePosition(txIdx, tokenSeq+p.seq(&t, spec.Contract))
	}
	out.ts = append(out.ts, t)
	return false, nil
}

// inOut reads Value_IN and Value_OUT (relative to the exported address; one
// of them is the amount).
func (p *etherscanParser) inOut(r *fieldReader) (uint256.Int, error) {
	in, err := parseDecimalUnits(string(p.t.vals[esValueIn]), 18)
	if err != nil {
		r.fail(esValueIn, "%v", err)
		return in, r.err
	}
	outv, err := parseDecimalUnits(string(p.t.vals[esValueOut]), 18)
	if err != nil {
		r.fail(esValueOut, "%v", err)
		return in, r.err
	}
	switch {
	case in.IsZero():
		return outv, nil
	case outv.IsZero() || outv == in:
		return in, nil
	}
	r.fail(esValueOut, "both Value_IN and Value_OUT are set and differ")
	return in, r.err
}

// token finds the contract and decimals of a token row.
func (p *etherscanParser) token(r *fieldReader, contract string) (TokenSpec, error) {
	if p.fixedToken != nil {
		return *p.fixedToken, nil
	}
	sym := ""
	if p.t.present[esSymbol] {
		sym = strings.TrimSpace(string(p.t.vals[esSymbol]))
	}
	if contract == "" {
		r.fail(esContract, "empty; a token transfer needs its contract")
		return TokenSpec{}, r.err
	}
	for _, s := range p.o.Tokens {
		if s.Contract == contract {
			return s, nil
		}
	}
	for _, s := range p.o.Tokens {
		if s.Contract == "" && s.Symbol != "" && s.Symbol == sym {
			s.Contract = contract
			return s, nil
		}
	}
	if p.o.Decimals != nil {
		return TokenSpec{Symbol: sym, Contract: contract, Decimals: *p.o.Decimals}, nil
	}
	r.fail(esContract, "no decimals for token %s (%s): pass --token %s=%s:DECIMALS or --decimals N", contract, sym, orDash(sym), contract)
	return TokenSpec{}, r.err
}

func orDash(s string) string {
	if s == "" {
		return "SYMBOL"
	}
	return s
}

// seq derives the content part of a position and numbers repeats.
func (p *etherscanParser) seq(t *model.Transfer, asset string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(asset))
	h.Write([]byte(t.From))
	h.Write([]byte(t.To))
	h.Write(t.Amount.Bytes())
	base := (h.Sum32() & (1<<26 - 1)) << 4
	k := repeatKey{tx: t.TxHash, seq: base, kind: t.Kind}
	n := p.repeats[k]
	p.repeats[k] = n + 1
	return base + min(n, 15)
}

func hexNibble(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 0
}

func headerHas(f [][]byte, name string) bool {
	for _, c := range f {
		if string(bytes.TrimSpace(c)) == name {
			return true
		}
	}
	return false
}
