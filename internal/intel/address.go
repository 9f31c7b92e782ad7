package intel

import (
	"fmt"
	"strings"

	"github.com/redthread/redthread/internal/model"
)

// Chain identifiers used by the intel layer beyond model.ChainETH and
// model.ChainBTC. EVM chains share the EVM address form.
const (
	ChainBSC       model.Chain = "bsc"
	ChainPolygon   model.Chain = "polygon"
	ChainArbitrum  model.Chain = "arb"
	ChainOptimism  model.Chain = "op"
	ChainAvalanche model.Chain = "avax"
	ChainFantom    model.Chain = "ftm"
	ChainETC       model.Chain = "etc"
	ChainTRON      model.Chain = "tron"
	ChainLTC       model.Chain = "ltc"
	ChainBCH       model.Chain = "bch"
	ChainBSV       model.Chain = "bsv"
	ChainBTG       model.Chain = "btg"
	ChainDash      model.Chain = "dash"
	ChainXMR       model.Chain = "xmr"
	ChainZEC       model.Chain = "zec"
	ChainXRP       model.Chain = "xrp"
	ChainXVG       model.Chain = "xvg"
	ChainSOL       model.Chain = "sol"
	ChainADA       model.Chain = "ada"
	ChainDOGE      model.Chain = "doge"
)

// IsEVM reports whether a chain uses 20-byte EVM addresses (model.IsEVM).
func IsEVM(c model.Chain) bool { return model.IsEVM(c) }

// tickerChains maps OFAC's digital currency tickers (and the chain names of
// the incident pack) onto chains. Tokens (USDT, USDC, …) live on several
// chains; chainForTicker decides by the address form.
var tickerChains = map[string]model.Chain{
	"XBT": model.ChainBTC, "BTC": model.ChainBTC, "ETH": model.ChainETH, "ETC": ChainETC,
	"TRX": ChainTRON, "LTC": ChainLTC, "BCH": ChainBCH, "BSV": ChainBSV, "BTG": ChainBTG,
	"DASH": ChainDash, "XMR": ChainXMR, "ZEC": ChainZEC, "XRP": ChainXRP, "XVG": ChainXVG,
	"SOL": ChainSOL, "ARB": ChainArbitrum, "BSC": ChainBSC, "ADA": ChainADA, "DOGE": ChainDOGE,
	"MATIC": ChainPolygon, "POLYGON": ChainPolygon, "OP": ChainOptimism, "AVAX": ChainAvalanche,
	"FTM": ChainFantom,
}

// chainForTicker returns the chain an OFAC ticker's address lives on.
func chainForTicker(ticker, addr string) (model.Chain, error) {
	t := strings.ToUpper(strings.TrimSpace(ticker))
	if c, ok := tickerChains[t]; ok {
		return c, nil
	}
	// Tokens such as USDT and USDC: decide by address form.
	switch {
	case strings.HasPrefix(addr, "0x") || strings.HasPrefix(addr, "0X"):
		return model.ChainETH, nil
	case strings.HasPrefix(addr, "T") && len(addr) == 34:
		return ChainTRON, nil
	case (strings.HasPrefix(addr, "1") || strings.HasPrefix(addr, "3")) && len(addr) >= 26 && len(addr) <= 35,
		strings.HasPrefix(strings.ToLower(addr), "bc1"):
		return model.ChainBTC, nil // Omni-layer tokens (USDT) live on Bitcoin addresses
	}
	if c := model.Chain(strings.ToLower(t)); KnownChain(c) {
		return c, nil // a chain id given as the network ("arb", "avax", …)
	}
	return "", fmt.Errorf("unknown ticker %q", ticker)
}

// KnownChain reports whether c is a chain the intel layer knows.
func KnownChain(c model.Chain) bool {
	if model.IsEVM(c) {
		return true
	}
	for _, k := range tickerChains {
		if k == c {
			return true
		}
	}
	return false
}

// NormalizeAddress returns the canonical text of addr on chain c: EVM
// addresses become "0x" + 40 lower-case hex digits; other chains keep the
// address as written (base58 and bech32 are case-significant or canonical
// already), trimmed. It fails on an address that cannot be one of chain c.
func NormalizeAddress(c model.Chain, addr string) (string, error) {
	a := strings.TrimSpace(addr)
	if a == "" {
		return "", fmt.Errorf("empty address")
	}
	if IsEVM(c) {
		if len(a) != 42 || (a[:2] != "0x" && a[:2] != "0X") {
			return "", fmt.Errorf("%q is not a 0x-prefixed 20-byte address", addr)
		}
		b := []byte(strings.ToLower(a))
		b[1] = 'x'
		for _, ch := range b[2:] {
			if !isHex(ch) {
				return "", fmt.Errorf("%q is not a hex address", addr)
			}
		}
		return string(b), nil
	}
	for i := 0; i < len(a); i++ {
		ch := a[i]
		if ch <= ' ' || ch >= 0x7f || ch == ',' || ch == ';' || ch == '"' || ch == '\'' {
			return "", fmt.Errorf("%q has a character no address has", addr)
		}
	}
	if c == model.ChainBTC && (strings.HasPrefix(a, "BC1") || strings.HasPrefix(a, "bc1")) {
		a = strings.ToLower(a) // bech32 is case-insensitive; lower case is canonical
	}
	if len(a) < 20 || len(a) > 120 {
		return "", fmt.Errorf("%q has an implausible length for a %s address", addr, c)
	}
	return a, nil
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// evmKey parses a canonical EVM address into 20 bytes.
func evmKey(a string) (k [20]byte, ok bool) {
	if len(a) != 42 {
		return k, false
	}
	for i := 0; i < 20; i++ {
		h, l := unhex(a[2+2*i]), unhex(a[3+2*i])
		if h > 15 || l > 15 {
			return k, false
		}
		k[i] = h<<4 | l
	}
	return k, true
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}

const hexDigits = "0123456789abcdef"

func evmString(k [20]byte) string {
	b := make([]byte, 42)
	b[0], b[1] = '0', 'x'
	for i, v := range k {
		b[2+2*i] = hexDigits[v>>4]
		b[3+2*i] = hexDigits[v&15]
	}
	return string(b)
}
