package redistest

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal asks Linux to kill the server if the test binary dies
// without running its cleanups, so a crashed test leaves no stray server.
// NOTE: Linux sends the signal when the OS thread that started the child
// exits, which in Go happens only for goroutines that lock their thread and
// exit; tests here do not do that.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
