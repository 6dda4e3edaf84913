package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/lua"
	"github.com/tern-dev/tern/names"
	"github.com/tern-dev/tern/root"
)

// Service is a service as the API shows it.
type Service struct {
	Addr    string `json:"addr"` // ":0000000a"
	ID      uint64 `json:"id"`   // the address as a number
	Name    string `json:"name,omitempty"`
	Script  string `json:"script"`
	State   string `json:"state"`
	Started string `json:"started"` // RFC 3339
	Queued  int    `json:"queued"`
	Handled uint64 `json:"handled"`
	Tasks   int    `json:"tasks"` // live coroutines of a Lua service
	// Statistics: see actor.Info.
	Peak    int     `json:"peak"`    // the mailbox's high-water mark
	Sent    uint64  `json:"sent"`    // messages posted
	Errors  uint64  `json:"errors"`  // requests failed, panics, posts refused
	Busy    float64 `json:"busy"`    // seconds spent handling messages: its CPU time
	Wall    float64 `json:"wall"`    // seconds its finished requests took, arrival to end, waits included
	Reloads uint64  `json:"reloads"` // in-place reloads
	Memory  int64   `json:"memory"`  // bytes, an estimate; 0 when unknown
}

func view(s root.Service) Service {
	started := ""
	if !s.Started.IsZero() {
		started = s.Started.UTC().Format(time.RFC3339Nano)
	}
	return Service{Addr: s.Addr.String(), ID: uint64(s.Addr), Name: s.Name, Script: s.Script,
		State: s.State, Started: started, Queued: s.Queued, Handled: s.Handled, Tasks: s.Tasks,
		Peak: s.Peak, Sent: s.Sent, Errors: s.Errors, Busy: s.Busy.Seconds(), Wall: s.Wall.Seconds(), Reloads: s.Reloads, Memory: s.Memory}
}

// ReloadScriptResult is the answer of POST /scripts/reload.
type ReloadScriptResult struct {
	Reloaded int               `json:"reloaded"`
	Failed   map[string]string `json:"failed"` // error text by address
}

// reqContext bounds the work of one request.
func reqContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), RequestTimeout)
}

// target reads {x}: an address (":0000000a") or a name.
func target(r *http.Request) (string, error) {
	x := r.PathValue("x")
	if _, err := actor.ParseAddr(x); err == nil {
		return x, nil
	}
	if !names.ValidName(x) {
		return "", bad("admin: bad service %q: neither an address (\":0000000a\") nor a name", x)
	}
	return x, nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("memory") == "now" {
		// every Lua service estimates its memory first (skynet's mem)
		if _, err := s.rt.MeasureMemory(r.Context()); err != nil {
			writeError(w, http.StatusServiceUnavailable, err)
			return
		}
	}
	all := s.rt.Services()
	out := make([]Service, 0, len(all))
	for _, svc := range all {
		out = append(out, view(svc))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	if svc, ok := s.lookup(w, r); ok {
		writeJSON(w, http.StatusOK, view(svc))
	}
}

// lookup finds the service {x} names, or writes the error.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (root.Service, bool) {
	x, err := target(r)
	if err == nil {
		var svc root.Service
		if svc, err = s.rt.Service(x); err == nil {
			return svc, true
		}
	}
	writeErr(w, err)
	return root.Service{}, false
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	req, err := DecodeCreate(r.Body)
	if err != nil {
		writeErr(w, err)
		return
	}
	if s.refuseDuringShutdown(w, "load") {
		return
	}
	ctx, cancel := reqContext(r)
	defer cancel()
	a, err := s.rt.Load(ctx, req.Name, req.Script, req.Args...)
	if err != nil {
		writeErr(w, initFailed(err))
		return
	}
	svc, err := s.rt.Service(a)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, view(svc))
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	x, err := target(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	if s.refuseDuringShutdown(w, "reload") {
		return
	}
	ctx, cancel := reqContext(r)
	defer cancel()
	if err := s.rt.Reload(ctx, x); err != nil {
		writeErr(w, s.about("reload", x, initFailed(err)))
		return
	}
	s.answer(w, x)
}

