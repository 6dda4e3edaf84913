package lua

import (
	"strings"

	"github.com/tern-dev/tern/names"
	glua "github.com/yuin/gopher-lua"
)

// The cluster, as a script sees it. Most of it needs no API of its own:
// an address of another node is a number like any other (48 bits, exact
// in a Lua number), and "name@node" is a name, which the name service
// resolves on that node (names/cluster.go). This file has the rest:
//
//	tern.nodes() -> { {name=, node=, address=, self=, up=, sent=, received=, dropped=, failed=}, ... }

// checkNode fails a "name@node" whose node cannot be reached: this
// runtime is in no cluster, or the cluster knows no such node. A bare
// name passes.
func (r *Runtime) checkNode(name string) error {
	if !strings.ContainsRune(name, '@') {
		return nil
	}
	_, _, err := names.Node(r.sys, name)
	return err
}

// nodes() lists the cluster's nodes, this one first; {} when the runtime
// is in no cluster. node is the node's number (the part of its services'
// addresses above the 32 bits of the handle).
func lNodes(s *Service, L *glua.LState) int {
	ns := s.rt.sys.Nodes()
	t := L.CreateTable(len(ns), 0)
	for _, n := range ns {
		e := L.CreateTable(0, 9)
		e.RawSetString("name", glua.LString(n.Name))
		e.RawSetString("node", glua.LNumber(n.Number))
		e.RawSetString("address", glua.LString(n.Address))
		e.RawSetString("self", glua.LBool(n.Self))
		e.RawSetString("up", glua.LBool(n.Up))
		e.RawSetString("sent", glua.LNumber(n.Sent))
		e.RawSetString("received", glua.LNumber(n.Received))
		e.RawSetString("dropped", glua.LNumber(n.Dropped))
		e.RawSetString("failed", glua.LNumber(n.Failed))
		t.Append(e)
	}
	L.Push(t)
	return 1
}
