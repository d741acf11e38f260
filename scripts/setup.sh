#!/usr/bin/env bash
# Create .venv and install coagentnet with its test, Ray, Parquet, TensorBoard and docs extras
# (CPU JAX). COAGENTNET_CONSTRAINTS=constraints.txt pins every package to the versions
# docs/RESULTS.md was measured with.
# Also installs Debian's Fashion-MNIST files, and Chromium (the report test opens the HTML
# report headless), when run as root with apt-get available.
set -euo pipefail
cd "$(dirname "$0")/.."
if { [ ! -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ] \
      || ! command -v chromium >/dev/null; } \
    && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      dataset-fashion-mnist chromium) \
    >/dev/null || echo "setup: could not install dataset-fashion-mnist/chromium; their tests will be skipped" >&2
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
pins=()
if [ -n "${COAGENTNET_CONSTRAINTS:-}" ]; then pins=(-c "$COAGENTNET_CONSTRAINTS"); fi
.venv/bin/python -m pip install -q "${pins[@]}" -e ".[test,ray,parquet,tensorboard,docs]"
