package importer

import (
	"bytes"
	"fmt"

	"github.com/redthread/redthread/internal/model"
)

// TransfersHeader is the exact header of redthread's generic transfers CSV.
const TransfersHeader = "chain,tx_hash,block_number,block_timestamp,position,from_address,to_address,asset,amount"

var transfersColumns = bytes.Split([]byte(TransfersHeader), []byte(","))

// transfersParser reads the generic transfers CSV.
type transfersParser struct {
	file   string
	chain  model.Chain // if set, every row must be on this chain
	chains map[string]model.Chain
	addrs  addrCache
	assets addrCache
	hashes hashCache
}

func (p *transfersParser) header(f [][]byte) error {
	if len(f) != len(transfersColumns) {
		return fmt.Errorf("want %q, got %d columns", TransfersHeader, len(f))
	}
	for i, c := range transfersColumns {
		if !bytes.Equal(bytes.TrimSpace(f[i]), c) {
			return fmt.Errorf("column %d is %q, want %q (header must be %q)", i+1, truncate(string(f[i])), c, TransfersHeader)
		}
	}
	return nil
}

func (p *transfersParser) row(f [][]byte, line int64, out *rowOut) (bool, error) {
	if len(f) != 9 {
		return false, &RowError{File: p.file, Line: line, Err: fmt.Errorf("%d fields, want 9 (%s)", len(f), TransfersHeader)}
	}
	var t model.Transfer
	chain, ok := p.chains[string(f[0])]
	if !ok {
		if err := validChain(f[0]); err != nil {
			return false, rowErr(p.file, line, "chain", f[0], "%v", err)
		}
		chain = model.Chain(f[0])
		if p.chains == nil {
			p.chains = make(map[string]model.Chain)
		}
		p.chains[string(chain)] = chain
	}
	if p.chain != "" && chain != p.chain {
		return false, rowErr(p.file, line, "chain", f[0], "row is not on chain %s (--chain)", p.chain)
	}
	t.Chain = chain
	var err error
	if t.TxHash, err = p.hashes.get(f[1]); err != nil {
		return false, rowErr(p.file, line, "tx_hash", f[1], "%v", err)
	}
	if t.Block, err = parseUint(f[2]); err != nil {
		return false, rowErr(p.file, line, "block_number", f[2], "%v", err)
	}
	if t.Time, err = parseTime(f[3]); err != nil {
		return false, rowErr(p.file, line, "block_timestamp", f[3], "%v", err)
	}
	pos, err := parseUint(f[4])
	if err != nil {
		return false, rowErr(p.file, line, "position", f[4], "%v", err)
	}
	t.Position = model.Position(pos)
	if t.From, err = p.addrs.get(chain, f[5]); err != nil {
		return false, rowErr(p.file, line, "from_address", f[5], "%s", addrProblem(chain))
	}
	if t.To, err = p.addrs.get(chain, f[6]); err != nil {
		return false, rowErr(p.file, line, "to_address", f[6], "%s", addrProblem(chain))
	}
	if string(f[7]) == model.NativeAsset {
		t.Asset, t.Kind = model.NativeAsset, model.KindNative
	} else {
		if t.Asset, err = p.assets.get(chain, f[7]); err != nil {
			return false, rowErr(p.file, line, "asset", f[7], "want %q or a token contract address", model.NativeAsset)
		}
		t.Kind = model.KindToken
	}
	if err := parseAmount(f[8], &t.Amount); err != nil {
		return false, rowErr(p.file, line, "amount", f[8], "%v", err)
	}
	out.key = blockKey{chain, t.Block}
	out.ts = append(out.ts, t)
	return false, nil
}
