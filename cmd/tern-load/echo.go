package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// serveEcho is the plain Go baseline: a goroutine per connection, a
// buffered read, and each frame written back as soon as it is read, in
// one write. It serves ln until ctx is done, then closes the listener
// and every connection and returns once their goroutines have.
func serveEcho(ctx context.Context, ln net.Listener, proto, path string) error {
	if proto == protoWebSocket {
		return serveWSEcho(ctx, ln, path)
	}
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
		done  bool
	)
	var once sync.Once
	closeAll := func() {
		once.Do(func() {
			ln.Close()
			mu.Lock()
			done = true
			for c := range conns {
				c.Close()
			}
			mu.Unlock()
		})
	}
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()
	defer wg.Wait()
	defer closeAll()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		mu.Lock()
		if done {
			mu.Unlock()
			c.Close()
			continue
		}
		conns[c] = struct{}{}
		wg.Add(1)
		mu.Unlock()
		go func() {
			defer wg.Done()
			echoStream(c, proto)
			c.Close()
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
}

// echoStream echoes one connection's frames until it ends or errs. The
// read buffer is bufio's default 4 KiB (larger frames are read through
// it), and the frame buffer of len16/len32 is made on the first frame:
// an idle connection costs its goroutine, the buffer and the socket.
func echoStream(c net.Conn, proto string) error {
	br := bufio.NewReader(c)
	if proto == protoLine {
		for {
			// the line, newline included; a line longer than the
			// buffer is echoed in pieces as it comes
			line, err := br.ReadSlice('\n')
			if len(line) > 0 {
				if _, werr := c.Write(line); werr != nil {
					return werr
				}
			}
			if err != nil && err != bufio.ErrBufferFull {
				return err
			}
		}
	}
	h := headerLen(proto)
	var hdr [4]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(br, hdr[:h]); err != nil {
			return err
		}
		var n int
		if h == 2 {
			n = int(binary.BigEndian.Uint16(hdr[:]))
		} else {
			n = int(binary.BigEndian.Uint32(hdr[:]))
		}
		if n > maxFrame {
			return fmt.Errorf("frame of %d bytes over the limit %d", n, maxFrame)
		}
		if h+n > len(buf) {
			buf = make([]byte, max(h+n, 512))
		}
		copy(buf, hdr[:h])
		if _, err := io.ReadFull(br, buf[h:h+n]); err != nil {
			return err
		}
		if _, err := c.Write(buf[:h+n]); err != nil {
			return err
		}
	}
}

// serveWSEcho is the WebSocket baseline: net/http, coder/websocket's
// Accept on path, each message written back with its type.
func serveWSEcho(ctx context.Context, ln net.Listener, path string) error {
	var (
		mu    sync.Mutex
		conns = map[*websocket.Conn]struct{}{}
		wg    sync.WaitGroup
		done  bool
	)
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			return
		}
		mu.Lock()
		if done {
			mu.Unlock()
			c.CloseNow()
			return
		}
		conns[c] = struct{}{}
		wg.Add(1)
		mu.Unlock()
		defer func() {
			c.CloseNow()
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			wg.Done()
		}()
		c.SetReadLimit(maxFrame)
		bg := context.Background()
		var b bytes.Buffer
		for {
			typ, rd, err := c.Reader(bg)
			if err != nil {
				return
			}
			b.Reset()
			if _, err := b.ReadFrom(rd); err != nil {
				return
			}
			if err := c.Write(bg, typ, b.Bytes()); err != nil {
				return
			}
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	var once sync.Once
	closeAll := func() {
		once.Do(func() {
			srv.Close()
			mu.Lock()
			done = true
			for c := range conns {
				c.CloseNow()
			}
			mu.Unlock()
		})
	}
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()
	err := srv.Serve(ln)
	if ctx.Err() != nil || err == http.ErrServerClosed {
		err = nil
	}
	// srv.Close does not wait for hijacked connections' handlers; they
	// end on CloseNow
	closeAll()
	wg.Wait()
	return err
}
