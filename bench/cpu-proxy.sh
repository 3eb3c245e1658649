#!/usr/bin/env bash
# Usage: bench/cpu-proxy.sh OUTDIR [DATA]
# Issue 16's CPU proxy for choosing among candidate recipes where no GPU is at hand: the same recipes on
# VGG16-BN with every conv width divided by 4 (1/16 of the FLOPs) over the full data, on the CPU backend,
# ours only. Whether its ranking of the candidates carries over to the full width is for a GPU run to
# measure (bench/README-recipes.md): until then it ranks, it does not choose.
# Cost on this 2-core CPU: see bench/README-recipes.md (tens of minutes per candidate at 30 epochs):
# EPOCHS, LIMIT, SEEDS and RECIPES shorten it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/cpu-proxy.sh OUTDIR [DATA]}
source bench/recipe-data.sh
recipe_data "$out" "${2:-}"
exec node dist/bench/time-to-accuracy.js --data "$data" --out "$out" --backend cpu --width-divisor 4 --pytorch none \
  --seeds "${SEEDS:-1}" --epochs "${EPOCHS:-30}" --recipes "${RECIPES:-fast-b128-lr0.02,fast,fast-b512-lr0.2,fast-b256-lr0.2}" \
  ${LIMIT:+--limit "$LIMIT"} ${TEST_LIMIT:+--test-limit "$TEST_LIMIT"}
