package names_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/names"
)

func TestSplit(t *testing.T) {
	for in, want := range map[string][2]string{"db": {"db", ""}, "db@node2": {"db", "node2"}, "a.b@n": {"a.b", "n"}, "@n": {"", "n"}} {
		if b, n := names.Split(in); b != want[0] || n != want[1] {
			t.Errorf("Split(%q) = %q, %q", in, b, n)
		}
	}
	for name, want := range map[string]bool{"db": true, "db@node2": false, "": false, ":0000000a": false} {
		if names.LocalName(name) != want {
			t.Errorf("LocalName(%q) != %v", name, want)
		}
	}
	if a := names.NodeAddr(7); a.Node() != 7 || a.Handle() != names.Handle {
		t.Errorf("NodeAddr(7) = %s", a)
	}
}

// Alone, a name@node is an error saying so, whichever way it is looked up.
func TestNameAtNodeOutsideACluster(t *testing.T) {
	w := newWorld(t, nil, nil)
	for _, cmd := range []string{"query", "resolve", "unique"} {
		_, err := w.call(t, cmd, "db@node2")
		if !errors.Is(err, actor.ErrNoCluster) || !strings.Contains(err.Error(), `"db@node2"`) {
			t.Errorf("%s: %v", cmd, err)
		}
	}
	if _, err := w.call(t, "resolve", "db@"); !errors.Is(err, names.ErrBadName) {
		t.Errorf("db@: %v", err)
	}
}

func TestRegisterOptions(t *testing.T) {
	w := newWorld(t, nil, map[string]func() actor.Service{})
	a, err := w.sys.Spawn(&querier{names: w.names}, actor.SpawnOptions{Name: "q"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.call(t, "register_as", "a@b", int64(a)); !errors.Is(err, names.ErrBadName) {
		t.Errorf("a@b: %v", err)
	}
	if _, err := w.call(t, "declare", "a@b", "x"); !errors.Is(err, names.ErrBadName) {
		t.Errorf("declare a@b: %v", err)
	}
	if _, err := w.call(t, "register_as", "x", int64(a), map[string]any{"clutser": true}); err == nil || !strings.Contains(err.Error(), `unknown option "clutser" (did you mean "cluster"?)`) {
		t.Errorf("clutser: %v", err)
	}
	if _, err := w.call(t, "register_as", "x", int64(a), map[string]any{"cluster": "yes"}); err == nil || !strings.Contains(err.Error(), "option cluster must be a boolean") {
		t.Errorf("cluster=yes: %v", err)
	}
	if _, err := w.call(t, "register_as", "x", int64(a), "cluster"); err == nil || !strings.Contains(err.Error(), "argument #3 must be a table of options") {
		t.Errorf("string opts: %v", err)
	}
	// alone, a cluster name is a name of this node
	if _, err := w.call(t, "register_as", "x", int64(a), map[string]any{"cluster": true}); err != nil {
		t.Fatal(err)
	}
	if res, err := w.call(t, "query", "x"); err != nil || res[0] != int64(a) {
		t.Fatalf("query x: %v %v", res, err)
	}
	if st := w.stat(t); st["cluster"] != 1 {
		t.Fatalf("stat: %v", st)
	}
	// and it goes with its service
	if err := w.sys.Kill(a); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the cluster name goes with its service", func() bool { return w.stat(t)["cluster"] == 0 })
}

// Only another node's name service may tell this one its names.
func TestClusterCommandsRefuseOutsiders(t *testing.T) {
	w := newWorld(t, nil, nil)
	for _, cmd := range []string{"cluster_add", "cluster_drop"} {
		if _, err := w.call(t, cmd, true, "x", int64(actor.MakeAddr(2, 9))); err == nil || !strings.Contains(err.Error(), "only the name service of another node") {
			t.Errorf("%s: %v", cmd, err)
		}
	}
}
