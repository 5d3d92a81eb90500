//go:build tools

// Package tools pins Gatekeeper at one version for two binaries that hack/ensure-tools.sh builds
// from this module (so go.sum verifies them):
//   - gator (cmd/gator), Gatekeeper's CLI: tests compare `bouncer verify` with `gator verify` on
//     the project's own suites, and bench/gatekeeper.ts times `gator bench`;
//   - the manager (the module's root package), Gatekeeper's webhook itself:
//     bench/gatekeeper-webhook.ts runs it beside bouncer on the same constraints.
package tools

import (
	_ "github.com/open-policy-agent/gatekeeper/v3"
	_ "github.com/open-policy-agent/gatekeeper/v3/cmd/gator"
)
