package supervise

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A message carries a listening socket from one end to the other, and the
// socket stays non-blocking for its other holders.
func TestSendRecv(t *testing.T) {
	sup, wf, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	c, err := net.FileConn(wf)
	wf.Close()
	if err != nil {
		t.Fatal(err)
	}
	wc := c.(*net.UnixConn)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	if err := send(wc, "listen tcp:"+ln.Addr().String(), f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// The socket is still non-blocking (File.Fd would have made it
	// blocking, for ln too).
	msg, got, err := recv(sup)
	if err != nil || got == nil || msg != "listen tcp:"+ln.Addr().String() {
		t.Fatalf("recv: %q, %v, %v", msg, got, err)
	}
	defer got.Close()
	rc, _ := got.SyscallConn()
	rc.Control(func(fd uintptr) {
		fl, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		if e != 0 || fl&syscall.O_NONBLOCK == 0 {
			t.Errorf("the received socket is blocking (flags %#x, %v)", fl, e)
		}
	})
	wc.Close()
	if _, _, err := recv(sup); err == nil {
		t.Fatal("no EOF once the worker's end is closed")
	}
}

// The worker's side: a restart request gets the supervisor's answer, and
// a drain runs the handler once, even when it came before OnDrain.
func TestWorker(t *testing.T) {
	sup, wf, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	t.Setenv(EnvFD, "")
	fd, err := syscall.Dup(int(wf.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	wf.Close()
	os.Setenv(EnvFD, strconv.Itoa(fd))
	w, err := Connect()
	if err != nil || w == nil {
		t.Fatalf("connect: %v, %v", w, err)
	}
	if _, ok := os.LookupEnv(EnvFD); ok {
		t.Fatal("the variable is still set")
	}
	go func() {
		for _, answer := range []string{"ok", "refused busy now"} {
			msg, _, err := recv(sup)
			if err != nil || msg != "restart" {
				t.Errorf("recv: %q %v", msg, err)
				return
			}
			send(sup, answer, nil)
		}
		send(sup, "drain", nil)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Restart(ctx); err == nil || err.Error() != "busy now" {
		t.Fatalf("refused: %v", err)
	}
	drained := make(chan struct{})
	w.OnDrain(func() { close(drained) })
	select {
	case <-drained:
	case <-time.After(10 * time.Second):
		t.Fatal("no drain")
	}
	if err := w.Ready([]string{"tcp:127.0.0.1:1", "tcp:127.0.0.1:2"}); err != nil {
		t.Fatal(err)
	}
	msg, _, err := recv(sup)
	if err != nil || !strings.HasPrefix(msg, "ready tcp:127.0.0.1:1 tcp:127.0.0.1:2") {
		t.Fatalf("ready: %q %v", msg, err)
	}
}
