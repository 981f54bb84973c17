//go:build !linux

package buildengine

import "os/exec"

// setProcAttr does nothing: Start refuses to run anywhere but Linux.
func setProcAttr(*exec.Cmd) {}
