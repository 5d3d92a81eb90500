//go:build tools

// Package tools pins the OPA CLI version; hack/ensure-tools.sh builds
// github.com/open-policy-agent/opa from this module so go.sum verifies it.
package tools

import _ "github.com/open-policy-agent/opa"
