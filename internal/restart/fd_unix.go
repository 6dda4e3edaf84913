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
