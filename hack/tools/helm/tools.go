//go:build tools

// Package tools pins Helm; hack/ensure-tools.sh builds helm.sh/helm/v4/cmd/helm from this module
// so go.sum verifies it. Tests lint, render, install, upgrade and uninstall charts/bouncer with it.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
