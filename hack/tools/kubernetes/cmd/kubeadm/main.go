// Command kubeadm is the upstream cluster bootstrapper, built from the k8s.io/kubernetes
// module for the kind node image (see hack/kind-node-image.sh).
package main

import (
	"k8s.io/kubernetes/cmd/kubeadm/app"
	utilerrors "k8s.io/kubernetes/cmd/kubeadm/app/util/errors"
)

func main() {
	utilerrors.HandleError(app.Run())
}
