#!/usr/bin/env bash
# Build the API reference from the docstrings with pdoc (the docs extra) into docs/api/ (or the
# folder given). Any warning pdoc raises (a broken cross-reference, a module that fails to
# import) is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/api}"
PY="${PYTHON:-.venv/bin/python}"
PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" COAGENTNET_CPU_DEVICES=1 \
  "$PY" -W error -m pdoc --docformat google -o "$out" coagentnet
echo "api docs: $out/index.html"
