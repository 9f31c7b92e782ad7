package eth

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/holiman/uint256"
)

// reward is one block or uncle reward credited to an address: issuance by
// the proof-of-work consensus rules, with no transaction and no sender.
// Rewards of a block are kept in a canonical order: the block's own reward
// (rewardType "block") first, then the uncle rewards in the order of the
// block's uncle list, then any other reward types a node reports.
type reward struct {
	to    string
	value uint256.Int
	typ   string // "block", "uncle", … (parity's action.rewardType)
}

// RewardStep is one era of a proof-of-work block reward: from block From on,
// the miner of a block earns Amount wei (before uncle inclusion rewards).
type RewardStep struct {
	From   uint64
	Amount uint256.Int
}

// RewardSchedule says what blocks paid their miners, for tracers that do
// not report rewards (geth's callTracer): redthread then computes them from
// the ethash rules. A block's reward R is the Amount of the last step whose
// From is at or below it; the block's miner earns R + R/32 per included
// uncle, and the miner of an uncle with number u included in block n earns
// (u + 8 − n) × R / 8 (integer division, as the consensus rules do).
// Proof-of-stake blocks (difficulty 0, or number ≥ Merge when Merge is set)
// and the genesis block earn nothing.
type RewardSchedule struct {
	Steps []RewardStep // ascending From; empty: the chain pays no block rewards
	Merge uint64       // first proof-of-stake block; 0: not set (difficulty 0 alone marks it)
}

func ether(n uint64) uint256.Int {
	var v uint256.Int
	v.Mul(uint256.NewInt(n), uint256.NewInt(1_000_000_000_000_000_000))
	return v
}

// MainnetRewards is Ethereum mainnet's schedule: 5 ETH from Frontier,
// 3 ETH from Byzantium (block 4,370,000, EIP-649), 2 ETH from
// Constantinople (block 7,280,000, EIP-1234), none from the merge
// (block 15,537,394, the first block after the terminal total difficulty
// 58,750,000,000,000,000,000,000 was reached; EIP-3675).
var MainnetRewards = RewardSchedule{
	Steps: []RewardStep{{0, ether(5)}, {4_370_000, ether(3)}, {7_280_000, ether(2)}},
	Merge: 15_537_394,
}

// NoRewards is the schedule of chains that pay no block rewards (proof of
// authority, or proof of stake from genesis).
var NoRewards = RewardSchedule{}

// KnownRewards returns the schedule of a chain id redthread knows, or nil:
// 1 (Ethereum mainnet) MainnetRewards; chains whose blocks never paid a
// consensus block reward — 5 (Görli, clique), 10 (OP Mainnet), 56 (BNB
// Smart Chain, parlia: validators earn fees only), 137 (Polygon PoS, bor),
// 8453 (Base), 42161 (Arbitrum One), 43114 (Avalanche C-Chain) — NoRewards.
func KnownRewards(chainID uint64) *RewardSchedule {
	switch chainID {
	case 1:
		return &MainnetRewards
	case 5, 10, 56, 137, 8453, 42161, 43114:
		return &NoRewards
	}
	return nil
}

