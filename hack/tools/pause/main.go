// Command pause is the pod sandbox process of the local node: PID 1 of every pod, it holds the
// pod's namespaces open, reaps orphaned children (pods that share a PID namespace) and exits
// cleanly on SIGTERM or SIGINT. The role of Kubernetes' own pause image, written here because no
// image can be pulled on this machine.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		reapChildren()
	}
}

// reapChildren collects every exited child so none stays a zombie.
func reapChildren() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
