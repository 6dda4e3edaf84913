// Package listeners is the process's one registry of open listening
// sockets. Every listener tern opens (the gates', the admin API's, the
// debug console's) goes through Listen, so that the process knows them
// all: a graceful restart hands exactly these to the new binary.
//
// A process started by a graceful restart (or by a supervisor that holds
// the sockets) inherits listening sockets: the environment variable
// TERN_LISTEN_FDS names them, "3=tcp:127.0.0.1:8888,4=tcp:127.0.0.1:8700"
// (descriptor = network:address). Listen then takes the inherited socket
// of the address asked for instead of binding it again. An address with
// port 0 never matches an inherited socket: each process gets a new port.
package listeners

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// EnvFDs is the environment variable naming the inherited listeners.
const EnvFDs = "TERN_LISTEN_FDS"

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

// Name is the listener as TERN_LISTEN_FDS names it: "tcp:127.0.0.1:8888".
func (l *Listener) Name() string { return l.Addr().Network() + ":" + l.Addr().String() }

// File duplicates the socket (the caller closes the copy; the listener
// goes on listening).
func (l *Listener) File() (*os.File, error) {
	fl, ok := l.Listener.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, fmt.Errorf("listeners: %s (%s) cannot be handed over: a %T", l.Addr(), l.owner, l.Listener)
	}
	f, err := fl.File()
	if err != nil {
		return nil, fmt.Errorf("listeners: %s (%s): %w", l.Addr(), l.owner, err)
	}
	return f, nil
}

var (
	mu        sync.Mutex
	open      = map[*Listener]struct{}{}
	inherited []net.Listener // not claimed yet
	inheritOK bool           // TERN_LISTEN_FDS was read
	inheritEr error
	onListen  func(*Listener) // see OnListen
)

// OnListen sets what Listen calls with each listener it registers (a
// supervised worker hands it to its supervisor), before Listen returns.
func OnListen(f func(*Listener)) {
	mu.Lock()
	onListen = f
	mu.Unlock()
}

// Listen opens a TCP listener on addr for owner, and registers it: an
// inherited listening socket for addr if there is one, or a new one.
func Listen(addr, owner string) (*Listener, error) {
	if _, err := Inherit(); err != nil {
		return nil, err
	}
	ln := claim(addr)
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
	}
	l := &Listener{Listener: ln, owner: owner}
	mu.Lock()
	open[l] = struct{}{}
	hook := onListen
	mu.Unlock()
	if hook != nil {
		hook(l)
	}
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

// Files duplicates every registered listener's socket, for handing to
// another process (as its descriptors 3, 4, ...), and names each as
// TERN_LISTEN_FDS does: "tcp:127.0.0.1:8888". The caller closes the
// files. The sockets go on listening here.
func Files() (files []*os.File, names []string, err error) {
	mu.Lock()
	ls := make([]*Listener, 0, len(open))
	for l := range open {
		ls = append(ls, l)
	}
	mu.Unlock()
	sort.Slice(ls, func(i, j int) bool { return ls[i].Addr().String() < ls[j].Addr().String() })
	for _, l := range ls {
		var f *os.File
		if f, err = l.File(); err != nil {
			break
		}
		files = append(files, f)
		names = append(names, l.Name())
	}
	if err != nil {
		for _, f := range files {
			f.Close()
		}
		return nil, nil, err
	}
	return files, names, nil
}

// Spec is the value of TERN_LISTEN_FDS for names passed as descriptors
// first, first+1, ... (a child's extra descriptors start at 3).
func Spec(first int, names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = strconv.Itoa(first+i) + "=" + n
	}
	return strings.Join(parts, ",")
}

// Inherit reads TERN_LISTEN_FDS, once, takes the sockets it names as
// listeners, and removes the variable from the environment (children of
// this process do not see it). It returns the inherited addresses. Listen
// calls it; a supervisor's worker may call it first to fail early.
func Inherit() ([]string, error) {
	mu.Lock()
	defer mu.Unlock()
	if !inheritOK {
		inheritOK = true
		spec, ok := os.LookupEnv(EnvFDs)
		if ok {
			os.Unsetenv(EnvFDs)
			inherited, inheritEr = parse(spec)
		}
	}
	out := make([]string, len(inherited))
	for i, ln := range inherited {
		out[i] = ln.Addr().String()
	}
	return out, inheritEr
}

func parse(spec string) ([]net.Listener, error) {
	var out []net.Listener
	var errs []error
	for part := range strings.SplitSeq(spec, ",") {
		if part == "" {
			continue
		}
		fdText, name, ok := strings.Cut(part, "=")
		fd, err := strconv.Atoi(fdText)
		network, addr, ok2 := strings.Cut(name, ":")
		if !ok || !ok2 || err != nil || fd < 3 || network != "tcp" {
			errs = append(errs, fmt.Errorf("listeners: %s: bad entry %q (want FD=tcp:ADDR, FD >= 3)", EnvFDs, part))
			continue
		}
		syscall.CloseOnExec(fd) // ours alone, not our children's
		f := os.NewFile(uintptr(fd), name)
		ln, err := net.FileListener(f) // a duplicate, close-on-exec
		f.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("listeners: %s: descriptor %d (%s): %w", EnvFDs, fd, addr, err))
			continue
		}
		out = append(out, ln)
	}
	return out, errors.Join(errs...)
}

// claim takes the inherited listener of addr, if there is one.
func claim(addr string) net.Listener {
	mu.Lock()
	defer mu.Unlock()
	for i, ln := range inherited {
		if sameAddr(addr, ln.Addr()) {
			inherited = append(inherited[:i], inherited[i+1:]...)
			return ln
		}
	}
	return nil
}

// sameAddr says whether a listen address asked for (host:port, port not
// 0) is that of the socket a.
func sameAddr(want string, a net.Addr) bool {
	host, port, err := net.SplitHostPort(want)
	if err != nil || port == "0" {
		return false
	}
	if want == a.String() {
		return true
	}
	ta, ok := a.(*net.TCPAddr)
	if !ok || port != strconv.Itoa(ta.Port) {
		return false
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		return ta.IP.IsUnspecified()
	}
	if strings.EqualFold(host, "localhost") {
		return ta.IP.IsLoopback()
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.Equal(ta.IP)
}

// CloseUnclaimed closes the inherited listeners nobody has claimed (the
// new config no longer listens there), and returns their addresses.
func CloseUnclaimed() []string {
	mu.Lock()
	left := inherited
	inherited = nil
	mu.Unlock()
	var out []string
	for _, ln := range left {
		out = append(out, ln.Addr().String())
		ln.Close()
	}
	return out
}
