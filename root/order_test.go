package root

import (
	"context"
	"testing"
	"time"

	"github.com/tern-dev/tern/names"
)

// A service's sends to a declared name arrive in the order sent, though
// the first go through the name service (which starts the service) and
// the later ones, once the name is registered, would find its address.
func TestSendsByNameKeepTheirOrderAcrossTheStart(t *testing.T) {
	const n = 20000
	for round := range 5 {
		name := "seq" + string(rune('a'+round))
		rt, _ := start(t, Config{Services: map[string]names.Decl{name: {Script: "seqrecv"}}}, nil)
		sender, err := rt.lua.Launch(context.Background(), "seqsend")
		if err != nil {
			t.Fatal(err)
		}
		call(t, rt, sender, "run", name, n)
		var got, disorder int64
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			res := call(t, rt, name, "counts")
			got, disorder = res[0].(int64), res[1].(int64)
			if got == n {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got != n || disorder != 0 {
			t.Fatalf("round %d: %d of %d sends arrived, %d out of order", round, got, n, disorder)
		}
	}
}
