// Package names is the name service: names for services, looked up by
// call and send, and services declared by name that start on first use.
package names

import (
	"errors"
	"sort"
	"strings"
	"sync"

	"github.com/tern-dev/tern/actor"
)

// Errors a caller can test with errors.Is.
var (
	// ErrNoName: nothing is registered or declared under the name.
	ErrNoName = errors.New("names: no such service")
	// ErrTaken: another live service holds the name.
	ErrTaken = errors.New("names: name taken")
	// ErrBadName: the name is empty or looks like an address.
	ErrBadName = errors.New("names: bad name")
	// ErrNoNode: the node of "name@node" is not in the cluster.
	ErrNoNode = errors.New("names: no such node")
)

// Table maps names to addresses. The name service owns every change; any
// goroutine may read it, so a call by name costs a read lock, not a round
// trip to the name service.
//
// Besides this node's names it holds, apart, what the cluster told it
// (cluster.go): names other nodes registered with {cluster = true}, and
// the answers to "name@node" lookups. A local name hides a cluster one.
type Table struct {
	mu     sync.RWMutex
	m      map[string]entry
	remote map[string]actor.Addr // "name" (a cluster name) or "name@node"
	seq    uint64
}

type entry struct {
	addr actor.Addr
	seq  uint64 // registration order
}

// Named is a registered name, as Table.Named lists it.
type Named struct {
	Name string
	Addr actor.Addr
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{m: make(map[string]entry), remote: make(map[string]actor.Addr)}
}

// Lookup returns the address registered under name on this node, or else
// the one the cluster knows for it: a name another node registered with
// {cluster = true}, or a "name@node" already resolved.
func (t *Table) Lookup(name string) (actor.Addr, bool) {
	t.mu.RLock()
	e, ok := t.m[name]
	if !ok {
		e.addr, ok = t.remote[name]
	}
	t.mu.RUnlock()
	return e.addr, ok
}

// Direct is Lookup for a sender about to post to the address directly:
// it never returns the address of a "name@node". Messages to one go
// through the name service, which forwards them in the order each sender
// sent them (a sender that switched to the address as soon as it is
// known could overtake its own messages still queued in the name
// service).
func (t *Table) Direct(name string) (actor.Addr, bool) {
	if strings.ContainsRune(name, '@') {
		return actor.None, false
	}
	return t.Lookup(name)
}

// Local returns the address registered under name on this node.
func (t *Table) Local(name string) (actor.Addr, bool) { return t.local(name) }

// local returns the address registered under name on this node.
func (t *Table) local(name string) (actor.Addr, bool) {
	t.mu.RLock()
	e, ok := t.m[name]
	t.mu.RUnlock()
	return e.addr, ok
}

// setRemote records what the cluster knows for key.
func (t *Table) setRemote(key string, a actor.Addr) {
	t.mu.Lock()
	t.remote[key] = a
	t.mu.Unlock()
}

// dropRemote forgets the cluster's entries for which drop is true.
func (t *Table) dropRemote(drop func(key string, a actor.Addr) bool) {
	t.mu.Lock()
	for k, a := range t.remote {
		if drop(k, a) {
			delete(t.remote, k)
		}
	}
	t.mu.Unlock()
}

// Named lists the registered names, the most recently registered first:
// the order in which the root shuts them down.
func (t *Table) Named() []Named {
	t.mu.RLock()
	es := make([]struct {
		Named
		seq uint64
	}, 0, len(t.m))
	for name, e := range t.m {
		es = append(es, struct {
			Named
			seq uint64
		}{Named{name, e.addr}, e.seq})
	}
	t.mu.RUnlock()
	sort.Slice(es, func(i, j int) bool { return es[i].seq > es[j].seq })
	out := make([]Named, len(es))
	for i, e := range es {
		out[i] = e.Named
	}
	return out
}

// NameOf returns a name registered for a, if any.
func (t *Table) NameOf(a actor.Addr) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for name, e := range t.m {
		if e.addr == a {
			return name, true
		}
	}
	return "", false
}

func (t *Table) set(name string, a actor.Addr) {
	t.mu.Lock()
	t.seq++
	t.m[name] = entry{addr: a, seq: t.seq}
	t.mu.Unlock()
}

// removeAddr drops every name of a and returns them.
func (t *Table) removeAddr(a actor.Addr) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var gone []string
	for name, e := range t.m {
		if e.addr == a {
			delete(t.m, name)
			gone = append(gone, name)
		}
	}
	return gone
}

// ValidName reports whether s can be a service name to look up: not
// empty, and without ':', which marks an address (":0000000a"). It may be
// "name@node", a service on another node of the cluster.
func ValidName(s string) bool {
	return s != "" && !strings.ContainsRune(s, ':')
}

// LocalName reports whether s can be registered or declared on this
// node: a valid name without '@', which names a node.
func LocalName(s string) bool {
	return ValidName(s) && !strings.ContainsRune(s, '@')
}

// Split splits "db@node2" into "db" and "node2"; a bare name has node "".
func Split(name string) (base, node string) {
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return name, ""
}
