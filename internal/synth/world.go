package synth

import (
	"encoding/binary"
	"fmt"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// Chain ids of the two synthetic chains.
const (
	Chain1 model.Chain = "synth"  // Ethereum-like, 12 s blocks, native SYN and four tokens
	Chain2 model.Chain = "synth2" // second account-model chain, 6 s blocks, native SYX and one token
)

// AssetInfo describes one asset of a synthetic chain.
type AssetInfo struct {
	Chain    model.Chain
	ID       string // model.NativeAsset or the token contract address
	Symbol   string
	Decimals int
	granExp  int    // a balance unit (granule) is 10^granExp smallest units
	contract uint32 // address id of the token contract; 0 for native
	kmin     int    // typical payment: m × 10^k granules, m in [100,999], k in [kmin, kmin+3]
}

// Service is an address owned by a service or by the world's infrastructure.
type Service struct {
	ID       uint32
	Entity   string // e.g. "exchange:Kumbit"
	Name     string // e.g. "Kumbit hot wallet 2"
	Category model.Category
	Role     string // hot, cold, deposit, pool, vault, mixer-pool, otc, gambling, validator, dapp, token
}

type exchange struct {
	name string
	hot  []uint32
	cold uint32
}

type pool struct {
	id    uint32
	token uint8 // asset index paired with the native coin
}

type mixerPool struct {
	id    uint32
	denom uint64 // granules of the native coin
}

// chainSpec is the static layout of one chain: assets and address ranges.
type chainSpec struct {
	idx       int
	chain     model.Chain
	blockTime int64
	assets    []AssetInfo
	services  []Service
	exchanges []exchange
	pools     []pool
	arb       uint32 // arbitrage bot that pulls pool prices toward a slowly moving reference
	vault     uint32
	mixers    []mixerPool
	otc       []uint32
	gambling  []uint32
	validator []uint32
	dapps     []uint32

	users    uint32 // user ids are [userBase, userBase+users)
	userBase uint32
	depBase  uint32 // deposit address of customer user u (u%3 == 0) is depBase + u/3
	deps     uint32
	lBase    uint32 // laundering addresses start here and grow
}

// World is the static description of a generated world: chains, assets,
// services and the address layout. Addresses are derived from the seed.
type World struct {
	Params   Params
	Launder  []LaunderAddr    // every laundering address, once Generate returned
	Results  []ScenarioResult // stolen-value account per scenario, once Generate returned
	specs    [2]*chainSpec
	key      uint64
	hexCache [2][]byte // hex of ids below addrCacheIDs
}

var exchangeNames = []string{"Kumbit", "Bitvault", "Coinmint", "Harborex"}

func newWorld(p Params) *World {
	w := &World{Params: p, key: mix64(p.Seed ^ 0x5eed_5eed_5eed_5eed)}
	w.specs[0] = w.buildSpec(0, Chain1, 12, p.Users, []AssetInfo{
		{Symbol: "SYN", Decimals: 18, granExp: 9, kmin: 5},
		{Symbol: "sUSDT", Decimals: 6, granExp: 0, kmin: 5},
		{Symbol: "sUSDC", Decimals: 6, granExp: 0, kmin: 5},
		{Symbol: "sWBTC", Decimals: 8, granExp: 0, kmin: 3},
		{Symbol: "sDAI", Decimals: 18, granExp: 9, kmin: 8},
	}, 4, 2, 3, 3, 2, 32, 16)
	w.specs[1] = w.buildSpec(1, Chain2, 6, p.Users2, []AssetInfo{
		{Symbol: "SYX", Decimals: 18, granExp: 9, kmin: 7},
		{Symbol: "xUSD", Decimals: 6, granExp: 0, kmin: 5},
	}, 2, 1, 0, 2, 1, 8, 4)
	w.fillCache(0)
	w.fillCache(1)
	return w
}

func (w *World) buildSpec(idx int, chain model.Chain, bt int64, users int, assets []AssetInfo,
	nExch, hotPer, nMixer, nOTC, nGamble, nVal, nDapp int) *chainSpec {
	s := &chainSpec{idx: idx, chain: chain, blockTime: bt, assets: assets}
	next := uint32(1) // 0 is the zero address
	add := func(entity, name string, cat model.Category, role string) uint32 {
		id := next
		next++
		s.services = append(s.services, Service{ID: id, Entity: entity, Name: name, Category: cat, Role: role})
		return id
	}
	for i := range s.assets {
		a := &s.assets[i]
		a.Chain = chain
		if i == 0 {
			a.ID = model.NativeAsset
			continue
		}
		a.contract = add("token:"+a.Symbol, a.Symbol+" token contract", model.CatToken, "token")
		a.ID = w.Address(idx, a.contract)
	}
	for e := 0; e < nExch; e++ {
		n := exchangeNames[e]
		x := exchange{name: n}
		for h := 0; h < hotPer; h++ {
			x.hot = append(x.hot, add("exchange:"+n, fmt.Sprintf("%s hot wallet %d", n, h+1), model.CatExchange, "hot"))
		}
		x.cold = add("exchange:"+n, n+" cold wallet", model.CatExchange, "cold")
		s.exchanges = append(s.exchanges, x)
	}
	for i := 1; i < len(s.assets); i++ {
		if s.assets[i].Symbol == "sUSDT" || s.assets[i].Symbol == "sUSDC" || s.assets[i].Symbol == "sWBTC" ||
			s.assets[i].Symbol == "sDAI" || s.assets[i].Symbol == "xUSD" {
			name := fmt.Sprintf("Synswap %s/%s pool", s.assets[0].Symbol, s.assets[i].Symbol)
			s.pools = append(s.pools, pool{id: add("dex:Synswap", name, model.CatDEX, "pool"), token: uint8(i)})
		}
	}
	s.arb = add("mm:Synarb", fmt.Sprintf("Synarb arbitrage bot (%s)", chain), model.CatDeFi, "arbitrage")
	s.vault = add("bridge:Runeway", "Runeway "+string(chain)+" vault", model.CatBridge, "vault")
	denoms := []uint64{1e9, 1e10, 1e11} // 1, 10, 100 coins
	for i := 0; i < nMixer; i++ {
		s.mixers = append(s.mixers, mixerPool{
			id:    add("mixer:TumbleCash", fmt.Sprintf("TumbleCash %d %s pool", denoms[i]/1e9, s.assets[0].Symbol), model.CatMixer, "mixer-pool"),
			denom: denoms[i],
		})
	}
	otcNames := []string{"Jade Desk", "Lantern OTC", "Meridian Trading"}
	for i := 0; i < nOTC; i++ {
		s.otc = append(s.otc, add("otc:"+otcNames[i], otcNames[i], model.CatOTC, "otc"))
	}
	gambleNames := []string{"LuckyHash", "Dice9"}
	for i := 0; i < nGamble; i++ {
		s.gambling = append(s.gambling, add("gambling:"+gambleNames[i], gambleNames[i]+" bankroll", model.CatGambling, "gambling"))
	}
	for i := 0; i < nVal; i++ {
		s.validator = append(s.validator, add(fmt.Sprintf("validator:%s-%d", chain, i+1), fmt.Sprintf("%s validator %d", chain, i+1), model.CatMiner, "validator"))
	}
	for i := 0; i < nDapp; i++ {
		s.dapps = append(s.dapps, add(fmt.Sprintf("dapp:%s-%d", chain, i+1), fmt.Sprintf("%s dapp %d", chain, i+1), model.CatDeFi, "dapp"))
	}
	s.userBase = next
	s.users = uint32(users)
	s.depBase = s.userBase + s.users
	s.deps = (s.users + 2) / 3
	s.lBase = s.depBase + s.deps
	return s
}

// Assets returns the assets of the chain with index 0 (synth) or 1 (synth2).
func (w *World) Assets(chainIdx int) []AssetInfo { return w.specs[chainIdx].assets }

// Services returns the service addresses of a chain (deposit addresses excluded).
func (w *World) Services(chainIdx int) []Service { return w.specs[chainIdx].services }

// ChainID returns the model chain of a chain index.
func (w *World) ChainID(chainIdx int) model.Chain { return w.specs[chainIdx].chain }

// isCustomer reports whether user u has deposit addresses; customerExchange
// says at which exchange.
func (s *chainSpec) isCustomer(u uint32) bool { return (u-s.userBase)%3 == 0 }

func (s *chainSpec) depositOf(u uint32) uint32 { return s.depBase + (u-s.userBase)/3 }

func (s *chainSpec) depositExchange(dep uint32) int {
	return int(mix64(uint64(dep)) % uint64(len(s.exchanges)))
}

func (s *chainSpec) isDeposit(id uint32) bool { return id >= s.depBase && id < s.lBase }

// mix64 is the splitmix64 finalizer: a bijective hash of 64 bits.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (w *World) fillCache(c int) {
	buf := make([]byte, 0, addrCacheIDs*42)
	for id := uint32(0); id < addrCacheIDs; id++ {
		b := w.addrBytes(c, id)
		buf = appendHex(buf, b[:])
	}
	w.hexCache[c] = buf
}

