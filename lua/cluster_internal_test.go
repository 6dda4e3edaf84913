package lua

import (
	"testing"

	"github.com/tern-dev/tern/actor"
	glua "github.com/yuin/gopher-lua"
)

// An address of another node is a Lua number like a local one: 16 bits of
// node above 32 of handle stay below 2^53, so it survives the trip
// through a float64 exactly, to the last node and handle.
func TestNodeAddressesStayExact(t *testing.T) {
	for _, a := range []actor.Addr{
		actor.MakeAddr(1, 1), actor.MakeAddr(15063, 5), actor.MakeAddr(65535, 0xffffffff),
		actor.MakeAddr(0x8000, 0x80000001), actor.MakeAddr(65534, 3),
	} {
		n := glua.LNumber(a)
		got, bad := numAddr(float64(n))
		if bad != "" || got != a || got.Node() != a.Node() || got.Handle() != a.Handle() {
			t.Errorf("%s (%d) came back as %s%s", a, uint64(a), got, bad)
		}
	}
}
