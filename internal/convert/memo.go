package convert

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redthread/redthread/internal/model"
)

// Action is what a THORChain memo asks for.
type Action string

// Actions. Memos of other actions parse as ActionOther with Verb set.
const (
	ActionSwap     Action = "swap"     // SWAP, s, =
	ActionOut      Action = "out"      // OUT: payout of an inbound
	ActionRefund   Action = "refund"   // REFUND: an inbound returned
	ActionAdd      Action = "add"      // ADD, a, +: liquidity added
	ActionWithdraw Action = "withdraw" // WITHDRAW, wd, -: liquidity withdrawn
	ActionOther    Action = "other"    // any other verb (DONATE, BOND, LOAN+, MIGRATE, …)
)

// MaxMemoLen bounds a memo; THORChain's own limits are far lower.
const MaxMemoLen = 1024

// Asset is a THORChain asset: CHAIN.SYMBOL (layer 1), CHAIN/SYMBOL
// (synthetic) or CHAIN~SYMBOL (trade asset). Symbol keeps its -CONTRACT
// suffix, if any.
type Asset struct {
	Chain  string // upper case, e.g. BTC
	Symbol string // e.g. BTC, USDT-0XDAC17F958D2EE523A2206206994597C13D831EC7
	Sep    byte   // '.', '/' or '~'
}

func (a Asset) String() string {
	if a.Chain == "" {
		return ""
	}
	return a.Chain + string(a.Sep) + a.Symbol
}

// Layer1 reports whether the asset lives on its own chain (not a synthetic
// or trade asset held on THORChain).
func (a Asset) Layer1() bool { return a.Sep == '.' }

// shortAssets are THORChain's one-letter asset abbreviations.
var shortAssets = map[string]Asset{
	"a": {"AVAX", "AVAX", '.'}, "b": {"BTC", "BTC", '.'}, "c": {"BCH", "BCH", '.'},
	"d": {"DOGE", "DOGE", '.'}, "e": {"ETH", "ETH", '.'}, "g": {"GAIA", "ATOM", '.'},
	"l": {"LTC", "LTC", '.'}, "n": {"BNB", "BNB", '.'}, "r": {"THOR", "RUNE", '.'},
	"s": {"BSC", "BNB", '.'},
}

// Memo is a parsed THORChain memo.
type Memo struct {
	Action Action
	Verb   string // the action word as written
	// Swaps.
	Asset  Asset  // target asset
	Dest   string // destination address as written (may be empty or a THORName)
	Refund string // custom refund address (DEST/REFUND), if any
	Limit  string // trade limit field as written (LIM[/INTERVAL/QUANTITY])
	// OUT and REFUND: the inbound transaction id, lower-case hex without 0x.
	TxID string
}

// ErrMemo reports a memo that does not follow the grammar.
var ErrMemo = errors.New("bad THORChain memo")

// ParseMemo parses a THORChain memo (docs/conversions.md has the grammar).
// Fields are separated by ':'; the verb is case-insensitive.
func ParseMemo(s string) (Memo, error) {
	var m Memo
	if s == "" {
		return m, fmt.Errorf("%w: empty", ErrMemo)
	}
	if len(s) > MaxMemoLen {
		return m, fmt.Errorf("%w: %d bytes, longer than %d", ErrMemo, len(s), MaxMemoLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return m, fmt.Errorf("%w: control character at byte %d", ErrMemo, i)
		}
	}
	f := strings.Split(s, ":")
	m.Verb = f[0]
	field := func(i int) string {
		if i < len(f) {
			return strings.TrimSpace(f[i])
		}
		return ""
	}
	switch strings.ToUpper(strings.TrimSpace(f[0])) {
	case "SWAP", "S", "=":
		m.Action = ActionSwap
		a, err := parseAsset(field(1))
		if err != nil {
			return Memo{}, fmt.Errorf("%w: %q: field 1 (asset): %v", ErrMemo, clip(s), err)
		}
		m.Asset = a
		m.Dest = field(2)
		if d, r, ok := strings.Cut(m.Dest, "/"); ok {
			m.Dest, m.Refund = d, r
		}
		m.Limit = field(3)
	case "OUT", "REFUND":
		m.Action = ActionOut
		if strings.EqualFold(f[0], "REFUND") {
			m.Action = ActionRefund
		}
		id, err := parseTxID(field(1))
		if err != nil {
			return Memo{}, fmt.Errorf("%w: %q: field 1 (inbound tx id): %v", ErrMemo, clip(s), err)
		}
		m.TxID = id
	case "ADD", "A", "+":
		m.Action = ActionAdd
	case "WITHDRAW", "WD", "-":
		m.Action = ActionWithdraw
	default:
		if strings.TrimSpace(f[0]) == "" {
			return Memo{}, fmt.Errorf("%w: %q: no action", ErrMemo, clip(s))
		}
		m.Action = ActionOther
	}
	return m, nil
}

// parseAsset reads CHAIN.SYMBOL, CHAIN/SYMBOL, CHAIN~SYMBOL or a one-letter
// abbreviation.
func parseAsset(s string) (Asset, error) {
	if a, ok := shortAssets[strings.ToLower(s)]; ok && len(s) == 1 {
		return a, nil
	}
	i := strings.IndexAny(s, "./~")
	if i <= 0 || i == len(s)-1 {
		return Asset{}, fmt.Errorf("%q is not CHAIN.SYMBOL", clip(s))
	}
	a := Asset{Chain: strings.ToUpper(s[:i]), Symbol: strings.ToUpper(s[i+1:]), Sep: s[i]}
	for _, c := range a.Chain {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return Asset{}, fmt.Errorf("chain %q is not alphanumeric", clip(a.Chain))
		}
	}
	return a, nil
}

// parseTxID reads a 32-byte transaction id in hex, with or without 0x, in
// any case.
func parseTxID(s string) (string, error) {
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(h) != 64 {
		return "", fmt.Errorf("%q is not 64 hex digits", clip(s))
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", fmt.Errorf("%q is not 64 hex digits", clip(s))
		}
	}
	return strings.ToLower(h), nil
}

// DestChain is the redthread chain a swap memo pays out on: the asset's
// chain in lower case for layer-1 assets, "thor" for synthetic and trade
// assets (held on THORChain). It is empty for memos that are not swaps.
func (m Memo) DestChain() model.Chain {
	if m.Action != ActionSwap {
		return ""
	}
	if !m.Asset.Layer1() {
		return "thor"
	}
	return model.Chain(strings.ToLower(m.Asset.Chain))
}

// txKey is the form in which a transaction hash is compared with a memo's
// tx id: lower-case hex without 0x.
func txKey(h string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(h, "0x"), "0X"))
}

func clip(s string) string {
	if len(s) > 90 {
		return s[:90] + "…"
	}
	return s
}
