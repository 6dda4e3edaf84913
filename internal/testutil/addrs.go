package testutil

import (
	"net"
	"testing"
)

// FreeAddrs returns n distinct free 127.0.0.1 addresses: all are held open
// together while chosen, so none is handed out twice.
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	out, err := LoopbackAddrs(n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// LoopbackAddrs is FreeAddrs where there is no test to fail (TestMain).
func LoopbackAddrs(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		out[i] = l.Addr().String()
	}
	return out, nil
}
