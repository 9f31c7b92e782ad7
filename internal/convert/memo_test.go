package convert

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// Memos as THORChain documents and uses them (quote endpoint answers,
// merge requests, router deposits).
var memoCases = []struct {
	in   string
	want Memo
	err  string
}{
	{in: "=:BTC.BTC:bc1q3a2le4lazts64u8mqte5vuxvug25z5w6rhs95g:5855757:t:10",
		want: Memo{Action: ActionSwap, Verb: "=", Asset: Asset{"BTC", "BTC", '.'}, Dest: "bc1q3a2le4lazts64u8mqte5vuxvug25z5w6rhs95g", Limit: "5855757"}},
	{in: "=:BTC.BTC:bc1q6527vxxqjpq80la2l0sw7hay3lj6dz07zs6gzl/0x7a093cebfa77403672d68e1c22d0681400a36682",
		want: Memo{Action: ActionSwap, Verb: "=", Asset: Asset{"BTC", "BTC", '.'}, Dest: "bc1q6527vxxqjpq80la2l0sw7hay3lj6dz07zs6gzl", Refund: "0x7a093cebfa77403672d68e1c22d0681400a36682"}},
	{in: "SWAP:ETH.USDT-0xdAC17F958D2ee523a2206206994597C13D831ec7:0x7a093cebfa77403672d68e1c22d0681400a36682",
		want: Memo{Action: ActionSwap, Verb: "SWAP", Asset: Asset{"ETH", "USDT-0XDAC17F958D2EE523A2206206994597C13D831EC7", '.'}, Dest: "0x7a093cebfa77403672d68e1c22d0681400a36682"}},
	{in: "s:e:0xabc", want: Memo{Action: ActionSwap, Verb: "s", Asset: Asset{"ETH", "ETH", '.'}, Dest: "0xabc"}},
	{in: "=:AVAX/USDC:thor188cm7ttvfpkxahageez4fufgk003cx2vw9nzdc:0:t:30",
		want: Memo{Action: ActionSwap, Verb: "=", Asset: Asset{"AVAX", "USDC", '/'}, Dest: "thor188cm7ttvfpkxahageez4fufgk003cx2vw9nzdc", Limit: "0"}},
	{in: "=:r:thor1kzpfhzvakahg4x0fvr5fzfn8s4ku3cjttyseec", want: Memo{Action: ActionSwap, Verb: "=", Asset: Asset{"THOR", "RUNE", '.'}, Dest: "thor1kzpfhzvakahg4x0fvr5fzfn8s4ku3cjttyseec"}},
	{in: "OUT:8E4A1C0F2D3B4A5C6D7E8F9011223344556677889900AABBCCDDEEFF00112233",
		want: Memo{Action: ActionOut, Verb: "OUT", TxID: "8e4a1c0f2d3b4a5c6d7e8f9011223344556677889900aabbccddeeff00112233"}},
	{in: "refund:0x8e4a1c0f2d3b4a5c6d7e8f9011223344556677889900aabbccddeeff00112233",
		want: Memo{Action: ActionRefund, Verb: "refund", TxID: "8e4a1c0f2d3b4a5c6d7e8f9011223344556677889900aabbccddeeff00112233"}},
	{in: "+:ETH/ETH::tt:100", want: Memo{Action: ActionAdd, Verb: "+"}},
	{in: "WITHDRAW:BTC.BTC:10000", want: Memo{Action: ActionWithdraw, Verb: "WITHDRAW"}},
	{in: "MIGRATE:1234", want: Memo{Action: ActionOther, Verb: "MIGRATE"}},
	{in: "", err: "empty"},
	{in: "=:BTC:bc1", err: "field 1 (asset)"},
	{in: "=::bc1", err: "field 1 (asset)"},
	{in: "OUT:1234", err: "inbound tx id"},
	{in: ":x", err: "no action"},
	{in: "=:BTC.BTC:bc1\x00", err: "control character"},
	{in: "=:B!C.BTC:x", err: "not alphanumeric"},
}

func TestParseMemo(t *testing.T) {
	for _, c := range memoCases {
		got, err := ParseMemo(c.in)
		if c.err != "" {
			if err == nil || !errors.Is(err, ErrMemo) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseMemo(%q) error = %v, want one containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseMemo(%q): %v", c.in, err)
			continue
		}
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("ParseMemo(%q) (-want +got):\n%s", c.in, d)
		}
	}
}

func TestDestChain(t *testing.T) {
	for in, want := range map[string]string{"=:BTC.BTC:bc1": "btc", "=:b:bc1": "btc", "=:ETH.ETH:0x1": "eth", "=:AVAX/USDC:thor1": "thor",
		"=:BTC~BTC:thor1": "thor", "OUT:" + strings.Repeat("a", 64): "", "+:ETH.ETH": ""} {
		m, err := ParseMemo(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(m.DestChain()); got != want {
			t.Errorf("DestChain(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseMemo checks that any input either parses or fails with ErrMemo,
// and that a parsed memo is consistent with its action.
func FuzzParseMemo(f *testing.F) {
	for _, c := range memoCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMemo(s)
		if err != nil {
			if !errors.Is(err, ErrMemo) {
				t.Fatalf("ParseMemo(%q): error %v is not ErrMemo", s, err)
			}
			if !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
				t.Fatalf("error text is not UTF-8")
			}
			return
		}
		switch m.Action {
		case ActionSwap:
			if m.Asset.Chain == "" || m.DestChain() == "" {
				t.Fatalf("ParseMemo(%q): swap without a target: %+v", s, m)
			}
		case ActionOut, ActionRefund:
			if len(m.TxID) != 64 || strings.ToLower(m.TxID) != m.TxID {
				t.Fatalf("ParseMemo(%q): tx id %q", s, m.TxID)
			}
		case ActionAdd, ActionWithdraw, ActionOther:
		default:
			t.Fatalf("ParseMemo(%q): action %q", s, m.Action)
		}
	})
}
