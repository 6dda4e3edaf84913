package admin

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tern-dev/tern/internal/listeners"
	"github.com/tern-dev/tern/root"
)

// POST /restart: 501 without the binary's support, 202 when an upgrade
// begins, 409 with the reason when refused.
func TestRestart(t *testing.T) {
	e := newEnv(t, "")
	if !slices.Contains(listeners.Open(), e.srv.Addr()) {
		t.Errorf("the admin listener %s is not in the registry: %v", e.srv.Addr(), listeners.Open())
	}
	if code, body := e.do("POST", "/restart", "", nil); code != http.StatusNotImplemented || !strings.Contains(body, "cannot restart") {
		t.Fatalf("without support: %d %s", code, body)
	}
	var n atomic.Int32
	e.rt.SetRestarter(func(context.Context) error {
		if n.Add(1) > 1 {
			return root.ErrRestarting
		}
		return nil
	})
	var got map[string]bool
	if code, body := e.do("POST", "/restart", "", &got); code != http.StatusAccepted || !got["restarting"] {
		t.Fatalf("first: %d %s", code, body)
	}
	if code, body := e.do("POST", "/restart", "", nil); code != http.StatusConflict || !strings.Contains(body, "already under way") {
		t.Fatalf("second: %d %s", code, body)
	}
}