func (s *Server) reloadScript(w http.ResponseWriter, r *http.Request) {
	var req ReloadScriptRequest
	if err := decode(r.Body, &req); err != nil {
		writeErr(w, err)
		return
	}
	if err := CheckScript(req.Script); err != nil {
		writeErr(w, err)
		return
	}
	if s.refuseDuringShutdown(w, "reload") {
		return
	}
	ctx, cancel := reqContext(r)
	defer cancel()
	n, failed, err := s.rt.ReloadScript(ctx, req.Script)
	if err != nil {
		writeErr(w, err)
		return
	}
	res := ReloadScriptResult{Reloaded: n, Failed: map[string]string{}}
	for a, err := range failed {
		res.Failed[a.String()] = err.Error()
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.lookup(w, r)
	if !ok {
		return
	}
	ctx, cancel := reqContext(r)
	defer cancel()
	if err := s.rt.Stop(ctx, svc.Addr); err != nil {
		writeErr(w, s.about("stop", svc, err))
		return
	}
	svc.State = "stopped"
	writeJSON(w, http.StatusOK, view(svc))
}

func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	x, err := target(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	if _, err := actor.ParseAddr(x); err == nil {
		writeErr(w, bad("admin: start %q: a declared service is started by its name", x))
		return
	}
	if s.refuseDuringShutdown(w, "start") {
		return
	}
	ctx, cancel := reqContext(r)
	defer cancel()
	a, err := s.rt.StartDeclared(ctx, x)
	if err != nil {
		writeErr(w, s.about("start", x, initFailed(err)))
		return
	}
	s.answer(w, a)
}

// DefaultGrace is how long DELETE lets a service finish its requests in
// flight and its on_shutdown before it is stopped hard; ?grace=2s sets
// it, up to RequestTimeout.
const DefaultGrace = 5 * time.Second

// unload stops the service (hard past the grace period: its waiting
// callers get errors) and waits for its names to be free.
func (s *Server) unload(w http.ResponseWriter, r *http.Request) {
	x, err := target(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	grace := DefaultGrace
	if g := r.URL.Query().Get("grace"); g != "" {
		d, err := time.ParseDuration(g)
		if err != nil || d < 0 || d > RequestTimeout {
			writeErr(w, bad("admin: unload: bad grace %q: want a duration from 0s to %s", g, RequestTimeout))
			return
		}
		grace = d
	}
	svc, err := s.rt.Service(x)
	if err != nil {
		writeErr(w, err)
		return
	}
	ctx, cancel := reqContext(r)
	defer cancel()
	sctx, scancel := context.WithTimeout(ctx, grace)
	err = s.rt.Stop(sctx, svc.Addr)
	graceOver := sctx.Err() != nil && ctx.Err() == nil
	scancel()
	// Past the grace period the service was stopped hard: that is an
	// unload, not a failure.
	if err != nil && !graceOver && !errors.Is(err, actor.ErrNoService) {
		writeErr(w, s.about("unload", svc, err))
		return
	}
	if err := s.gone(ctx, svc); err != nil {
		writeErr(w, s.about("unload", svc, err))
		return
	}
	svc.State = "unloaded"
	writeJSON(w, http.StatusOK, view(svc))
}

// gone waits until svc has ended and its name is free, killing it if it
// lingers.
func (s *Server) gone(ctx context.Context, svc root.Service) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	killed := false
	for i := 0; ; i++ {
		_, err := s.rt.Service(svc.Addr)
		held := false
		if svc.Name != "" {
			a, ok := s.rt.Names().Lookup(svc.Name)
			held = ok && a == svc.Addr
		}
		if errors.Is(err, actor.ErrNoService) && !held {
			return nil
		}
		if i == 200 && !killed { // a second past the stop: make sure
			killed = true
			if err := s.rt.Kill(svc.Addr); err != nil && !errors.Is(err, actor.ErrNoService) {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return &actor.Error{Name: svc.Name, Addr: svc.Addr, What: "unload", Err: ctx.Err()}
		case <-tick.C:
		}
	}
}

func (s *Server) shutdown(w http.ResponseWriter, r *http.Request) {
	if s.rt.ShuttingDown() {
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "already shutting down"})
		return
	}
	go func() {
		// The runtime's own shutdown_timeout bounds the shutdown; this
		// only keeps the goroutine from outliving a stuck one forever.
		ctx, cancel := context.WithTimeout(context.Background(), 25*time.Hour)
		defer cancel()
		if err := s.rt.Shutdown(ctx); err != nil {
			s.rt.Logger().Error("admin: shutdown", "err", err)
		}
	}()
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "shutting down"})
}

