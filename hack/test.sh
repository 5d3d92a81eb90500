#!/usr/bin/env bash
# The whole test suite: installs what it needs on first use (npm dependencies, OPA,
# etcd and kube-apiserver built from the Go module proxy), then lint, typecheck, unit
# and e2e tests against a real local control plane; then the unit tests again on the
# container image's Node 24, and the container image end to end (hack/test-image.sh: skipped
# with a message where no Docker engine can be had; CI=true or BOUNCER_INSTALL_DOCKER=1, as
# root, let it install and start one).
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/ensure-deps.sh
bash hack/ensure-tools.sh all >/dev/null
npm run -s build
npm run -s lint
npm run -s typecheck
report=$(mktemp -t bouncer-vitest-XXXXXX.json)
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# Only for a whole run: arguments narrow the run to what they name.
if [ "$#" -eq 0 ]; then
  bash hack/test-node24.sh || status=$?
  bash hack/test-image.sh || status=$?
fi
# One plain closing line that any CI can read.
# shellcheck disable=SC2016 # JavaScript, not shell: the ${...} are template literals.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" || true
exit "$status"
