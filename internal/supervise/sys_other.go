//go:build unix && !linux

package supervise

import "syscall"

// workerAttr starts a worker in its own process group (a terminal's ^C
// reaches the supervisor only, which passes it on once). Without
// Pdeathsig, a worker outlives a supervisor killed with SIGKILL.
func workerAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// rawSocketpair is a close-on-exec SOCK_SEQPACKET pair.
func rawSocketpair() ([2]int, error) {
	syscall.ForkLock.RLock() // no fork between the pair and close-on-exec
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	return fds, err
}
