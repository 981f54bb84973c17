package buildengine

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts buildkitd in its own process group, so a Ctrl-C meant
// for berth does not reach it before Close does, and has the kernel send it
// SIGTERM if berth dies without closing it.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
