#!/usr/bin/env bash
# `npm run fuzz`: the property tests of the request path and the bundle loader with many
# more runs than the normal suite (BOUNCER_FUZZ_RUNS, default 5000). A failure prints
# fast-check's counterexample and seed; save the body as test/fixtures/seeds/crasher-<n>.bin
# so every later test run replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/ensure-deps.sh
export BOUNCER_FUZZ_RUNS="${BOUNCER_FUZZ_RUNS:-5000}"
exec npx vitest run --project unit test/unit/protocol-properties.test.ts test/unit/bundle-fuzz.test.ts test/unit/seeds.test.ts "$@"
