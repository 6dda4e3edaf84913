package listeners

import (
	"net"
	"os"
	"slices"
	"testing"
)

func listenerFile(t *testing.T) (*os.File, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	return f, "tcp:" + ln.Addr().String()
}

// A supervisor adopts a worker's socket once, lists it, hands it on with
// Files, and drops it with Keep when a worker no longer uses it.
func TestAdoptKeep(t *testing.T) {
	f, name := listenerFile(t)
	dup, err := os.Open("/dev/null") // stands for a second copy of the same name
	if err != nil {
		t.Fatal(err)
	}
	if added, err := Adopt(f, name, "test"); err != nil || !added {
		t.Fatalf("adopt: %v, %v", added, err)
	}
	if added, err := Adopt(dup, name, "test"); err != nil || added {
		t.Fatalf("adopt again: %v, %v", added, err)
	}
	if !slices.Contains(Names(), name) {
		t.Fatalf("names %v lack %s", Names(), name)
	}
	files, names, err := Files()
	if err != nil || !slices.Contains(names, name) {
		t.Fatalf("files: %v %v", names, err)
	}
	for _, f := range files {
		f.Close()
	}
	// Still listening: a client connects.
	c, err := net.Dial("tcp", name[len("tcp:"):])
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if closed := Keep(nil); !slices.Contains(closed, name) {
		t.Fatalf("keep closed %v, not %s", closed, name)
	}
	if slices.Contains(Names(), name) {
		t.Fatal("still registered after Keep")
	}
	g, _ := listenerFile(t)
	if _, err := Adopt(g, "udp:127.0.0.1:1", "test"); err == nil {
		t.Fatal("adopted a udp name")
	}
}
