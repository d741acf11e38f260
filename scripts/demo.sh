#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the main job: the paper's six studies at the quick preset
# (real MNIST test digits, Boston housing, the correlated stream; see docs/RESULTS.md for its
# measured wall time), then read results/reproduce/quick/report.html.
# Extra arguments go to `coagentnet reproduce` (e.g. a study name instead of all).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$#" -eq 0 ]; then set -- all; fi
.venv/bin/coagentnet reproduce "$@" --preset quick
