package lua_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-dev/tern/actor"
)

// Errors raised by tern.call, tern.send and the rest of the API, caught by
// the script, carry the position of the script line that called: never
// "=prelude:N:", also through pcall, coroutines and tail calls.
func TestErrorPositions(t *testing.T) {
	e := newEnv(t)
	a, p := e.launch(t, "echo"), e.launch(t, "errpos")
	res := e.call(t, p, "positions", a)
	wants := []string{
		`echo(` + a.String() + `): call "nosuch": no such command`,
		"bad argument #1 to call (service address or name expected, got nil)",
		"bad argument #2 to call (string expected, got table)",
		"no such service",
		"cannot copy a function at args[1]",
		"timeout",
		"bad argument #1 to calltimeout",
		"newservice nosuchscript: not found",
		`bad argument #1 to send (actor: bad handle in address ":zz")`,
		"cannot copy a function at args[1]",
		"this runtime has no name service",
		`call "raise_tostring": custom: it broke`, // error() adds no position to a table
		`call "raise_table": (error object is a table value)`,
		"no such command",
		"no such command",
		"cannot copy a function at args[1]",
		"no such command",
		"bad argument #1 to call",
		"no such command",
		"bad argument #1 to", // gopher-lua names the function as pcall's body calls it
		"attempt to call a non-function object",
	}
	cases := res[0].([]any)
	if len(cases) != len(wants) {
		t.Fatalf("%d cases, want %d: %#v", len(cases), len(wants), cases)
	}
	for i, c := range cases {
		c := c.([]any)
		line, msg := c[0].(int64), c[1].(string)
		want := wants[i]
		pos := fmt.Sprintf("testdata/errpos.lua:%d: ", line)
		if !strings.HasPrefix(msg, pos) || !strings.Contains(msg, want) || strings.Contains(msg, "prelude") {
			t.Errorf("case %d (line %d): %q\nwant it to start with %q and hold %q", i+1, line, msg, pos, want)
		}
	}
}

// A table raised as an error reaches the caller as its __tostring, or as a
// clear text; inside the VM, pcall still returns the table itself.
func TestTableErrors(t *testing.T) {
	e := newEnv(t)
	p := e.launch(t, "errpos")
	_, err := e.try(p, "raise_tostring")
	if !errors.Is(err, actor.ErrRemote) || !strings.Contains(err.Error(), `call "raise_tostring": custom: it broke`) {
		t.Fatalf("raise_tostring: %v", err)
	}
	_, err = e.try(p, "raise_table")
	if err == nil || !strings.Contains(err.Error(), "(error object is a table value)") {
		t.Fatalf("raise_table: %v", err)
	}
	if log := e.log.String(); !strings.Contains(log, "custom: it broke") || strings.Contains(log, "table: 0x") {
		t.Fatalf("log:\n%s", log)
	}
	res := e.call(t, p, "table_stays")
	if !reflect.DeepEqual(res, []any{false, "table", "custom: x"}) {
		t.Fatalf("table_stays: %#v", res)
	}
}
