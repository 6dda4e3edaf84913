//go:build unix

package main

import (
	"net"
	"syscall"
)

// connAlive peeks at c without blocking: false when the peer has closed
// it (end of stream or an error), true when it is open, with or without
// bytes waiting.
func connAlive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := true
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR:
		case err != nil || n == 0:
			alive = false
		}
		return true
	})
	return err == nil && alive
}
