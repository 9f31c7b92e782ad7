package ingest

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/redthread/redthread/internal/chain/eth"
	"github.com/redthread/redthread/internal/chain/eth/ethsim"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
)

// BenchmarkIngestSimulated ingests 100 blocks of 50 transactions each
// (plain transfers, ERC-20 transfers and value forwarded through a
// contract, so fees, native, token and internal transfers) from an
// in-process geth node over HTTP JSON-RPC with the callTracer into a fresh
// ledger store, and reports blocks/s and transfers/s.
//
//	go test ./internal/ingest -run '^$' -bench IngestSimulated -benchtime 3x
func BenchmarkIngestSimulated(b *testing.B) {
	const blocks, perBlock uint64 = 100, 50
	ctx := context.Background()
	senders := make([]ethsim.Account, 5)
	alloc := types.GenesisAlloc{}
	for i := range senders {
		senders[i] = ethsim.NewAccount(byte(10 + i))
		alloc[senders[i].Addr] = types.Account{Balance: new(big.Int).Lsh(big.NewInt(1), 100)}
	}
	node, err := ethsim.Start(alloc, ethsim.NewAccount(99).Addr)
	if err != nil {
		b.Fatal(err)
	}
	defer node.Close()
	nonces := make([]uint64, len(senders))
	send := func(s int, to *common.Address, value *big.Int, gas uint64, data []byte) {
		if _, err := node.Send(ctx, senders[s], nonces[s], to, value, gas, data); err != nil {
			b.Fatal(err)
		}
		nonces[s]++
	}
	token := crypto.CreateAddress(senders[0].Addr, 0)
	send(0, nil, nil, 500_000, ethsim.TokenInit(new(big.Int).Lsh(big.NewInt(1), 200)))
	fwd := crypto.CreateAddress(senders[1].Addr, 0)
	send(1, nil, nil, 500_000, ethsim.ForwarderInit())
	node.Commit()
	setup := time.Now()
	for blk := uint64(0); blk < blocks; blk++ {
		for j := uint64(0); j < perBlock; j++ {
			to := common.BytesToAddress([]byte{0xbe, byte(blk), byte(j)})
			switch j % 3 {
			case 0:
				send(int(j%5), &to, big.NewInt(int64(1+j)), 21_000, nil)
			case 1:
				send(0, &token, nil, 300_000, ethsim.TokenTransfer(to, big.NewInt(int64(1+j))))
			case 2:
				send(int(j%5), &fwd, big.NewInt(int64(1+j)), 300_000, ethsim.Forward(to, ethsim.ModeRequire, nil))
			}
		}
		node.Commit()
	}
	b.Logf("node setup: %d blocks in %v", blocks, time.Since(setup))
	for _, tr := range []eth.Tracer{eth.TracerGeth, eth.TracerNone} {
		b.Run("tracer="+string(tr), func(b *testing.B) {
			benchIngest(b, node.URL, tr, blocks, perBlock)
		})
	}
}

func benchIngest(b *testing.B, url string, tr eth.Tracer, blocks, perBlock uint64) {
	ctx := context.Background()
	src := eth.New(url, eth.Options{Tracer: tr, Batch: 10, Concurrency: 4})
	want := blocks * (2*perBlock + 17 + 17 + 2*16)
	if tr == eth.TracerNone {
		want -= blocks * 16 // no internal transfers without traces
	}
	var transfers uint64
	var elapsed time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, err := store.Open(b.TempDir(), store.Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		s, err := Run(ctx, src, st, Options{From: 2, To: blocks + 1})
		elapsed += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		// Every tx pays tip and burn; 17 plain transfers, 17 token transfers
		// and 16 forwards (value in, value out) per block.
		if s.Blocks != blocks || s.Txs != blocks*perBlock || s.Transfers != want {
			b.Fatalf("ingested %+v", s)
		}
		transfers += s.Transfers
		b.StopTimer()
		if i == 0 {
			kinds := map[model.Kind]int{}
			_ = st.ScanTransfers(ctx, model.ChainETH, 0, blocks+1, func(t *model.Transfer) error { kinds[t.Kind]++; return nil })
			b.Logf("transfers by kind: %v", kinds)
		}
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(blocks*uint64(b.N))/elapsed.Seconds(), "blocks/s")
	b.ReportMetric(float64(transfers)/elapsed.Seconds(), "transfers/s")
	b.ReportMetric(float64(transfers)/float64(b.N)/float64(blocks), "transfers/block")
}
