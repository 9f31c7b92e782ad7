package intel

import (
	"testing"

	"github.com/redthread/redthread/internal/model"
)

func TestChainForTicker(t *testing.T) {
	for _, tc := range []struct {
		ticker, addr string
		want         model.Chain
	}{
		{"XBT", "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", model.ChainBTC},
		{"ETH", "0x098b716b8aaf21512996dc57eb0615e2383e2f96", model.ChainETH},
		{"USDT", "0x175d44451403Edf28469dF03A9280c1197ADb92c", model.ChainETH},
		{"USDT", "TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR", ChainTRON},
		{"USDT", "16iWn2J1McqjToYLHSsAyS6En3QA8YQ91H", model.ChainBTC},
		{"USDT", "3E6ZCKRrsdPc35chA9Eftp1h3DLW18NFNV", model.ChainBTC},
		{"ARB", "0x098b716b8aaf21512996dc57eb0615e2383e2f96", ChainArbitrum},
		{"TRX", "TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR", ChainTRON},
	} {
		got, err := chainForTicker(tc.ticker, tc.addr)
		if err != nil || got != tc.want {
			t.Errorf("%s %s: %q %v, want %q", tc.ticker, tc.addr, got, err, tc.want)
		}
	}
}

func TestNormalizeAddress(t *testing.T) {
	for _, tc := range []struct {
		chain     model.Chain
		in, want  string
		wantError bool
	}{
		{model.ChainETH, " 0x098B716B8Aaf21512996dC57EB0615e2383E2f96 ", "0x098b716b8aaf21512996dc57eb0615e2383e2f96", false},
		{model.ChainETH, "0X098B716B8Aaf21512996dC57EB0615e2383E2f96", "0x098b716b8aaf21512996dc57eb0615e2383e2f96", false},
		{model.ChainETH, "0x098b", "", true},
		{model.ChainETH, "0x098b716b8aaf21512996dc57eb0615e2383e2fzz", "", true},
		{model.ChainBTC, "BC1QA5WKGAEW2DKV56KFVJ49J0AV5NML45X9EK9HZ6", "bc1qa5wkgaew2dkv56kfvj49j0av5nml45x9ek9hz6", false},
		{model.ChainBTC, "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", false},
		{model.ChainBTC, "1D6g G9i", "", true},
		{model.ChainBTC, "", "", true},
	} {
		got, err := NormalizeAddress(tc.chain, tc.in)
		if (err != nil) != tc.wantError || got != tc.want {
			t.Errorf("%s %q: %q %v", tc.chain, tc.in, got, err)
		}
	}
}
