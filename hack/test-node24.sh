#!/usr/bin/env bash
# The unit tests on the Node the container image runs (Node 24, hack/ensure-node.sh), in
# addition to the development Node that `npm test` uses: vitest and its workers run on that
# binary (vitest forks its workers with the running node). Arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
node24=$(bash hack/ensure-node.sh | sed -n 's/^NODE24=//p')
echo "[test-node24] unit tests on $("$node24" --version)" >&2
# PATH first: anything a test spawns as `node` is Node 24 too.
PATH="$(dirname "$node24"):$PATH" exec "$node24" node_modules/vitest/vitest.mjs run --project unit "$@"
