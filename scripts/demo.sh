#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the main job: every rule on real 8x8 digits, 3 seeds each.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/coagentnet train --layers 2 --units 64 --batch-size 8 --lr 0.0078125 --epochs 30 --seeds 3 \
  --rule backprop,straight_through,straight_through_gated,reinforce,actor_critic,off_policy,mc_critic \
  "$@"
