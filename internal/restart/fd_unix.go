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

// nonblock puts the sockets of files back in non-blocking mode.
func nonblock(files []*os.File) {
	for _, f := range files {
		_ = syscall.SetNonblock(int(f.Fd()), true)
	}
}
