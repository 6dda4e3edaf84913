package supervise

import "syscall"

// workerAttr starts a worker in its own process group (a terminal's ^C
// reaches the supervisor only, which passes it on once), to get SIGTERM
// (and drain) if the supervisor dies.
func workerAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// rawSocketpair is a close-on-exec SOCK_SEQPACKET pair.
func rawSocketpair() ([2]int, error) {
	return syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
}
