package listeners

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
)

// A supervisor holds the listeners its workers open, so that they outlive
// a crashed worker: Adopt registers a socket a worker handed over, and
// Keep drops those a ready worker no longer uses. Files then hands the
// held ones to the next worker.

// Adopt registers the listening socket f (named as TERN_LISTEN_FDS names
// it: "tcp:ADDR") for owner, unless a listener of that name is registered
// already (a worker hands back what it inherited): then it reports false.
// f is closed either way.
func Adopt(f *os.File, name, owner string) (added bool, err error) {
	defer f.Close()
	if network, _, ok := strings.Cut(name, ":"); !ok || network != "tcp" {
		return false, fmt.Errorf("listeners: adopt %q: not tcp:ADDR", name)
	}
	mu.Lock()
	for l := range open {
		if l.Name() == name {
			mu.Unlock()
			return false, nil
		}
	}
	mu.Unlock()
	ln, err := net.FileListener(f) // a duplicate, close-on-exec
	if err != nil {
		return false, fmt.Errorf("listeners: adopt %s: %w", name, err)
	}
	l := &Listener{Listener: ln, owner: owner}
	mu.Lock()
	defer mu.Unlock()
	for o := range open { // one adopted meanwhile
		if o.Name() == name {
			ln.Close()
			return false, nil
		}
	}
	open[l] = struct{}{}
	return true, nil
}

// Names lists the registered listeners' names ("tcp:ADDR"), sorted.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	out := make([]string, 0, len(open))
	for l := range open {
		out = append(out, l.Name())
	}
	sort.Strings(out)
	return out
}

// Keep closes every registered listener whose name is not in names, and
// returns the names it closed.
func Keep(names []string) (closed []string) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	mu.Lock()
	var drop []*Listener
	for l := range open {
		if !want[l.Name()] {
			drop = append(drop, l)
		}
	}
	mu.Unlock()
	for _, l := range drop {
		closed = append(closed, l.Name())
		l.Close()
	}
	sort.Strings(closed)
	return closed
}
