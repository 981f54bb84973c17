//go:build !linux

package agent

import "os/exec"

// dieWithAgent does nothing: BuildKit's runc worker runs only on Linux.
func dieWithAgent(cmd *exec.Cmd) {}
