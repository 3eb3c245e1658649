#!/usr/bin/env bash
# Usage: bench/proxy-ranking.sh OUTDIR [DATA]
# Issue 16: does the width / 4 proxy rank candidate recipes as the full-width network does? On one GPU,
# the same candidates (one seed, TF32, ours only) at --width-divisor 4 (OUTDIR/w4) and at full width
# (OUTDIR/w1), then bench/proxy-ranking.js ranks them beside the CPU proxy's measured figures
# (bench/recipes/cpu-proxy-results.json) and says how many pairs each proxy orders as the full width
# does: OUTDIR/ranking.md, printed last. Budgets keep it under 8 minutes on one H100/H200 (expected at
# the speeds of 2026-12-04: width / 4 ~25 s a run, full width 60-80 s a run: ~6 minutes); a cut run is
# listed as not finished and left out of the ranking. RECIPES, W4_BUDGET_S and W1_BUDGET_S change it.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/proxy-ranking.sh OUTDIR [DATA]}
source bench/recipe-data.sh
recipe_data "$out" "${2:-}"
[[ -f dist/bench/proxy-ranking.js ]] || { echo "proxy-ranking: dist/ is not built (npm run build:ts)" >&2; exit 1; }
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >&2 || true
recipes=${RECIPES:-fast-b128-lr0.02,fast-tf32,fast-ema0.995,fast-plain2}
common=(--data "$data" --backend cuda --seeds 1 --pytorch none --recipes "$recipes")
node dist/bench/time-to-accuracy.js "${common[@]}" --out "$out/w4" --width-divisor 4 --budget-s "${W4_BUDGET_S:-130}" || echo "proxy-ranking: the width / 4 runs exited with $?" >&2
node dist/bench/time-to-accuracy.js "${common[@]}" --out "$out/w1" --budget-s "${W1_BUDGET_S:-300}" || echo "proxy-ranking: the full-width runs exited with $?" >&2
node dist/bench/proxy-ranking.js --sets "cpu-w4=bench/recipes/cpu-proxy-results.json,gpu-w4=$out/w4,gpu-w1=$out/w1" --reference gpu-w1 --out "$out/ranking.md"
