package importer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

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
