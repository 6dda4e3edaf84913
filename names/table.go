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
)

// Table maps names to addresses. The name service owns every change; any
// goroutine may read it, so a call by name costs a read lock, not a round
// trip to the name service.
type Table struct {
	mu  sync.RWMutex
	m   map[string]entry
	seq uint64
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
func NewTable() *Table { return &Table{m: make(map[string]entry)} }

// Lookup returns the address registered under name.
func (t *Table) Lookup(name string) (actor.Addr, bool) {
	t.mu.RLock()
	e, ok := t.m[name]
	t.mu.RUnlock()
	return e.addr, ok
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

// ValidName reports whether s can be a service name: not empty, and
// without ':', which marks an address (":0000000a").
func ValidName(s string) bool {
	return s != "" && !strings.ContainsRune(s, ':')
}
