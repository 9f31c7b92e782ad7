package ethsim

import (
	"encoding/binary"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
)

// There is no Solidity compiler here, so the test contracts are written in
// EVM assembly with the tiny assembler below. Each program lists its opcode
// sequence with the stack after each step ([bottom … top]).

// TransferTopic is keccak256("Transfer(address,address,uint256)").
var TransferTopic = common.HexToHash("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")

// asm assembles EVM bytecode with forward-referenced labels.
type asm struct {
	code   []byte
	labels map[string]int
	fixups map[int]string // offset of a PUSH2 operand → label
}

func newAsm() *asm { return &asm{labels: map[string]int{}, fixups: map[int]string{}} }

func (a *asm) op(ops ...vm.OpCode) *asm {
	for _, o := range ops {
		a.code = append(a.code, byte(o))
	}
	return a
}

// push emits the shortest PUSHn for b (1–32 bytes).
func (a *asm) push(b ...byte) *asm {
	if len(b) == 0 || len(b) > 32 {
		panic("push: 1 to 32 bytes")
	}
	a.code = append(a.code, byte(vm.PUSH1)+byte(len(b)-1))
	a.code = append(a.code, b...)
	return a
}

func (a *asm) pushLabel(name string) *asm {
	a.code = append(a.code, byte(vm.PUSH2), 0, 0)
	a.fixups[len(a.code)-2] = name
	return a
}

func (a *asm) label(name string) *asm {
	a.labels[name] = len(a.code)
	return a.op(vm.JUMPDEST)
}

func (a *asm) bytes() []byte {
	for at, name := range a.fixups {
		pos, ok := a.labels[name]
		if !ok {
			panic("undefined label " + name)
		}
		binary.BigEndian.PutUint16(a.code[at:], uint16(pos))
	}
	return a.code
}

// deploy wraps runtime code in init code: prefix runs first (the
// constructor body), then the runtime is copied to memory and returned:
//
//	PUSH2 len        [len]
//	DUP1             [len len]
//	PUSH2 offset     [len len offset]
//	PUSH1 0          [len len offset 0]
//	CODECOPY         [len]            memory[0:len] = code[offset:offset+len]
//	PUSH1 0          [len 0]
//	RETURN           []               return memory[0:len]
func deploy(prefix []byte, runtime []byte) []byte {
	const tail = 13 // bytes of the copy-and-return sequence
	off := len(prefix) + tail
	a := newAsm()
	a.code = append(a.code, prefix...)
	a.push(byte(len(runtime)>>8), byte(len(runtime))).op(vm.DUP1).
		push(byte(off>>8), byte(off)).push(0).op(vm.CODECOPY).push(0).op(vm.RETURN)
	if len(a.code) != off {
		panic("deploy: tail length")
	}
	return append(a.code, runtime...)
}

// TokenInit is the init code of a minimal ERC-20 token: the constructor
// credits supply to the deployer and logs Transfer(0x0, deployer, supply);
// the runtime has only transfer(address,uint256) (selector 0xa9059cbb).
// Balances live in storage slot = holder address.
//
// Constructor:
//
//	PUSH32 supply    [s]
//	DUP1             [s s]
//	CALLER SSTORE    [s]              balance[caller] = s
//	PUSH1 0 MSTORE   []               memory[0:32] = s
//	CALLER           [caller]         topic2: to
//	PUSH1 0          [caller 0]       topic1: from = 0x0
//	PUSH32 Transfer  [caller 0 T]     topic0
//	PUSH1 32 PUSH1 0 [… T 32 0]
//	LOG3             []               Transfer(0, caller, s)
//
// Runtime:
//
//	PUSH1 0 CALLDATALOAD PUSH1 0xe0 SHR   [sel]
//	PUSH4 a9059cbb EQ ISZERO              [sel≠transfer]
//	PUSH2 revert JUMPI                    []
//	CALLER SLOAD                          [bal]
//	PUSH1 0x24 CALLDATALOAD               [bal amt]
//	DUP1 DUP3 LT PUSH2 revert JUMPI       [bal amt]        revert if bal < amt
//	DUP1 DUP3 SUB CALLER SSTORE           [bal amt]        balance[caller] = bal − amt
//	PUSH1 4 CALLDATALOAD                  [bal amt to]
//	DUP1 SLOAD DUP3 ADD                   [bal amt to to_bal+amt]
//	SWAP1 SSTORE                          [bal amt]        balance[to] += amt
//	DUP1 PUSH1 0 MSTORE                   [bal amt]        memory[0:32] = amt
//	PUSH1 4 CALLDATALOAD CALLER           [bal amt to caller]
//	PUSH32 Transfer PUSH1 32 PUSH1 0 LOG3 [bal amt]        Transfer(caller, to, amt)
//	PUSH1 1 PUSH1 0 MSTORE                                 return true
//	PUSH1 32 PUSH1 0 RETURN
//	revert: JUMPDEST PUSH1 0 DUP1 REVERT
func TokenInit(supply *big.Int) []byte {
	ctor := newAsm()
	ctor.push(common.BigToHash(supply).Bytes()...).op(vm.DUP1, vm.CALLER, vm.SSTORE).push(0).op(vm.MSTORE).
		op(vm.CALLER).push(0).push(TransferTopic.Bytes()...).push(32).push(0).op(vm.LOG3)
	rt := newAsm()
	rt.push(0).op(vm.CALLDATALOAD).push(0xe0).op(vm.SHR).
		push(0xa9, 0x05, 0x9c, 0xbb).op(vm.EQ, vm.ISZERO).pushLabel("revert").op(vm.JUMPI).
		transfer().
		label("revert").push(0).op(vm.DUP1, vm.REVERT)
	return deploy(ctor.bytes(), rt.bytes())
}

