#!/usr/bin/env bash
# `npm start`: installs what is missing, then runs bouncer against a local control plane (hack/run.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/ensure-deps.sh
npm run -s build
exec node --import tsx hack/run.ts
