package agent

import (
	"os/exec"
	"syscall"
)

// dieWithAgent has the kernel kill cmd when the agent dies. buildctl left
// running by a killed agent would keep its build going in BuildKit (and
// keep a buildkitd told to stop waiting for that build) long after the
// server gave the run up as lost.
func dieWithAgent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
