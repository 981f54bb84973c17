package testserver

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the server in its own process group, so Kill can end it
// together with anything it started, and makes the kernel kill it if the
// test process dies without cleaning up (a panic or a test timeout).
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the process group that pid leads.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
