//go:build unix && !linux

package restart

import "syscall"

func dup2(from, to int) error { return syscall.Dup2(from, to) }

// closeOnExecAll: without /proc, only what Go opened is close-on-exec.
func closeOnExecAll() {}
