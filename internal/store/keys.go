package store

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/redthread/redthread/internal/model"
)

// Key prefixes (docs/store-format.md).
const (
	pAddr       = 'A' // A chain addr          → id
	pAddrRev    = 'a' // a id                  → chain addr
	pBlock      = 'B' // B chain block         → time hash parent
	pCounter    = 'C' // C id asset            → counters (merge)
	pIn         = 'I' // I id start            → incoming adjacency bucket (merge)
	pCheckpt    = 'K' // K name                → value
	pMeta       = 'M' // M name                → value
	pAsset      = 'N' // N chain token         → asset number
	pAssetRev   = 'n' // n number              → chain token
	pOut        = 'O' // O id start            → outgoing adjacency bucket (merge)
	pChainStat  = 'S' // S chain               → counters (merge)
	pTransfer   = 'T' // T chain block pos     → segment of transfers
	pConversion = 'X' // X chain block pos     → conversion
)

var (
	metaNextID    = []byte{pMeta, 'n', 'e', 'x', 't', 'i', 'd'}
	metaNextAsset = []byte{pMeta, 'n', 'e', 'x', 't', 'a', 's', 's', 'e', 't'}
	metaFormat    = []byte{pMeta, 'f', 'o', 'r', 'm', 'a', 't'}
)

// formatVersion is the on-disk layout version this code reads and writes.
const formatVersion = 2

// chainPrefix returns p, len(chain), chain.
func chainPrefix(dst []byte, p byte, chain model.Chain) []byte {
	dst = append(dst, p, byte(len(chain)))
	return append(dst, chain...)
}

func transferKey(dst []byte, chain model.Chain, block uint64, pos model.Position) []byte {
	dst = chainPrefix(dst, pTransfer, chain)
	dst = binary.BigEndian.AppendUint64(dst, block)
	return binary.BigEndian.AppendUint64(dst, uint64(pos))
}

func blockKey(dst []byte, chain model.Chain, block uint64) []byte {
	dst = chainPrefix(dst, pBlock, chain)
	return binary.BigEndian.AppendUint64(dst, block)
}

func idKey(dst []byte, p byte, id uint64) []byte {
	dst = append(dst, p)
	return binary.BigEndian.AppendUint64(dst, id)
}

// adjPrefix is the key prefix of an address's adjacency buckets in
// direction d (In or Out).
func adjPrefix(d Direction) byte {
	if d == Out {
		return pOut
	}
	return pIn
}

// adjDir is the direction of adjacency key prefix p (pIn or pOut).
func adjDir(p byte) Direction {
	if p == pOut {
		return Out
	}
	return In
}

// entryPrefix is the adjacency key prefix of an adjEntry key or a touched
// key: id<<1, | 1 for outgoing.
func entryPrefix(k uint64) byte {
	if k&1 == 1 {
		return pOut
	}
	return pIn
}

// blockBounds returns the key range [lo, hi) of a chain's keys under
// prefix p (transfers, headers, conversions: len chain, block, …) with
// from ≤ block ≤ to; to = ^0 reaches the end of the chain.
func blockBounds(p byte, chain model.Chain, from, to uint64) (lo, hi []byte) {
	pre := chainPrefix(nil, p, chain)
	lo = binary.BigEndian.AppendUint64(pre[:len(pre):len(pre)], from)
	if to == ^uint64(0) {
		return lo, prefixEnd(pre)
	}
	return lo, binary.BigEndian.AppendUint64(pre[:len(pre):len(pre)], to+1)
}

func counterKey(dst []byte, id, asset uint64) []byte {
	dst = idKey(dst, pCounter, id)
	return binary.BigEndian.AppendUint64(dst, asset)
}

// addrBytes encodes a canonical address compactly: 20 raw bytes for EVM
// chains, the text otherwise.
func addrBytes(dst []byte, chain model.Chain, addr string) []byte {
	if model.IsEVM(chain) && len(addr) == 42 {
		n := len(dst)
		dst = append(dst, make([]byte, 20)...)
		if _, err := hex.Decode(dst[n:], []byte(addr[2:])); err == nil {
			return dst
		}
		dst = dst[:n]
	}
	return append(dst, addr...)
}

func addrText(chain model.Chain, b []byte) string {
	if model.IsEVM(chain) && len(b) == 20 {
		return "0x" + hex.EncodeToString(b)
	}
	return string(b)
}

var errCorrupt = errors.New("store: corrupt record")

func readUvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, errCorrupt
	}
	return v, b[n:], nil
}

func decodeTransferKey(k []byte) (chain model.Chain, block uint64, pos model.Position, err error) {
	if len(k) < 2 || k[0] != pTransfer || len(k) != 2+int(k[1])+16 {
		return "", 0, 0, fmt.Errorf("store: bad transfer key %x", k)
	}
	n := int(k[1])
	chain = model.Chain(k[2 : 2+n])
	block = binary.BigEndian.Uint64(k[2+n:])
	pos = model.Position(binary.BigEndian.Uint64(k[10+n:]))
	return chain, block, pos, nil
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
