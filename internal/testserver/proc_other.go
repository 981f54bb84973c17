//go:build !linux

package testserver

import (
	"os"
	"os/exec"
)

func setProcAttr(cmd *exec.Cmd) {}

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
