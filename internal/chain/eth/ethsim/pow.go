package ethsim

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/tracers"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"
)

// PoWConfig returns a proof-of-work chain config (ethash rules, chain id
// ChainID, a terminal total difficulty never reached) with Byzantium at
// block byzantium and Constantinople (with Petersburg and every later
// block-numbered fork) at block constantinople.
func PoWConfig(byzantium, constantinople int64) *params.ChainConfig {
	cfg := *params.AllEthashProtocolChanges
	cfg.ChainID = new(big.Int).Set(ChainID)
	b, c := big.NewInt(byzantium), big.NewInt(constantinople)
	cfg.ByzantiumBlock = b
	cfg.ConstantinopleBlock, cfg.PetersburgBlock, cfg.IstanbulBlock, cfg.MuirGlacierBlock = c, c, c, c
	cfg.BerlinBlock, cfg.LondonBlock, cfg.ArrowGlacierBlock, cfg.GrayGlacierBlock = c, c, c, c
	return &cfg
}

// PoWGenesis is the genesis of StartPoW's chains.
func PoWGenesis(cfg *params.ChainConfig, alloc types.GenesisAlloc) *core.Genesis {
	return &core.Genesis{Config: cfg, Difficulty: big.NewInt(131072), GasLimit: 30_000_000,
		BaseFee: big.NewInt(params.InitialBaseFee), Alloc: alloc}
}

// GeneratePoW makes n proof-of-work blocks on genesis with go-ethereum's
// block generator and the engine a node of that genesis runs (beacon over
// ethash, fake seals): real state transitions, fees and block and uncle
// rewards. gen adds transactions and uncles to each block.
func GeneratePoW(genesis *core.Genesis, n int, gen func(int, *core.BlockGen)) []*types.Block {
	_, blocks, _ := core.GenerateChainWithGenesis(genesis, beacon.New(ethash.NewFaker()), n, gen)
	return blocks
}

// StartPoW boots a node like Start whose chain is genesis followed by
// blocks (from GeneratePoW), imported and validated by go-ethereum. The
// chain is pre-merge: its blocks pay block and uncle rewards, and the node
// answers eth_getUncleByBlockHashAndIndex. Commit, Fork and AddWithdrawal
// are not available on such a node.
func StartPoW(genesis *core.Genesis, blocks []*types.Block) (*Node, error) {
	nodeConf := loopbackConfig()
	ethConf := ethconfig.Defaults
	ethConf.Genesis = genesis
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.NoPruning = true // archive: every block can be traced
	ethConf.TxPool.NoLocals = true

	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	}
	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("new eth service: %w", err)
	}
	stack.RegisterAPIs(tracers.APIs(backend.APIBackend))
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("start node: %w", err)
	}
	if n, err := backend.BlockChain().InsertChain(blocks); err != nil {
		stack.Close()
		return nil, fmt.Errorf("import block %d: %w", n, err)
	}
	rc := stack.Attach()
	return &Node{URL: stack.HTTPEndpoint(), Client: ethclient.NewClient(rc), stack: stack, backend: backend, rpc: rc}, nil
}
