//go:build !linux

package store

func adviseHuge([]addrSlot) {}
