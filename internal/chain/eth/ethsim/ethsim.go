// Package ethsim runs a real go-ethereum node in-process, with its JSON-RPC
// served over HTTP on a loopback port, so that tests and benchmarks can
// ingest real blocks, receipts and callTracer traces through the network
// path a production node would use. Blocks are sealed on demand (Commit) by
// go-ethereum's simulated beacon; withdrawals can be queued for them.
package ethsim

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"maps"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/eth/tracers"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"

	_ "github.com/ethereum/go-ethereum/eth/tracers/native" // registers callTracer
)

// ChainID is the chain id of every simulated node.
var ChainID = big.NewInt(1337)

// Node is a running in-process go-ethereum node.
type Node struct {
	URL      string // JSON-RPC over HTTP, on 127.0.0.1
	Client   *ethclient.Client
	Coinbase common.Address // fee recipient of every block
	stack    *node.Node
	backend  *eth.Ethereum
	beacon   *catalyst.SimulatedBeacon
	rpc      *rpc.Client
}

// loopbackConfig is the node configuration of every simulated node: in
// memory, no peers, JSON-RPC over HTTP only, on a free loopback port.
func loopbackConfig() node.Config {
	c := node.DefaultConfig
	c.DataDir = ""
	c.P2P = p2p.Config{NoDiscovery: true, MaxPeers: 0, ListenAddr: ""}
	c.HTTPHost = "127.0.0.1"
	c.HTTPPort = 0 // any free port
	c.HTTPModules = []string{"eth", "debug", "net", "web3"}
	c.HTTPVirtualHosts = []string{"*"}
	c.IPCPath = ""
	c.WSHost = ""
	return c
}

// Start boots a node whose genesis gives alloc, with every fork up to the
// latest active, and coinbase as the fee recipient.
func Start(alloc types.GenesisAlloc, coinbase common.Address) (*Node, error) {
	nodeConf := loopbackConfig()
	genesisAlloc := core.SystemContractAllocs()
	maps.Copy(genesisAlloc, alloc)
	ethConf := ethconfig.Defaults
	ethConf.Genesis = &core.Genesis{
		Config:   params.AllDevChainProtocolChanges,
		GasLimit: ethconfig.Defaults.Miner.GasCeil,
		Alloc:    genesisAlloc,
	}
	ethConf.SyncMode = ethconfig.FullSync
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
	fs := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(fs)}})
	stack.RegisterAPIs(tracers.APIs(backend.APIBackend))
	// A non-zero period keeps the beacon's API from sealing a block for
	// every new transaction; the beacon is never started, so blocks are
	// sealed only by Commit.
	beacon, err := catalyst.NewSimulatedBeacon(1, coinbase, backend)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("new simulated beacon: %w", err)
	}
	catalyst.RegisterSimulatedBeaconAPIs(stack, beacon)
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("start node: %w", err)
	}
	if err := beacon.Fork(backend.BlockChain().GetCanonicalHash(0)); err != nil {
		stack.Close()
		return nil, fmt.Errorf("fork to genesis: %w", err)
	}
	rc := stack.Attach()
	return &Node{
		URL:      stack.HTTPEndpoint(),
		Client:   ethclient.NewClient(rc),
		Coinbase: coinbase,
		stack:    stack,
		backend:  backend,
		beacon:   beacon,
		rpc:      rc,
	}, nil
}

// Commit seals a block with the pending transactions and queued
// withdrawals and returns its hash.
func (n *Node) Commit() common.Hash {
	_ = n.backend.TxPool().Sync()
	return n.beacon.Commit()
}

// Fork makes the block with the given hash the head, abandoning the blocks
// above it; the next Commit builds a competing branch (a reorganization).
// Transactions of the abandoned blocks are dropped from the pool rather than
// replayed, so the new branch holds only what is sent next.
func (n *Node) Fork(parent common.Hash) error {
	if err := n.beacon.Fork(parent); err != nil {
		return err
	}
	_ = n.backend.TxPool().Sync()
	n.beacon.Rollback()
	return nil
}

// AddWithdrawal queues a withdrawal (amount in Gwei) for the next block.
func (n *Node) AddWithdrawal(ctx context.Context, w types.Withdrawal) error {
	return n.rpc.CallContext(ctx, nil, "dev_addWithdrawal", &w)
}

// Close stops the node.
func (n *Node) Close() error {
	n.Client.Close()
	if n.beacon == nil { // a proof-of-work node (StartPoW)
		return n.stack.Close()
	}
	return errors.Join(n.beacon.Stop(), n.stack.Close())
}

// Account is a funded key.
type Account struct {
	Key  *ecdsa.PrivateKey
	Addr common.Address
}

// NewAccount derives an account from a seed (deterministic for tests).
func NewAccount(seed byte) Account {
	b := make([]byte, 32)
	b[31] = seed
	b[0] = 0x5e
	k, err := crypto.ToECDSA(b)
	if err != nil {
		panic(err)
	}
	return Account{Key: k, Addr: crypto.PubkeyToAddress(k.PublicKey)}
}

// Send signs and submits a dynamic-fee transaction from a with a fixed gas
// limit (so transactions meant to revert are not refused by estimation).
// It returns the transaction hash. to == nil creates a contract.
func (n *Node) Send(ctx context.Context, a Account, nonce uint64, to *common.Address, value *big.Int, gas uint64, data []byte) (common.Hash, error) {
	head, err := n.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return common.Hash{}, fmt.Errorf("read head: %w", err)
	}
	tip := big.NewInt(params.GWei)
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: ChainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap,
		Gas: gas, To: to, Value: value, Data: data})
	signed, err := types.SignTx(tx, types.LatestSignerForChainID(ChainID), a.Key)
	if err != nil {
		return common.Hash{}, fmt.Errorf("sign: %w", err)
	}
	if err := n.Client.SendTransaction(ctx, signed); err != nil {
		return common.Hash{}, fmt.Errorf("send: %w", err)
	}
	return signed.Hash(), nil
}
