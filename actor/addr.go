package actor

import (
	"fmt"
	"strconv"
	"strings"
)

// Addr is a service address: stable for the service's whole life, never
// reused for another service, comparable, printable and small enough to
// travel inside messages (and as a Lua number: it stays below 2^53).
//
// The low 32 bits are the local handle; bits 32..47 name the node, so that
// an address can cross nodes later without changing its shape. Node 0 is
// the local, standalone node.
type Addr uint64

// None is the zero address. It names no service; messages from outside any
// service (Go code calling in) carry it as their sender.
const None Addr = 0

const (
	handleBits = 32
	nodeBits   = 16
	handleMask = 1<<handleBits - 1
	nodeMask   = 1<<nodeBits - 1
)

// MakeAddr builds the address of handle on node.
func MakeAddr(node uint16, handle uint32) Addr {
	return Addr(uint64(node)<<handleBits | uint64(handle))
}

// Node is the node part of a.
func (a Addr) Node() uint16 { return uint16(a >> handleBits & nodeMask) }

// Handle is the node-local part of a.
func (a Addr) Handle() uint32 { return uint32(a & handleMask) }

// PackInt lets an address travel as an integer argument (pack.Integer):
// a Lua service sees it as the number tern.self() returns.
func (a Addr) PackInt() int64 { return int64(a) }

// String formats a as skynet does, ":0000000a", with the node in front
// when it is not the local one: "3:0000000a".
func (a Addr) String() string {
	var b [24]byte
	return string(a.appendTo(b[:0]))
}

func (a Addr) appendTo(b []byte) []byte {
	if n := a.Node(); n != 0 {
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	b = append(b, ':')
	h := strconv.FormatUint(uint64(a.Handle()), 16)
	for i := len(h); i < 8; i++ {
		b = append(b, '0')
	}
	return append(b, h...)
}

// ParseAddr reads the form String writes.
func ParseAddr(s string) (Addr, error) {
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return None, fmt.Errorf("actor: bad address %q: want [node]:hex", s)
	}
	var node uint64
	if i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, nodeBits)
		if err != nil {
			return None, fmt.Errorf("actor: bad node in address %q", s)
		}
		node = n
	}
	h, err := strconv.ParseUint(s[i+1:], 16, handleBits)
	if err != nil || i+1 == len(s) {
		return None, fmt.Errorf("actor: bad handle in address %q", s)
	}
	return MakeAddr(uint16(node), uint32(h)), nil
}
