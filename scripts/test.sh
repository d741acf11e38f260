#!/usr/bin/env bash
# Set up (scripts/setup.sh), lint, check formatting, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests bench scripts
.venv/bin/ruff format --check src tests bench scripts
PYTHON=.venv/bin/python bash scripts/api_docs.sh "$(mktemp -d)"   # API reference, warnings as errors
.venv/bin/python -m pytest -q "$@"
