package cluster

import (
	"os/exec"
	"syscall"
)

// dieWithTest has the kernel kill cmd when the test process dies (a test
// timeout or a kill skips the cleanups), so no NATS node or service
// outlives the run.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