func (w *World) addrBytes(c int, id uint32) (b [20]byte) {
	if id == 0 {
		return b
	}
	k := w.key ^ uint64(c)<<40 ^ uint64(id)
	binary.BigEndian.PutUint64(b[0:], mix64(k))
	binary.BigEndian.PutUint64(b[8:], mix64(k^0xa5a5_0000_0000_0001))
	binary.BigEndian.PutUint32(b[16:], uint32(mix64(k^0x5a5a_0000_0000_0002)))
	return b
}

const hexdigits = "0123456789abcdef"

var hexPairs = func() (t [256][2]byte) {
	for i := range t {
		t[i] = [2]byte{hexdigits[i>>4], hexdigits[i&15]}
	}
	return t
}()

func appendHex(dst []byte, b []byte) []byte {
	n := len(dst)
	dst = append(dst, make([]byte, 2+2*len(b))...)
	o := dst[n:]
	o[0], o[1] = '0', 'x'
	for i, c := range b {
		p := hexPairs[c]
		o[2+2*i], o[3+2*i] = p[0], p[1]
	}
	return dst
}

// addrCacheIDs is how many of the lowest address ids of each chain (services
// and the busiest users) have their hex form precomputed.
const addrCacheIDs = 1 << 16

// Address returns the canonical address of id on chain c.
func (w *World) Address(c int, id uint32) string {
	b := w.addrBytes(c, id)
	return string(appendHex(make([]byte, 0, 42), b[:]))
}

