package store

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// Key prefixes (docs/store-format.md).
const (
	pAddr      = 'A' // A chain addr          → id
	pAddrRev   = 'a' // a id                  → chain addr
	pBlock     = 'B' // B chain block         → time hash parent
	pCounter   = 'C' // C id asset            → counters (merge)
	pIn        = 'I' // I id block pos        → counterparty asset kind amount
	pCheckpt   = 'K' // K name                → value
	pMeta      = 'M' // M name                → value
	pOut       = 'O' // O id block pos        → counterparty asset kind amount
	pChainStat = 'S' // S chain               → counters (merge)
	pTransfer  = 'T' // T chain block pos     → kind hash from to asset amount
)

var metaNextID = []byte{pMeta, 'n', 'e', 'x', 't', 'i', 'd'}

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

func adjKey(dst []byte, p byte, id uint64, block uint64, pos model.Position) []byte {
	dst = append(dst, p)
	dst = binary.BigEndian.AppendUint64(dst, id)
	dst = binary.BigEndian.AppendUint64(dst, block)
	return binary.BigEndian.AppendUint64(dst, uint64(pos))
}

func idKey(dst []byte, p byte, id uint64) []byte {
	dst = append(dst, p)
	return binary.BigEndian.AppendUint64(dst, id)
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

// hashBytes encodes a transaction hash: flag 0 and 32 raw bytes for
// 0x-prefixed 32-byte hex, flag 1 and a length-prefixed string otherwise.
func hashBytes(dst []byte, h string) []byte {
	if len(h) == 66 && h[0] == '0' && h[1] == 'x' {
		n := len(dst)
		dst = append(dst, 0)
		dst = append(dst, make([]byte, 32)...)
		if _, err := hex.Decode(dst[n+1:], []byte(h[2:])); err == nil {
			return dst
		}
		dst = dst[:n]
	}
	dst = append(dst, 1)
	dst = binary.AppendUvarint(dst, uint64(len(h)))
	return append(dst, h...)
}

func readHash(b []byte) (string, []byte, error) {
	if len(b) < 1 {
		return "", nil, errCorrupt
	}
	switch b[0] {
	case 0:
		if len(b) < 33 {
			return "", nil, errCorrupt
		}
		return "0x" + hex.EncodeToString(b[1:33]), b[33:], nil
	case 1:
		n, k := binary.Uvarint(b[1:])
		if k <= 0 || uint64(len(b)-1-k) < n {
			return "", nil, errCorrupt
		}
		s := 1 + k
		return string(b[s : s+int(n)]), b[s+int(n):], nil
	}
	return "", nil, errCorrupt
}

var errCorrupt = errors.New("store: corrupt record")

func appendAmount(dst []byte, a *uint256.Int) []byte {
	n := (a.BitLen() + 7) / 8
	dst = append(dst, byte(n))
	var buf [32]byte
	a.WriteToArray32(&buf)
	return append(dst, buf[32-n:]...)
}

func readAmount(b []byte, a *uint256.Int) ([]byte, error) {
	if len(b) < 1 || int(b[0]) > 32 || len(b) < 1+int(b[0]) {
		return nil, errCorrupt
	}
	n := int(b[0])
	a.SetBytes(b[1 : 1+n])
	return b[1+n:], nil
}

func readUvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, errCorrupt
	}
	return v, b[n:], nil
}

// transferValue: kind, hash, from id, to id, asset id, amount.
func transferValue(dst []byte, t *model.Transfer, from, to, asset uint64) []byte {
	dst = append(dst, byte(t.Kind))
	dst = hashBytes(dst, t.TxHash)
	dst = binary.AppendUvarint(dst, from)
	dst = binary.AppendUvarint(dst, to)
	dst = binary.AppendUvarint(dst, asset)
	return appendAmount(dst, &t.Amount)
}

type rawTransfer struct {
	kind            model.Kind
	hash            string
	from, to, asset uint64
	amount          uint256.Int
}

func decodeTransferValue(b []byte, r *rawTransfer) error {
	if len(b) < 1 {
		return errCorrupt
	}
	r.kind = model.Kind(b[0])
	var err error
	if r.hash, b, err = readHash(b[1:]); err != nil {
		return err
	}
	if r.from, b, err = readUvarint(b); err != nil {
		return err
	}
	if r.to, b, err = readUvarint(b); err != nil {
		return err
	}
	if r.asset, b, err = readUvarint(b); err != nil {
		return err
	}
	if _, err = readAmount(b, &r.amount); err != nil {
		return err
	}
	return nil
}

// adjValue: counterparty id, asset id, kind, amount.
func adjValue(dst []byte, counterparty, asset uint64, kind model.Kind, amount *uint256.Int) []byte {
	dst = binary.AppendUvarint(dst, counterparty)
	dst = binary.AppendUvarint(dst, asset)
	dst = append(dst, byte(kind))
	return appendAmount(dst, amount)
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