// restart begins a graceful restart of the binary (root.Runtime.Restart):
// 202 once it has begun, 409 with the reason when refused (one is under
// way, the runtime is stopping), 501 without the binary-level support.
func (s *Server) restart(w http.ResponseWriter, r *http.Request) {
	err := s.rt.Restart(r.Context())
	switch {
	case err == nil:
		writeJSON(w, http.StatusAccepted, map[string]bool{"restarting": true})
	case errors.Is(err, root.ErrNoRestart):
		writeError(w, http.StatusNotImplemented, err)
	default:
		writeError(w, http.StatusConflict, err)
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.rt.ShuttingDown() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down", "error": "admin: the runtime is shutting down"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// refuseDuringShutdown answers 503 to what would start or renew a
// service once the shutdown has begun.
func (s *Server) refuseDuringShutdown(w http.ResponseWriter, what string) bool {
	if !s.rt.ShuttingDown() {
		return false
	}
	writeError(w, http.StatusServiceUnavailable, fmt.Errorf("admin: %s: %w", what, root.ErrStopped))
	return true
}

// about makes sure err names the service target (a name, an address or
// a root.Service) by its registered name and its address: the actor
// errors name a Lua service by its script.
func (s *Server) about(what string, target any, err error) error {
	svc, ok := target.(root.Service)
	if !ok {
		var lerr error
		if svc, lerr = s.rt.Service(target); lerr != nil {
			if x, isName := target.(string); isName && !strings.Contains(err.Error(), x) {
				return fmt.Errorf("admin: %s %q: %w", what, x, err)
			}
			return err
		}
	}
	text := err.Error()
	if (svc.Name == "" || strings.Contains(text, svc.Name)) && strings.Contains(text, svc.Addr.String()) {
		return err
	}
	if svc.Name == "" {
		return fmt.Errorf("admin: %s %s: %w", what, svc.Addr, err)
	}
	return fmt.Errorf("admin: %s %q (%s): %w", what, svc.Name, svc.Addr, err)
}

// answer writes the service target as it is now.
func (s *Server) answer(w http.ResponseWriter, target any) {
	svc, err := s.rt.Service(target)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, view(svc))
}

// unprocessable marks a failed init or reload: 422, with the Lua error.
type unprocessable struct{ err error }

func (e unprocessable) Error() string { return e.err.Error() }
func (e unprocessable) Unwrap() error { return e.err }

// initFailed marks err as a failed init or reload unless it has a more
// precise status.
func initFailed(err error) error {
	if status(err) != http.StatusInternalServerError {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	return unprocessable{err}
}

// status maps an error to its HTTP status.
func status(err error) int {
	var br badRequest
	var un unprocessable
	switch {
	case errors.As(err, &br), errors.Is(err, names.ErrBadName):
		return http.StatusBadRequest
	case errors.Is(err, names.ErrNoName), errors.Is(err, actor.ErrNoService), errors.Is(err, lua.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, root.ErrTaken):
		return http.StatusConflict
	case errors.As(err, &un), errors.Is(err, actor.ErrNoReload):
		return http.StatusUnprocessableEntity
	case errors.Is(err, root.ErrStopped), errors.Is(err, actor.ErrShuttingDown):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

func writeErr(w http.ResponseWriter, err error) {
	writeError(w, status(err), err)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
