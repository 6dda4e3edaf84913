// Package listeners is the process's one registry of open listening
// sockets. Every listener tern opens for clients (the gates') goes
// through Listen, so that the process knows them all: a graceful restart
// hands exactly these to the new binary.
package listeners

import (
	"fmt"
	"net"
	"sort"
	"sync"
)

// Listener is a registered listener: closing it takes it out of the
// registry.
type Listener struct {
	net.Listener
	owner string
	once  sync.Once
}

// Close closes the socket and forgets it.
func (l *Listener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() {
		mu.Lock()
		delete(open, l)
		mu.Unlock()
	})
	return err
}

// Owner is who opened the listener (a gate's name and address), for logs.
func (l *Listener) Owner() string { return l.owner }

var (
	mu   sync.Mutex
	open = map[*Listener]struct{}{}
)

// Listen opens a TCP listener on addr for owner, and registers it.
func Listen(addr, owner string) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	l := &Listener{Listener: ln, owner: owner}
	mu.Lock()
	open[l] = struct{}{}
	mu.Unlock()
	return l, nil
}

// Open lists the addresses of the registered listeners, sorted.
func Open() []string {
	mu.Lock()
	defer mu.Unlock()
	out := make([]string, 0, len(open))
	for l := range open {
		out = append(out, l.Addr().String())
	}
	sort.Strings(out)
	return out
}
