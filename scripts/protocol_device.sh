#!/usr/bin/env bash
# Claim-2 protocol presets on a GPU machine lent for a few minutes (issue 21), in one call:
#
#   OUT=DIR BUDGET_S=540 scripts/protocol_device.sh
#
# - GPU, one population per rule (5 seeds vmapped, COAGENTNET_MEMBER_TILE=0), in order:
#   $GPU_PRESETS (default `locked4 locked`), each under the time left;
# - at the same time, on the machine's other CPU cores, $CPU_PRESETS (default `digits`), one
#   process per run: a second CPU model for the cross-machine check of issue 21, item 5.
# Every preset's store is exported to compact records (coagentnet export --records) as soon as
# it ends or is stopped, so runs cut short lose only themselves; everything is tarred into
# $OUT/protocol-device.tar.gz and everything, stores included, into protocol-device-all.tar.gz (the device
# tool returns at most 8 files).
# Fashion-MNIST is read from ./.fmnist when present (COAGENTNET_DATA_DIR), else the system copy.
# CLAIM2=FILE runs another sweep file (a small one rehearses this script on a CPU).
set -u
out=${OUT:?set OUT to the output folder}
budget=${BUDGET_S:-540}
gpu_presets=${GPU_PRESETS-locked4 locked}
cpu_presets=${CPU_PRESETS-digits}
claim2=${CLAIM2:-experiments/protocol/claim2.yaml}
py=${PYTHON:-python3}
start=$(date +%s)
work=$out/protocol-device
mkdir -p "$work"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
[ -d .fmnist ] && export COAGENTNET_DATA_DIR="$PWD/.fmnist"
cn() { "$py" -c "import sys; from coagentnet.cli import main; sys.argv[0]='coagentnet'; sys.exit(main())" "$@"; }
left() { echo $(( budget - ($(date +%s) - start) )); }
export_records() {  # PRESET TAG: records of the complete runs, never fatal
  [ -f "$work/$2-$1.sqlite" ] && cn export "$work/$2-$1.sqlite" --records "$work/records/$2-$1" \
    >>"$work/log-$2-$1.txt" 2>&1
}

{ date -u; nvidia-smi -L 2>&1; lscpu 2>&1 | grep -E 'Model name|^CPU\(s\)|Flags' | cut -c1-400
  "$py" -c "import jax; print(jax.__version__, jax.devices())" 2>&1; } >"$work/env.txt"
ncpu=$(nproc) pin_gpu="" pin_cpu="" workers=1
if [ "$ncpu" -gt 4 ]; then pin_gpu="taskset -c 0-1" pin_cpu="taskset -c 2-$((ncpu - 1))" workers=$((ncpu - 2)); fi

# CPU presets in the background, on every core but the first two (which feed the GPU).
(
  for p in $cpu_presets; do
    t=$(( $(left) - 40 )); [ "$t" -gt 30 ] || break
    JAX_PLATFORMS=cpu XLA_FLAGS="--xla_cpu_multi_thread_eigen=false" \
      timeout "$t" $pin_cpu "$py" -c "import sys; from coagentnet.cli import main; sys.argv[0]='coagentnet'; sys.exit(main())" \
      sweep "$claim2" --preset "$p" --store "$work/cpu-$p.sqlite" --backend process \
      --workers "$workers" --max-population 1 --no-progress --checkpoint-every 60 \
      >"$work/log-cpu-$p.txt" 2>&1
    echo "cpu $p exit $? at $(( $(date +%s) - start )) s" >>"$work/phases.txt"
    export_records "$p" cpu
  done
) &
cpu_job=$!

for p in $gpu_presets; do
  t=$(( $(left) - 40 )); [ "$t" -gt 30 ] || { echo "gpu $p skipped: no time" >>"$work/phases.txt"; continue; }
  COAGENTNET_MEMBER_TILE=0 timeout "$t" $pin_gpu "$py" -c "import sys; from coagentnet.cli import main; sys.argv[0]='coagentnet'; sys.exit(main())" \
    sweep "$claim2" --preset "$p" --store "$work/gpu-$p.sqlite" --backend local \
    --no-progress --checkpoint-every 60 >"$work/log-gpu-$p.txt" 2>&1
  echo "gpu $p exit $? at $(( $(date +%s) - start )) s" >>"$work/phases.txt"
  export_records "$p" gpu
done
wait "$cpu_job"
rm -rf "$work"/*.checkpoints  # a GPU population cut short is not resumed elsewhere
# The records and logs in one file; everything with the stores (tens of MB for 1M-update runs) in another,
# which the device tool leaves behind if it passes its 16 MiB a file.
tar -C "$out" -czf "$out/protocol-device.tar.gz" --exclude='*.sqlite*' protocol-device
tar -C "$out" -czf "$out/protocol-device-all.tar.gz" protocol-device
rm -rf "$work"
echo "done in $(( $(date +%s) - start )) s"
