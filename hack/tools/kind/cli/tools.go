//go:build tools

// Package tools pins the kind CLI version; hack/kind-node-image.sh and hack/kind-e2e.sh
// build sigs.k8s.io/kind from this module so go.sum verifies it.
package tools

import _ "sigs.k8s.io/kind"
