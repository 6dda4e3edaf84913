//go:build unix

package restart

import (
	"os"
	"syscall"
)

func closeOnExec(fd int) { syscall.CloseOnExec(fd) }

// redirectStderr makes f our descriptor 2 (os.Stderr, and the logs).
func redirectStderr(f *os.File) error {
	return dup2(int(f.Fd()), 2)
}

// rawFD is f's descriptor, read without File.Fd (which would make it
// blocking). It stays valid while f is open.
func rawFD(f *os.File) uintptr {
	var fd uintptr
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(d uintptr) { fd = d })
		return fd
	}
	return f.Fd() // not a pollable file: Fd changes nothing
}
