#!/usr/bin/env bash
# The GPU checks (issue 23) on a GPU machine, each stage under its own time limit so that a slow stage leaves the
# later ones their time:
#   step    E3's Newton step taken apart at 4 096 and 65 536 seeds (scripts/bench.py --only step)
#   sweep   make gpu-sweep: E3, 10⁵ seeds × 1 000 Newton steps, one command, timed end to end
#   seeds   the seed rows against every PyTorch option on the same GPU (--only seeds --torch-device cuda)
#   widths  the width scan, dense against Krylov (--only widths)
#   peers   E3's 64 starts by jaxnewton's second-order family and the peers that are installed there (--only peers;
#           a peer that cannot run gets its row with the reason)
#   wide    issue 43's widths beyond the CPU's: 640 and 1 280 (P = 412 800 and 1 643 520), truncated damped Newton
#           (k = 50) and Newton-MR, both parametrisations, 8 seeds × 300 steps; resumable, stopped by its limit at
#           its next checkpoint; the finished cells' summaries go to $OUT/wide/ (not run yet: no GPU so far)
# Usage: OUT=folder scripts/gpu.sh [STAGE...]   (default: step sweep seeds widths; PY=interpreter with jax[cuda],
# and torch for `seeds`, default python3). Writes step.json, sweep_summary.json, seeds.json, widths.json, peers.json,
# wide/ and gpu.log into $OUT. Every stage together is past one device call's 600 s: name the stages a call runs.
set -u
PY=${PY:-python3}
OUT=${OUT:-results/gpu}
STAGES=${*:-step sweep seeds widths}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
LOG=$OUT/gpu.log
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >>"$LOG" 2>&1

stage() {  # stage NAME SECONDS COMMAND...: run it under `timeout` if asked for, its output into the log, then its time
    local name=$1 limit=$2 start=$SECONDS
    shift 2
    [[ " $STAGES " == *" $name "* ]] || return 0
    echo "== $name (limit $limit s): $*" | tee -a "$LOG"
    timeout "$limit" "$@" >>"$LOG" 2>&1
    echo "== $name: exit $? after $((SECONDS - start)) s" | tee -a "$LOG"
}

stage step 70 $PY scripts/bench.py --only step --step-seeds 4096,65536 --out "$OUT/step.json"
stage sweep 400 make gpu-sweep PY="$PY" STAMP=  # STAMP= : the machine's own Python, no .venv to set up
cp results/mlp_tanh_gpu/summary.json "$OUT/sweep_summary.json" 2>/dev/null \
    && gzip -c results/mlp_tanh_gpu/runs.csv >"$OUT/sweep_runs.csv.gz"
# PyTorch takes GPU memory as it needs it: JAX must not preallocate three quarters of the card first.
XLA_PYTHON_CLIENT_PREALLOCATE=false stage seeds 100 $PY scripts/bench.py --only seeds --torch-device cuda \
    --seeds 1024,4096,16384,65536 --loop-seeds 16 --torch-seeds 1 --torch-vmap-seeds 256,1024,4096,16384 \
    --out "$OUT/seeds.json"
stage widths 60 $PY scripts/bench.py --only widths --widths 10,20,40,80,160 --out "$OUT/widths.json"
stage peers 200 $PY scripts/bench.py --only peers --out "$OUT/peers.json"
stage wide 300 $PY -m jaxnewton run widths --out results/widths_gpu --set widths=640,1280 --set n_seeds=8,8 \
    --set max_steps=300,300 --set linear_solvers=krylov,krylov --set krylov_max_steps=300,300 \
    --set methods=truncated50,newton_mr --set path_seeds=0
for cell in results/widths_gpu.cells/*/summary.json; do
    [[ -f $cell ]] && mkdir -p "$OUT/wide" && cp "$cell" "$OUT/wide/$(basename "$(dirname "$cell")").json"
done
grep -E "^== |seed-iter/s|fastest|converged|^step |^width |Error|error" "$LOG" | tail -60
