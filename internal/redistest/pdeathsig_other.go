//go:build !linux

package redistest

import "os/exec"

// setParentDeathSignal does nothing outside Linux: there a crashed test can
// leave its redis-server running until it is killed by hand.
func setParentDeathSignal(*exec.Cmd) {}