// transfer emits the body of transfer(to, amount) from "CALLER SLOAD" to
// the RETURN in TokenInit's runtime listing; it jumps to label "revert"
// when the caller's balance is short. WETHInit shares it.
func (a *asm) transfer() *asm {
	return a.op(vm.CALLER, vm.SLOAD).
		push(0x24).op(vm.CALLDATALOAD).
		op(vm.DUP1, vm.DUP3, vm.LT).pushLabel("revert").op(vm.JUMPI).
		op(vm.DUP1, vm.DUP3, vm.SUB, vm.CALLER, vm.SSTORE).
		push(4).op(vm.CALLDATALOAD).
		op(vm.DUP1, vm.SLOAD, vm.DUP3, vm.ADD, vm.SWAP1, vm.SSTORE).
		op(vm.DUP1).push(0).op(vm.MSTORE).
		push(4).op(vm.CALLDATALOAD, vm.CALLER).push(TransferTopic.Bytes()...).push(32).push(0).op(vm.LOG3).
		push(1).push(0).op(vm.MSTORE).push(32).push(0).op(vm.RETURN)
}

// TokenTransfer encodes transfer(to, amount).
func TokenTransfer(to common.Address, amount *big.Int) []byte {
	data := []byte{0xa9, 0x05, 0x9c, 0xbb}
	data = append(data, common.LeftPadBytes(to.Bytes(), 32)...)
	return append(data, common.BigToHash(amount).Bytes()...)
}

// Forwarder modes (second calldata word).
const (
	ModeIgnore  = 0 // forward; ignore the inner call's failure
	ModeRequire = 1 // forward; revert if the inner call failed
	ModeRevert  = 2 // forward, then revert regardless
)

// ForwarderInit is the init code of a contract that forwards the value it
// receives. Calldata: word 0 the target address, word 1 the mode, then the
// payload passed to the target.
//
//	PUSH1 64 CALLDATASIZE SUB             [len]            payload length
//	DUP1 PUSH1 64 PUSH1 0 CALLDATACOPY    [len]            memory[0:len] = payload
//	PUSH1 0 PUSH1 0                       [len 0 0]        retSize, retOffset
//	DUP3 PUSH1 0                          [len 0 0 len 0]  argsSize, argsOffset
//	CALLVALUE                             [… value]
//	PUSH1 0 CALLDATALOAD                  [… value target]
//	GAS CALL                              [len ok]         CALL(gas, target, value, 0, len, 0, 0)
//	PUSH1 32 CALLDATALOAD                 [len ok mode]
//	DUP1 PUSH1 2 EQ PUSH2 revert JUMPI    [len ok mode]    mode 2: revert
//	PUSH1 1 EQ SWAP1 ISZERO AND           [len (mode==1 ∧ ¬ok)]
//	PUSH2 revert JUMPI STOP               []               mode 1 and failed: revert
//	revert: JUMPDEST PUSH1 0 DUP1 REVERT
func ForwarderInit() []byte {
	rt := newAsm()
	rt.push(64).op(vm.CALLDATASIZE, vm.SUB).
		op(vm.DUP1).push(64).push(0).op(vm.CALLDATACOPY).
		push(0).push(0).op(vm.DUP3).push(0).
		op(vm.CALLVALUE).push(0).op(vm.CALLDATALOAD).op(vm.GAS, vm.CALL).
		push(32).op(vm.CALLDATALOAD).
		op(vm.DUP1).push(2).op(vm.EQ).pushLabel("revert").op(vm.JUMPI).
		push(1).op(vm.EQ, vm.SWAP1, vm.ISZERO, vm.AND).pushLabel("revert").op(vm.JUMPI).op(vm.STOP).
		label("revert").push(0).op(vm.DUP1, vm.REVERT)
	return deploy(nil, rt.bytes())
}

// Forward encodes a Forwarder call.
func Forward(target common.Address, mode byte, payload []byte) []byte {
	data := common.LeftPadBytes(target.Bytes(), 32)
	data = append(data, common.LeftPadBytes([]byte{mode}, 32)...)
	return append(data, payload...)
}

// ReverterInit is the init code of a contract that always reverts:
//
//	PUSH1 0 DUP1 REVERT
func ReverterInit() []byte {
	return deploy(nil, newAsm().push(0).op(vm.DUP1, vm.REVERT).bytes())
}

// NFTEmitterInit is the init code of a contract that logs an ERC-721-shaped
// Transfer(caller, caller, tokenId 1): four topics, no data.
//
//	PUSH1 1 CALLER CALLER                 [1 caller caller]  topics 3, 2, 1
//	PUSH32 Transfer PUSH1 0 PUSH1 0 LOG4  []                 topic 0, size 0, offset 0
//	STOP
func NFTEmitterInit() []byte {
	rt := newAsm()
	rt.push(1).op(vm.CALLER, vm.CALLER).push(TransferTopic.Bytes()...).push(0).push(0).op(vm.LOG4, vm.STOP)
	return deploy(nil, rt.bytes())
}

// FactoryInit is the init code of a contract that creates an empty contract
// endowed with the value it receives:
//
//	PUSH1 0 PUSH1 0 CALLVALUE CREATE      [addr]   CREATE(value, offset 0, size 0)
//	POP STOP
func FactoryInit() []byte {
	return deploy(nil, newAsm().push(0).push(0).op(vm.CALLVALUE, vm.CREATE, vm.POP, vm.STOP).bytes())
}

// DestructorInit is the init code of a contract that self-destructs to the
// address in calldata word 0, sending its whole balance there:
//
//	PUSH1 0 CALLDATALOAD SELFDESTRUCT
func DestructorInit() []byte {
	return deploy(nil, newAsm().push(0).op(vm.CALLDATALOAD, vm.SELFDESTRUCT).bytes())
}
