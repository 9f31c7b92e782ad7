package importer

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
)

// GenOptions shape a synthetic generic transfers file.
type GenOptions struct {
	Transfers int    // rows to write
	Seed      uint64 // same seed, same file
	Addresses int    // distinct addresses (default 1,000,000)
	Chain     string // default "eth"
}

// GenerateTransfers writes a deterministic synthetic transfers CSV in the
// generic format: blocks of about 150 transfers, 1–3 transfers per
// transaction, addresses drawn with a skew towards a small set of hubs, 20 %
// token transfers over 64 token contracts, amounts up to about 10^21. It is
// for benchmarks and crash tests; internal/synth builds realistic ledgers.
func GenerateTransfers(w io.Writer, o GenOptions) error {
	if o.Addresses <= 0 {
		o.Addresses = 1_000_000
	}
	if o.Chain == "" {
		o.Chain = "eth"
	}
	rng := splitmix(o.Seed ^ 0x9e3779b97f4a7c15)
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(TransfersHeader + "\n")
	addr := func(i uint64) []byte {
		var b [20]byte
		x := splitmix(i*0x2545f4914f6cdd1d + o.Seed)
		for j := 0; j < 20; j += 8 {
			v := x.next()
			for k := 0; k < 8 && j+k < 20; k++ {
				b[j+k] = byte(v >> (8 * k))
			}
		}
		out := make([]byte, 42)
		out[0], out[1] = '0', 'x'
		hex.Encode(out[2:], b[:])
		return out
	}
	pick := func() []byte {
		r := rng.next()
		if r%10 < 3 { // 30 %: one of 1,000 hubs
			return addr(r >> 8 % 1000)
		}
		return addr(r >> 8 % uint64(o.Addresses))
	}
	tokens := make([][]byte, 64)
	for i := range tokens {
		tokens[i] = addr(1<<40 + uint64(i))
	}
	block := uint64(15_000_000)
	ts := int64(1_650_000_000)
	inBlock, blockSize := 0, 100+int(rng.next()%100)
	var txIdx uint32
	var line []byte
	var hash [32]byte
	for n := 0; n < o.Transfers; {
		if inBlock >= blockSize {
			block++
			ts += 12
			inBlock, blockSize, txIdx = 0, 100+int(rng.next()%100), 0
		}
		for j := 0; j < 32; j += 8 {
			v := rng.next()
			for k := 0; k < 8; k++ {
				hash[j+k] = byte(v >> (8 * k))
			}
		}
		per := 1 + int(rng.next()%3)
		for s := 0; s < per && n < o.Transfers; s++ {
			line = append(line[:0], o.Chain...)
			line = append(line, ",0x"...)
			line = hex.AppendEncode(line, hash[:])
			line = append(line, ',')
			line = strconv.AppendUint(line, block, 10)
			line = append(line, ',')
			line = strconv.AppendInt(line, ts, 10)
			line = append(line, ',')
			line = strconv.AppendUint(line, uint64(txIdx)<<32|uint64(s), 10)
			line = append(line, ',')
			line = append(line, pick()...)
			line = append(line, ',')
			line = append(line, pick()...)
			line = append(line, ',')
			r := rng.next()
			if r%5 == 0 {
				line = append(line, tokens[r>>8%64]...)
			} else {
				line = append(line, "native"...)
			}
			line = append(line, ',')
			amt := 1 + rng.next()%1_000_000_000_000
			line = strconv.AppendUint(line, amt, 10)
			if r>>16%2 == 0 {
				line = append(line, "000000000"...) // up to ~10^21: past 64 bits
			}
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return fmt.Errorf("write synthetic transfers: %w", err)
			}
			n++
			inBlock++
		}
		txIdx++
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write synthetic transfers: %w", err)
	}
	return nil
}

type rng64 struct{ s uint64 }

func splitmix(seed uint64) *rng64 { return &rng64{seed} }

func (r *rng64) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
