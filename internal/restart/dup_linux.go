package restart

import (
	"os"
	"strconv"
	"syscall"
)

func dup2(from, to int) error { return syscall.Dup3(from, to, 0) }

// closeOnExecAll marks every descriptor above 2 close-on-exec: whatever
// this process inherited by accident (a leaky parent) never reaches a
// new binary, which gets only the descriptors it is given.
func closeOnExecAll() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
