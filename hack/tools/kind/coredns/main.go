// Command coredns is CoreDNS at the version kubeadm pins for the Kubernetes version of the
// kind node image (hack/kind-node-image.sh), with the plugins of kubeadm's default Corefile
// only (errors, health, ready, kubernetes, prometheus, forward, cache, loop, reload,
// loadbalance) instead of CoreDNS's full set, which would pull every cloud SDK into the build.
// Registering a plugin is an import, as in CoreDNS's own core/plugin/zplugin.go.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func main() {
	coremain.Run()
}