// ParseRewardSchedule reads a schedule: "mainnet", "none", or a
// comma-separated list of BLOCK:WEI steps with an optional merge:BLOCK,
// e.g. "0:5000000000000000000,4370000:3000000000000000000,merge:15537394".
func ParseRewardSchedule(s string) (RewardSchedule, error) {
	switch strings.TrimSpace(s) {
	case "mainnet":
		return MainnetRewards, nil
	case "none":
		return NoRewards, nil
	}
	var rs RewardSchedule
	for i, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return rs, fmt.Errorf("reward schedule %q: item %d (%q): want BLOCK:WEI or merge:BLOCK", s, i+1, part)
		}
		if k == "merge" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n == 0 {
				return rs, fmt.Errorf("reward schedule %q: merge block %q: want a positive integer", s, v)
			}
			rs.Merge = n
			continue
		}
		n, err := strconv.ParseUint(k, 10, 64)
		if err != nil {
			return rs, fmt.Errorf("reward schedule %q: block %q: want an integer", s, k)
		}
		amt, err := uint256.FromDecimal(v)
		if err != nil {
			return rs, fmt.Errorf("reward schedule %q: amount %q: want an integer number of wei", s, v)
		}
		rs.Steps = append(rs.Steps, RewardStep{From: n, Amount: *amt})
	}
	if !sort.SliceIsSorted(rs.Steps, func(i, j int) bool { return rs.Steps[i].From < rs.Steps[j].From }) {
		return rs, fmt.Errorf("reward schedule %q: steps must be in ascending block order", s)
	}
	for i := 1; i < len(rs.Steps); i++ {
		if rs.Steps[i].From == rs.Steps[i-1].From {
			return rs, fmt.Errorf("reward schedule %q: block %d given twice", s, rs.Steps[i].From)
		}
	}
	if len(rs.Steps) > 0 && rs.Steps[0].From != 0 {
		return rs, fmt.Errorf("reward schedule %q: the first step must start at block 0", s)
	}
	return rs, nil
}

// String is the inverse of ParseRewardSchedule.
func (s RewardSchedule) String() string {
	if len(s.Steps) == 0 && s.Merge == 0 {
		return "none"
	}
	var parts []string
	for _, st := range s.Steps {
		parts = append(parts, fmt.Sprintf("%d:%s", st.From, st.Amount.Dec()))
	}
	if s.Merge != 0 {
		parts = append(parts, fmt.Sprintf("merge:%d", s.Merge))
	}
	return strings.Join(parts, ",")
}

// uncleHeader is what a reward needs of an uncle.
type uncleHeader struct {
	number uint64
	miner  string
}

// blockReward returns the base reward R of a block, or false for a block
// that earns nothing.
func (s *RewardSchedule) blockReward(number uint64) (uint256.Int, bool) {
	var r uint256.Int
	if number == 0 || (s.Merge != 0 && number >= s.Merge) {
		return r, false
	}
	found := false
	for _, st := range s.Steps {
		if st.From > number {
			break
		}
		r, found = st.Amount, true
	}
	return r, found && !r.IsZero()
}

// computeRewards applies the schedule to one block. pos says whether the
// block is known to be proof of stake (difficulty 0). An uncle must be 1 to
// 7 blocks older than the block that includes it (ethash accepts 1 to 6).
func (s *RewardSchedule) computeRewards(number uint64, miner string, pos bool, uncles []uncleHeader) ([]reward, error) {
	r, ok := s.blockReward(number)
	if !ok || pos {
		return nil, nil
	}
	out := make([]reward, 0, 1+len(uncles))
	var inclusion uint256.Int
	inclusion.Rsh(&r, 5) // R/32 per uncle to the including miner
	out = append(out, reward{to: miner, typ: "block"})
	out[0].value = r
	for i, u := range uncles {
		if u.number >= number || number-u.number > 7 {
			return nil, fmt.Errorf("block %d: uncle %d: field \"number\": %d is not 1 to 7 blocks older than the block", number, i, u.number)
		}
		var v uint256.Int
		_, over1 := v.MulOverflow(uint256.NewInt(u.number+8-number), &r)
		v.Rsh(&v, 3)
		_, over2 := out[0].value.AddOverflow(&out[0].value, &inclusion)
		if over1 || over2 {
			return nil, fmt.Errorf("block %d: uncle %d: reward overflows 256 bits (reward schedule %s)", number, i, s)
		}
		out = append(out, reward{to: u.miner, value: v, typ: "uncle"})
	}
	return out, nil
}

// rewardRank orders reward types canonically (see reward).
func rewardRank(typ string) int {
	switch typ {
	case "block":
		return 0
	case "uncle":
		return 1
	}
	return 2
}
