package ethsim

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
)

// Event topics of the conversion events the DEX and bridge tests emit.
var (
	V2SwapTopic      = crypto.Keccak256Hash([]byte("Swap(address,uint256,uint256,uint256,uint256,address)"))
	V3SwapTopic      = crypto.Keccak256Hash([]byte("Swap(address,address,int256,int256,uint160,uint128,int24)"))
	TCDepositTopic   = crypto.Keccak256Hash([]byte("Deposit(address,address,uint256,string)"))
	TCTransferOutTop = crypto.Keccak256Hash([]byte("TransferOut(address,address,address,uint256,string)"))
	WrapTopic        = crypto.Keccak256Hash([]byte("Deposit(address,uint256)"))
	UnwrapTopic      = crypto.Keccak256Hash([]byte("Withdrawal(address,uint256)"))
)

// WETHInit is the init code of a wrapped-native token with WETH9's
// interface and events: deposit() (also the empty-calldata fallback)
// credits the value sent and logs Deposit(caller, wad); withdraw(wad)
// debits, sends wad back to the caller and logs Withdrawal(caller, wad);
// transfer(to, amount) as TokenInit. Balances live in slot = holder.
//
//	PUSH1 0 CALLDATALOAD PUSH1 0xe0 SHR           [sel]
//	DUP1 PUSH4 d0e30db0 EQ PUSH2 deposit JUMPI    [sel]
//	DUP1 PUSH4 2e1a7d4d EQ PUSH2 withdraw JUMPI   [sel]
//	DUP1 PUSH4 a9059cbb EQ PUSH2 transfer JUMPI   [sel]
//	CALLDATASIZE ISZERO PUSH2 deposit JUMPI       [sel]     no calldata: deposit
//	PUSH2 revert JUMP
//	deposit: CALLER SLOAD CALLVALUE ADD CALLER SSTORE       balance[caller] += value
//	  CALLVALUE PUSH1 0 MSTORE CALLER PUSH32 Deposit PUSH1 32 PUSH1 0 LOG2 STOP
//	withdraw: CALLER SLOAD PUSH1 4 CALLDATALOAD   [sel bal wad]
//	  DUP1 DUP3 LT PUSH2 revert JUMPI             revert if bal < wad
//	  DUP1 DUP3 SUB CALLER SSTORE                 balance[caller] = bal − wad
//	  DUP1 PUSH1 0 MSTORE                         memory[0:32] = wad
//	  PUSH1 0 PUSH1 0 PUSH1 0 PUSH1 0 DUP5 CALLER GAS CALL   send wad to caller
//	  ISZERO PUSH2 revert JUMPI
//	  CALLER PUSH32 Withdrawal PUSH1 32 PUSH1 0 LOG2 STOP
//	transfer: as TokenInit's runtime
//	revert: JUMPDEST PUSH1 0 DUP1 REVERT
func WETHInit() []byte {
	a := newAsm()
	a.push(0).op(vm.CALLDATALOAD).push(0xe0).op(vm.SHR).
		op(vm.DUP1).push(0xd0, 0xe3, 0x0d, 0xb0).op(vm.EQ).pushLabel("deposit").op(vm.JUMPI).
		op(vm.DUP1).push(0x2e, 0x1a, 0x7d, 0x4d).op(vm.EQ).pushLabel("withdraw").op(vm.JUMPI).
		op(vm.DUP1).push(0xa9, 0x05, 0x9c, 0xbb).op(vm.EQ).pushLabel("transfer").op(vm.JUMPI).
		op(vm.CALLDATASIZE, vm.ISZERO).pushLabel("deposit").op(vm.JUMPI).
		pushLabel("revert").op(vm.JUMP)
	a.label("deposit").op(vm.CALLER, vm.SLOAD, vm.CALLVALUE, vm.ADD, vm.CALLER, vm.SSTORE).
		op(vm.CALLVALUE).push(0).op(vm.MSTORE).op(vm.CALLER).push(WrapTopic.Bytes()...).push(32).push(0).op(vm.LOG2, vm.STOP)
	a.label("withdraw").op(vm.CALLER, vm.SLOAD).push(4).op(vm.CALLDATALOAD).
		op(vm.DUP1, vm.DUP3, vm.LT).pushLabel("revert").op(vm.JUMPI).
		op(vm.DUP1, vm.DUP3, vm.SUB, vm.CALLER, vm.SSTORE).
		op(vm.DUP1).push(0).op(vm.MSTORE).
		push(0).push(0).push(0).push(0).op(vm.DUP5, vm.CALLER, vm.GAS, vm.CALL).
		op(vm.ISZERO).pushLabel("revert").op(vm.JUMPI).
		op(vm.CALLER).push(UnwrapTopic.Bytes()...).push(32).push(0).op(vm.LOG2, vm.STOP)
	a.label("transfer").transfer()
	a.label("revert").push(0).op(vm.DUP1, vm.REVERT)
	return deploy(nil, a.bytes())
}

