package names

import (
	"reflect"
	"testing"

	"github.com/tern-dev/tern/actor"
)

func TestTableOrderAndRemoval(t *testing.T) {
	tb := NewTable()
	tb.set("a", 1)
	tb.set("b", 2)
	tb.set("c", 3)
	tb.set("a2", 1) // a second name for 1
	want := []Named{{"a2", 1}, {"c", 3}, {"b", 2}, {"a", 1}}
	if got := tb.Named(); !reflect.DeepEqual(got, want) {
		t.Fatalf("named: %v", got)
	}
	gone := tb.removeAddr(1)
	if len(gone) != 2 {
		t.Fatalf("removed %v", gone)
	}
	if _, ok := tb.Lookup("a"); ok {
		t.Fatal("name of an exited service still resolves")
	}
	if a, ok := tb.Lookup("b"); !ok || a != actor.Addr(2) {
		t.Fatal("other names lost")
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{"db": true, "": false, ":0000000a": false, "3:0000000a": false, "game.lobby": true, ":zz": false} {
		if ValidName(name) != want {
			t.Errorf("ValidName(%q) != %v", name, want)
		}
	}
}
