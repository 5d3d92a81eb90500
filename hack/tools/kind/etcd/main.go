// Command etcd is the upstream etcd server at the version kubeadm pins for the Kubernetes
// version of the kind node image (hack/kind-node-image.sh), so the image tag kubeadm asks
// for holds exactly that release. The test control plane's etcd (hack/tools/etcd) is
// pinned separately.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
