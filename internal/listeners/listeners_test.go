package listeners

import (
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// rawFD listens on 127.0.0.1:0 and returns a raw descriptor of the socket
// (as a child inherits it) and its address; the Go listener is closed.
func rawFD(t *testing.T) (int, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	addr := ln.Addr().String()
	ln.Close()
	return fd, addr
}

func reset() {
	mu.Lock()
	inheritOK, inherited, inheritEr = false, nil, nil
	mu.Unlock()
}

func TestInherit(t *testing.T) {
	reset()
	defer reset()
	fd1, addr1 := rawFD(t)
	fd2, addr2 := rawFD(t)
	t.Setenv(EnvFDs, Spec(fd1, []string{"tcp:" + addr1})+","+strconv.Itoa(fd2)+"=tcp:"+addr2)
	got, err := Inherit()
	if err != nil || len(got) != 2 {
		t.Fatalf("Inherit: %v %v", got, err)
	}
	if _, ok := os.LookupEnv(EnvFDs); ok {
		t.Error("the variable is still in the environment")
	}
	// The socket still listens (the original is closed): binding anew
	// would fail, so Listen must take the inherited one.
	l, err := Listen(addr1, "test")
	if err != nil {
		t.Fatalf("Listen %s: %v", addr1, err)
	}
	defer l.Close()
	if l.Addr().String() != addr1 {
		t.Fatalf("got %s, want %s", l.Addr(), addr1)
	}
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", addr1)
	if err != nil {
		t.Fatalf("dial the inherited listener: %v", err)
	}
	c.Close()
	files, names, err := Files()
	if err != nil || len(files) != 1 || names[0] != "tcp:"+addr1 {
		t.Fatalf("Files: %v %v", names, err)
	}
	for _, f := range files {
		f.Close()
	}
	// The second was not claimed: closed now.
	if left := CloseUnclaimed(); len(left) != 1 || left[0] != addr2 {
		t.Fatalf("unclaimed: %v", left)
	}
	if _, err := net.Dial("tcp", addr2); err == nil {
		t.Fatal("the unclaimed listener still accepts")
	}
}

func TestInheritBadEntries(t *testing.T) {
	reset()
	defer reset()
	t.Setenv(EnvFDs, "x=tcp:1.2.3.4:5,1=tcp:127.0.0.1:9,7=udp:127.0.0.1:9")
	if _, err := Inherit(); err == nil || strings.Count(err.Error(), "bad entry") != 3 {
		t.Fatalf("err = %v", err)
	}
}

func TestSameAddr(t *testing.T) {
	a := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8888}
	any6 := &net.TCPAddr{IP: net.IPv6unspecified, Port: 8888}
	for _, c := range []struct {
		want string
		a    *net.TCPAddr
		ok   bool
	}{
		{"127.0.0.1:8888", a, true},
		{"localhost:8888", a, true},
		{"127.0.0.1:8889", a, false},
		{"127.0.0.1:0", &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}, false},
		{":8888", any6, true},
		{"0.0.0.0:8888", any6, true},
		{":8888", a, false},
	} {
		if got := sameAddr(c.want, c.a); got != c.ok {
			t.Errorf("sameAddr(%q, %v) = %v", c.want, c.a, got)
		}
	}
}