// WETHDeposit and WETHWithdraw encode WETH9 calls.
func WETHDeposit() []byte { return []byte{0xd0, 0xe3, 0x0d, 0xb0} }

// WETHWithdraw encodes withdraw(wad).
func WETHWithdraw(wad *big.Int) []byte {
	return append([]byte{0x2e, 0x1a, 0x7d, 0x4d}, common.BigToHash(wad).Bytes()...)
}

// ScriptInit is the init code of a contract that runs the script in its
// calldata: a sequence of steps, each a call it makes (Call) or a log it
// emits (Log). Pools, pairs, routers and bridges of the tests are scripts:
// the transfers and events they produce are real, their pricing is the
// test's. Any step failing reverts the whole call. It accepts value.
//
// A call step is words 1, target, value, len, then len bytes of calldata
// padded to 32; a log step is words 2, n (1–4), n topics, len, then len
// bytes of data padded to 32. The interpreter keeps the step offset p on
// the stack:
//
//	PUSH1 0                                       [p]
//	loop: DUP1 CALLDATASIZE GT ISZERO PUSH2 end JUMPI     stop at the end
//	  DUP1 CALLDATALOAD                           [p kind]
//	  DUP1 PUSH1 1 EQ PUSH2 call JUMPI
//	  PUSH1 2 EQ PUSH2 log JUMPI PUSH2 revert JUMP
//	call: POP DUP1 PUSH1 96 ADD CALLDATALOAD      [p len]
//	  DUP1 DUP3 PUSH1 128 ADD PUSH1 0 CALLDATACOPY        memory[0:len] = calldata
//	  PUSH1 0 PUSH1 0 DUP3 PUSH1 0                [p len 0 0 len 0]
//	  DUP6 PUSH1 64 ADD CALLDATALOAD              [… value]
//	  DUP7 PUSH1 32 ADD CALLDATALOAD GAS CALL     [p len ok]
//	  ISZERO PUSH2 revert JUMPI                   [p len]
//	  PUSH1 31 ADD PUSH1 5 SHR PUSH1 5 SHL ADD PUSH1 128 ADD      p += 128 + pad32(len)
//	  PUSH2 loop JUMP
//	log: DUP1 PUSH1 32 ADD CALLDATALOAD           [p n]
//	  DUP1 PUSH1 5 SHL DUP3 ADD PUSH1 64 ADD      [p n lp]       lp = p + 64 + 32n
//	  DUP1 CALLDATALOAD                           [p n lp len]
//	  DUP1 DUP3 PUSH1 32 ADD PUSH1 0 CALLDATACOPY         memory[0:len] = data
//	  DUP3 PUSH1 k EQ PUSH2 logk JUMPI  (k = 1…4) PUSH2 revert JUMP
//	logk: for j = k−1 … 0: DUP(4+k−1−j) PUSH1 64+32j ADD CALLDATALOAD   topics
//	  DUP(k+1) PUSH1 0 LOGk                       [p n lp len]
//	next: PUSH1 31 ADD PUSH1 5 SHR PUSH1 5 SHL ADD PUSH1 32 ADD   [p n p']
//	  SWAP2 POP POP PUSH2 loop JUMP
//	end: STOP
//	revert: PUSH1 0 DUP1 REVERT
func ScriptInit() []byte {
	a := newAsm()
	a.push(0)
	a.label("loop").op(vm.DUP1, vm.CALLDATASIZE, vm.GT, vm.ISZERO).pushLabel("end").op(vm.JUMPI).
		op(vm.DUP1, vm.CALLDATALOAD).
		op(vm.DUP1).push(1).op(vm.EQ).pushLabel("call").op(vm.JUMPI).
		push(2).op(vm.EQ).pushLabel("log").op(vm.JUMPI).pushLabel("revert").op(vm.JUMP)
	a.label("call").op(vm.POP, vm.DUP1).push(96).op(vm.ADD, vm.CALLDATALOAD).
		op(vm.DUP1, vm.DUP3).push(128).op(vm.ADD).push(0).op(vm.CALLDATACOPY).
		push(0).push(0).op(vm.DUP3).push(0).
		op(vm.DUP6).push(64).op(vm.ADD, vm.CALLDATALOAD).
		op(vm.DUP7).push(32).op(vm.ADD, vm.CALLDATALOAD, vm.GAS, vm.CALL).
		op(vm.ISZERO).pushLabel("revert").op(vm.JUMPI).
		push(31).op(vm.ADD).push(5).op(vm.SHR).push(5).op(vm.SHL, vm.ADD).push(128).op(vm.ADD).
		pushLabel("loop").op(vm.JUMP)
	a.label("log").op(vm.DUP1).push(32).op(vm.ADD, vm.CALLDATALOAD).
		op(vm.DUP1).push(5).op(vm.SHL, vm.DUP3, vm.ADD).push(64).op(vm.ADD).
		op(vm.DUP1, vm.CALLDATALOAD).
		op(vm.DUP1, vm.DUP3).push(32).op(vm.ADD).push(0).op(vm.CALLDATACOPY)
	names := []string{"", "log1", "log2", "log3", "log4"}
	for k := 1; k <= 4; k++ {
		a.op(vm.DUP3).push(byte(k)).op(vm.EQ).pushLabel(names[k]).op(vm.JUMPI)
	}
	a.pushLabel("revert").op(vm.JUMP)
	for k := 1; k <= 4; k++ {
		a.label(names[k])
		for idx := 0; idx < k; idx++ {
			j := k - 1 - idx
			a.op(vm.DUP4+vm.OpCode(idx)).push(byte(64+32*j)).op(vm.ADD, vm.CALLDATALOAD)
		}
		a.op(vm.DUP1 + vm.OpCode(k)).push(0).op(vm.LOG0 + vm.OpCode(k)).pushLabel("next").op(vm.JUMP)
	}
	a.label("next").push(31).op(vm.ADD).push(5).op(vm.SHR).push(5).op(vm.SHL, vm.ADD).push(32).op(vm.ADD).
		op(vm.SWAP2, vm.POP, vm.POP).pushLabel("loop").op(vm.JUMP)
	a.label("end").op(vm.STOP)
	a.label("revert").push(0).op(vm.DUP1, vm.REVERT)
	return deploy(nil, a.bytes())
}

