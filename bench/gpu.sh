#!/usr/bin/env bash
# Every GPU measurement of docs/PERFORMANCE.md's GPU section, as one prepared run on a machine
# whose Python already has JAX (CUDA), Optax, NumPy, pandas, SciPy, scikit-learn and PyYAML:
# the project runs from this source tree (PYTHONPATH), nothing is installed.
#
#   bash bench/gpu.sh OUTDIR [BUDGET_S] [DATA_DIR]
#
# Phases run in order of importance, each under `timeout` with the smaller of its own cap and
# the time left of BUDGET_S (default 540), so the whole run ends inside it; every phase writes
# its JSON and log into OUTDIR as it goes, so a run cut short keeps what it measured.
# DATA_DIR holds Fashion-MNIST's four IDX .gz files (MNIST's shapes); without it the
# MNIST-shaped workloads train on synthetic arrays of those shapes.
# Try it on a CPU with tiny sizes: GPU_SH_TINY=1 bash bench/gpu.sh /tmp/gpu-try 300
set -uo pipefail
out=${1:?usage: bash bench/gpu.sh OUTDIR [BUDGET_S] [DATA_DIR]}
budget=${2:-540}
data_dir=${3:-}
cd "$(dirname "$0")/.."
mkdir -p "$out"
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
start_ms=$(date +%s%3N)

left_s() { echo $(( budget - ($(date +%s%3N) - start_ms) / 1000 )); }

# phase NAME CAP_S CMD...: CMD under the smaller of CAP_S and the time left; its output in
# OUTDIR/NAME.log, its exit code and wall time in OUTDIR/phases.txt.
phase() {
  local name=$1 cap=$2 left limit t0 rc
  shift 2
  left=$(left_s)
  limit=$(( cap < left ? cap : left ))
  if (( limit < 20 )); then
    echo "$name skipped: ${left} s of the budget left" | tee -a "$out/phases.txt"
    return 0
  fi
  t0=$(date +%s%3N)
  timeout -k 5 "$limit" "$@" >"$out/$name.log" 2>&1
  rc=$?
  echo "$name rc=$rc wall_s=$(( ($(date +%s%3N) - t0) / 1000 )) limit_s=$limit" \
    | tee -a "$out/phases.txt"
}

if [ -n "${GPU_SH_TINY:-}" ]; then  # a CPU rehearsal: same phases, sizes cut to seconds
  device=cpu pops_big=1,10 pops_small=1 stream=(--means 2 --batches 20 --seeds 3 --only d=0.0)
  epochs=1 img_seeds=2 short=(--steps 10 --repeats 1) ops=(--population 2 --steps 10)
else
  device=gpu pops_big=1,100,1000,10000 pops_small=10,100 stream=()
  epochs=3 img_seeds= short=() ops=(--population 200)
fi
images=(--synthetic)
if [ -n "$data_dir" ]; then images=(--data-dir "$data_dir"); fi

{
  date -u
  nvidia-smi || echo "no nvidia-smi"
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv || true
  lscpu | head -20
  $py -c "import jax, jaxlib, optax, numpy; print('jax', jax.__version__, 'jaxlib', \
jaxlib.__version__, 'optax', optax.__version__, 'numpy', numpy.__version__); \
print(jax.devices()); print([d.device_kind for d in jax.devices()])"
} >"$out/env.txt" 2>&1

# 1. The benchmark table, whole populations vmapped (member tile 0): one process per case, P
#    ascending, so the process's peak device memory at each row is that row's.
for case in mnist-1x64 mnist-3x64 correlated-1x50 correlated-3x50; do
  phase "bench-$case" 60 $py -m bench --device "$device" --inline --configs "$case" \
    --populations "$pops_big" --member-tile 0 --json "$out/bench-$case.json" "${short[@]}"
done
# 2. The stream at the authors' length, 200 seeds per population, populations vmapped.
COAGENTNET_MEMBER_TILE=0 phase stream 150 $py -m bench.workloads stream --out "$out" "${stream[@]}"
# 3. MNIST-shaped 3 x 64 off-policy, 1024-wide critics, P = 9; then the claim-2 protocol cell.
COAGENTNET_MEMBER_TILE=0 phase mnist_1024 50 $py -m bench.workloads mnist_1024 --out "$out" \
  --tag tile0 --epochs "$epochs" ${img_seeds:+--seeds $img_seeds} "${images[@]}"
COAGENTNET_MEMBER_TILE=0 phase protocol 50 $py -m bench.workloads protocol --out "$out" \
  --tag tile0 --epochs "$epochs" ${img_seeds:+--seeds $img_seeds} "${images[@]}"
COAGENTNET_MEMBER_TILE=0 phase greedy 30 $py -m bench.workloads greedy --out "$out" \
  --tag tile0 --epochs "$epochs" ${img_seeds:+--seeds $img_seeds} "${images[@]}"
# 4. The engine's default, members one after another (bitwise invariant), at small P.
phase bench-tile1 60 $py -m bench --device "$device" --inline \
  --configs mnist-1x64,mnist-3x64,correlated-1x50,correlated-3x50 \
  --populations "$pops_small" --member-tile 1 --json "$out/bench-tile1.json" "${short[@]}"
COAGENTNET_MEMBER_TILE=1 phase protocol-tile1 30 $py -m bench.workloads protocol --out "$out" \
  --tag tile1 --epochs 2 ${img_seeds:+--seeds $img_seeds} "${images[@]}"
# 5. Where the stream's REINFORCE step spends its time on this device.
COAGENTNET_MEMBER_TILE=0 phase ops-correlated 30 $py -m bench.ops correlated-1x50 "${ops[@]}"
echo "done in $(( ($(date +%s%3N) - start_ms) / 1000 )) s" | tee -a "$out/phases.txt"