func (w *World) appendAddress(dst []byte, c int, id uint32) []byte {
	if id < addrCacheIDs {
		return append(dst, w.hexCache[c][int(id)*42:int(id)*42+42]...)
	}
	b := w.addrBytes(c, id)
	return appendHex(dst, b[:])
}

func (w *World) txHashBytes(c int, block uint64, tx uint32) (b [32]byte) {
	k := w.key ^ uint64(c+1)<<60 ^ block<<20 ^ uint64(tx)
	k2 := mix64(k ^ 0x7478_0000_0000_0000)
	for i := 0; i < 4; i++ {
		binary.BigEndian.PutUint64(b[8*i:], mix64(k2+uint64(i)*0x9e3779b97f4a7c15))
	}
	return b
}

// TxHash returns the hash of transaction tx of block on chain c.
func (w *World) TxHash(c int, block uint64, tx uint32) string {
	b := w.txHashBytes(c, block, tx)
	return string(appendHex(make([]byte, 0, 66), b[:]))
}

// BlockHash returns the hash of a block on chain c.
func (w *World) BlockHash(c int, block uint64) string {
	b := w.txHashBytes(c, block, 0xffffffff)
	b[0] ^= 0xb1
	return string(appendHex(make([]byte, 0, 66), b[:]))
}

// amountOf converts a granule count of asset a on chain c into smallest units.
func (w *World) amountOf(c int, a uint8, g uint64) uint256.Int {
	var z uint256.Int
	z.SetUint64(g)
	if e := w.specs[c].assets[a].granExp; e > 0 {
		z.Mul(&z, pow10(e))
	}
	return z
}

var pow10s = func() (t [20]uint256.Int) {
	t[0].SetOne()
	ten := uint256.NewInt(10)
	for i := 1; i < len(t); i++ {
		t[i].Mul(&t[i-1], ten)
	}
	return t
}()

func pow10(e int) *uint256.Int { return &pow10s[e] }