func word(v *big.Int) []byte { return common.BigToHash(v).Bytes() }

func padded(b []byte) []byte {
	out := append([]byte(nil), b...)
	for len(out)%32 != 0 {
		out = append(out, 0)
	}
	return out
}

// Call is a script step calling target with value and calldata.
func Call(target common.Address, value *big.Int, data []byte) []byte {
	if value == nil {
		value = new(big.Int)
	}
	s := append(word(big.NewInt(1)), common.LeftPadBytes(target.Bytes(), 32)...)
	s = append(s, word(value)...)
	s = append(s, word(big.NewInt(int64(len(data))))...)
	return append(s, padded(data)...)
}

// Log is a script step emitting a log with 1–4 topics.
func Log(topics []common.Hash, data []byte) []byte {
	s := append(word(big.NewInt(2)), word(big.NewInt(int64(len(topics))))...)
	for _, t := range topics {
		s = append(s, t.Bytes()...)
	}
	s = append(s, word(big.NewInt(int64(len(data))))...)
	return append(s, padded(data)...)
}

// Script concatenates steps into a script's calldata.
func Script(steps ...[]byte) []byte {
	var s []byte
	for _, st := range steps {
		s = append(s, st...)
	}
	return s
}

// AddrTopic is an address as an indexed event argument.
func AddrTopic(a common.Address) common.Hash { return common.BytesToHash(a.Bytes()) }

// Words ABI-encodes integers (negative ones as int256 two's complement).
func Words(vs ...*big.Int) []byte {
	var out []byte
	mod := new(big.Int).Lsh(big.NewInt(1), 256)
	for _, v := range vs {
		if v.Sign() < 0 {
			v = new(big.Int).Add(mod, v)
		}
		out = append(out, word(v)...)
	}
	return out
}

// ABIString appends an ABI string tail to head words: head, offset word
// pointing past the head, length, bytes.
func ABIString(head []byte, s string) []byte {
	off := big.NewInt(int64(len(head) + 32))
	out := append(append([]byte(nil), head...), word(off)...)
	out = append(out, word(big.NewInt(int64(len(s))))...)
	return append(out, padded([]byte(s))...)
}

// AddrWord is an address as an ABI word.
func AddrWord(a common.Address) []byte { return common.LeftPadBytes(a.Bytes(), 32) }
