// Command pause is the pod sandbox's process for the kind node image built by
// hack/kind-node-image.sh: it holds the pod's namespaces open, reaps the zombies it
// inherits as PID 1 of the pod, and exits on SIGINT or SIGTERM — what upstream's pause
// (a C program in kubernetes/build/pause) does, written in Go so it builds from the
// module proxy's toolchain alone and runs FROM scratch.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println("pause (bouncer kind node image)")
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			fmt.Fprintf(os.Stderr, "Shutting down, got signal: %v\n", sig)
			os.Exit(0)
		}
		// Reap every exited child; WNOHANG so a signal for several children is not lost.
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
