// Command etcd is the upstream etcd server, built from go.etcd.io/etcd/server/v3 for the
// test control plane. It lives in its own module because its grpc/otel pins differ
// from Kubernetes'.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
