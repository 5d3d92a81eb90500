//go:build tools

// Package tools pins gator (Gatekeeper's CLI); hack/ensure-tools.sh builds
// github.com/open-policy-agent/gatekeeper/v3/cmd/gator from this module so go.sum verifies it.
// Tests compare `bouncer verify` with `gator verify` on the project's own suites.
package tools

import _ "github.com/open-policy-agent/gatekeeper/v3/cmd/gator"
