package lua_test

import (
	"strings"
	"testing"
)

// The cases where gopher-lua cannot suspend a blocking call (a metamethod,
// a callback of a Go function, code Go runs) raise "cannot block here"
// (yieldable.go reads the pinned gopher-lua's frames), and the ones where
// it can, after the rewrites and pass-throughs, work. The service survives
// every case.
func TestCannotBlockHere(t *testing.T) {
	e := newEnv(t)
	a, y := e.launch(t, "echo"), e.launch(t, "yieldable")
	refused := map[string]string{
		"index":                "tern.call: cannot block here",
		"tostring":             "tern.call: cannot block here",
		"lt":                   "tern.call: cannot block here",
		"add":                  "tern.call: cannot block here",
		"concat":               "tern.call: cannot block here",
		"sort":                 "tern.call: cannot block here",
		"gsub":                 "tern.call: cannot block here",
		"sleep_in_index":       "tern.sleep: cannot block here",
		"wait_in_index":        "tern.wait: cannot block here",
		"calltimeout_in_index": "tern.calltimeout: cannot block here",
		"newservice_in_index":  "tern.newservice: cannot block here",
		"pcall_in_index":       "tern.call: cannot block here",
		"coroutine_in_index":   "tern.call: cannot block here",
		"loaded_index":         "tern.call: cannot block here",
		"yield_in_index":       "attempt to yield across a metamethod",
		"module_top_level":     "tern.sleep: cannot block here",
	}
	works := map[string]string{
		"call_metamethod":     "42",
		"for_iterator":        "2",
		"loaded_for_iterator": "2",
		"pcall":               "2",
		"xpcall":              "2",
		"coroutine":           "2",
		"pcall_in_coroutine":  "2",
	}
	for round := 0; round < 2; round++ { // the VM is sound after each case
		res := e.call(t, y, "run", a)
		seen := 0
		for _, c := range res[0].([]any) {
			c := c.([]any)
			name, ok, v := c[0].(string), c[1].(bool), c[2].(string)
			if want, found := refused[name]; found {
				seen++
				if name == "pcall_in_index" { // pcall catches it and returns the message
					ok = !strings.Contains(v, want)
				}
				if ok || !strings.Contains(v, want) {
					t.Errorf("%s: %v, %q; want an error holding %q", name, ok, v, want)
				}
				continue
			}
			if want, found := works[name]; found {
				seen++
				if !ok || v != want {
					t.Errorf("%s: %v, %q; want %q", name, ok, v, want)
				}
				continue
			}
			t.Errorf("unknown case %q", name)
		}
		if seen != len(refused)+len(works) {
			t.Fatalf("%d cases ran, want %d", seen, len(refused)+len(works))
		}
	}
	if res := e.call(t, a, "add", 2, 2); res[0] != int64(4) {
		t.Fatal("target broken")
	}
}
