#!/usr/bin/env bash
# Carry an unfinished protocol batch into the repository (issue 21), so that a fresh machine can
# resume it from the pinned commit (experiments/protocol/README.md, "Resume").
#
#   scripts/protocol_carry.sh STORE DEST
#
# e.g. scripts/protocol_carry.sh /work/runs/results/claim2-locked.sqlite results/protocol/locked
#
# Writes into DEST (then `git add DEST` and commit):
#   records/                        one compact record per complete run (coagentnet export --records)
#   checkpoints/<population>.npz.gz the batch's latest checkpoints, gzip'd (gzip -n: stable bytes)
#   <store name>.gz                 a consistent copy of the store (SQLite's backup API), gzip'd;
#                                   it holds the complete runs, so they are not trained again
# Safe while the batch runs: the store is copied through SQLite (never cp of a WAL database),
# and a checkpoint is replaced by an atomic rename, so gzip reads a whole old or new file.
set -euo pipefail
store=$1 dest=$2
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python}
export PYTHONPATH="$here/src${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$dest/checkpoints"
"$py" -c "import sys; from coagentnet.cli import main; sys.argv[0]='coagentnet'; sys.exit(main())" \
  export "$store" --records "$dest/records"
rm -f "$dest"/checkpoints/*.npz.gz  # finished populations' checkpoints are gone from the batch too
for f in "$store".checkpoints/*.npz; do
  [ -e "$f" ] || continue
  gzip -9 -n -c "$f" > "$dest/checkpoints/$(basename "$f").gz"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" - "$store" "$tmp/store.sqlite" <<'PY'
import sqlite3, sys, urllib.parse
src = sqlite3.connect("file:" + urllib.parse.quote(sys.argv[1]) + "?mode=ro", uri=True)
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
dst.close()
PY
gzip -9 -n -c "$tmp/store.sqlite" > "$dest/$(basename "$store").gz"
du -sh "$dest"/* "$dest"/checkpoints/* 2>/dev/null
