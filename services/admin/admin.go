// Package admin serves the admin HTTP API of a running tern runtime: list,
// inspect, load, reload, stop, start and unload services, reload a script
// everywhere it runs, shut the process down, and a health check. It is a
// thin layer over the operations of root.Runtime.
//
// It binds the address of root.AdminConfig.Listen and refuses a
// non-loopback address without a token. With a token, every request
// must carry "Authorization: Bearer <token>" (compared in constant time);
// others get 401 and nothing runs.
package admin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tern-dev/tern/internal/listeners"
	"github.com/tern-dev/tern/root"
)

const (
	// MaxBody is the largest request body accepted.
	MaxBody = 1 << 20
	// RequestTimeout bounds every operation a request runs.
	RequestTimeout = 30 * time.Second
	// closeTimeout bounds Close's wait for requests in flight.
	closeTimeout = 5 * time.Second
)

// Server is a running admin API.
type Server struct {
	rt    *root.Runtime
	token []byte
	ln    net.Listener
	srv   *http.Server
	done  chan struct{}
}

// Start listens on cfg.Listen and serves the admin API for rt in a
// goroutine. A non-loopback address needs cfg.Token.
func Start(rt *root.Runtime, cfg root.AdminConfig) (*Server, error) {
	if rt == nil {
		return nil, errors.New("admin: no runtime")
	}
	if cfg.Listen == "" {
		return nil, errors.New("admin: no listen address")
	}
	if cfg.Token == "" && !Loopback(cfg.Listen) {
		return nil, fmt.Errorf("admin: refusing to listen on %q without a token: it is not a loopback address (set admin.token or TERN_ADMIN_TOKEN)", cfg.Listen)
	}
	ln, err := listeners.Listen(cfg.Listen, "admin API")
	if err != nil {
		return nil, fmt.Errorf("admin: listen on %q: %w", cfg.Listen, err)
	}
	s := &Server{rt: rt, ln: ln, done: make(chan struct{})}
	if cfg.Token != "" {
		s.token = []byte(cfg.Token)
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			rt.Logger().Error("admin: serve", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return s, nil
}

// Loopback reports whether the listen address addr ("host:port") binds
// only a loopback interface: "localhost", 127.0.0.0/8 or ::1. An empty
// host (all interfaces) is not loopback.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr is the address the server listens on ("127.0.0.1:8700").
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server: it stops accepting, lets the requests in flight
// finish for a few seconds, then closes what is left.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	<-s.done
	if err != nil {
		return fmt.Errorf("admin: close %s: %w", s.Addr(), err)
	}
	return nil
}

// Handler is the API's handler, with authentication, for mounting
// elsewhere or testing.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services", s.list)
	mux.HandleFunc("GET /services/{x}", s.get)
	mux.HandleFunc("POST /services", s.create)
	mux.HandleFunc("POST /services/{x}/reload", s.reload)
	mux.HandleFunc("POST /scripts/reload", s.reloadScript)
	mux.HandleFunc("POST /services/{x}/stop", s.stop)
	mux.HandleFunc("POST /services/{x}/start", s.start)
	mux.HandleFunc("DELETE /services/{x}", s.unload)
	mux.HandleFunc("POST /shutdown", s.shutdown)
	mux.HandleFunc("POST /restart", s.restart)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /nodes", s.nodes)
	mux.Handle("GET /metrics", metricsHandler(s.rt))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("admin: no endpoint %s %s", r.Method, r.URL.Path))
	})
	return s.auth(mux)
}

// auth lets a request through only with the right bearer token, when
// there is one.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.token != nil {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), s.token) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="tern admin"`)
				writeError(w, http.StatusUnauthorized, errors.New("admin: missing or wrong bearer token"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
