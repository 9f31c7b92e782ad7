package store

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks the kernel to back a large table with huge pages where
// it allows them on request: random probes into a table of many megabytes
// then miss the TLB far less often.
func adviseHuge(slots []addrSlot) {
	if len(slots) == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&slots[0])), len(slots)*int(unsafe.Sizeof(slots[0])))
	if len(b) < 4<<20 {
		return
	}
	_ = syscall.Madvise(b, 14) // MADV_HUGEPAGE; an error only means no huge pages
}
