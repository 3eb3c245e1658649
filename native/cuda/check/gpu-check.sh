#!/usr/bin/env bash
# The prepared GPU check of the CUDA backend, one call on a GPU machine (see ../shared/gpu/README.md):
#   here:  bash native/cuda/check/pack.sh          (builds; packs .gpu/ within the device run's 64 MiB carry)
#   there: bash .gpu/run.sh bash native/cuda/check/gpu-check.sh OUTDIR [STEPS]
# Everything it prints goes to OUTDIR (one log per step, summary.md last). STEPS (default all) is a
# comma-separated subset of: api,tests,bench,profile,elementwise,ops,train, run in that order (most needed
# first). Tools are called through `node` (the packed run has no npx). The whole check keeps within
# GPU_CHECK_BUDGET seconds (default 450, so that one call fits a device run of 8 minutes with the unpacking):
# each step's time limit is cut to what is left, and a step with too little left is skipped, saying so.
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=${1:?usage: gpu-check.sh OUTDIR [STEPS]}
steps=${2:-api,tests,bench,profile,elementwise,ops,train}
mkdir -p "$out"
has() { [[ ",$steps," == *",$1,"* ]]; }
t0=$(date +%s)
rows=()
row() { rows+=("| $1 | $2 |"); echo "gpu-check: $1: $2" >&2; }
took() { echo "$(( $(date +%s) - $1 )) s"; }
budget=${GPU_CHECK_BUDGET:-450}
left() { echo $(( budget - ($(date +%s) - t0) )); }
# cap N: N seconds, or what is left of the budget when less
cap() { local l; l=$(left); (( $1 < l )) && echo "$1" || echo $(( l > 1 ? l : 1 )); }
# room N STEP: true when at least N seconds are left; else the step is reported skipped
room() { (( $(left) >= $1 )) && return 0; row "$2" "skipped: $(left) s of the $budget s budget left"; return 1; }

card=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
row card "${card:-no nvidia-smi}"
status=$(node -e "const b=require('./build/Release/vgg_cifar.node').backends()[1]; console.log(b.available ? 'available: ' + b.description : 'UNAVAILABLE: ' + b.reason)")
row "cuda status" "$status"

if has api && room 5 api; then
  nv=${NVIDIA_WHEELS_DIR:-}
  inc=()
  for d in "$nv"/cudnn/include "$nv"/cu13/include "$nv"/cublas/include /usr/local/cuda/include; do [[ -d $d ]] && inc+=(-I "$d"); done
  if ls "$nv"/cudnn/include/cudnn.h >/dev/null 2>&1; then
    if c++ -std=c++17 -fsyntax-only -Wno-deprecated-declarations -I native "${inc[@]}" native/cuda/check/api_check.cc 2>"$out/api-check.log"; then
      row "api.h vs headers" "ok (cuDNN $(grep -hE '#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) ' "$nv"/cudnn/include/cudnn_version.h | awk '{print $3}' | paste -sd.))"
    else
      row "api.h vs headers" "FAILED: $(grep -o 'api.h: [^"]*' "$out/api-check.log" | head -5 | tr '\n' ';')"
    fi
  else
    row "api.h vs headers" "not run (no real headers)"
  fi
fi

if has tests && room 60 tests; then
  s=$(date +%s)
  VGG_CIFAR_GPU_TESTS=1 VGG_CIFAR_CUDA_LOG=1 timeout $(cap 200) node node_modules/vitest/vitest.mjs run test/cuda test/native/cuda-status.test.ts \
    test/native/batchnorm.test.ts test/native/pool.test.ts test/native/conv.test.ts test/native/optim-multi.test.ts >"$out/gpu-tests.log" 2>&1
  rc=$?
  sed -i 's/\x1b\[[0-9;]*m//g' "$out/gpu-tests.log"
  row "GPU tests" "$(grep -E '^ *Tests ' "$out/gpu-tests.log" | tail -1 | sed 's/^ *//') (rc $rc, $(took "$s"))"
  row "failed tests" "$(grep -E '^ *(FAIL|×)' "$out/gpu-tests.log" | head -8 | sed 's/^ *//' | tr '\n' ';' | cut -c1-600)"
  row "fp32 fallbacks" "$(grep -c 'through fp32 NCHW copies' "$out/gpu-tests.log") cuDNN refusals of bf16/nhwc pooling or BatchNorm"
  row "cudnn-ex in tests" "$(grep -E 'cudnn-ex: ran through cuDNN' "$out/gpu-tests.log" | head -1 | cut -c1-600)"
  row "NCHW bf16 convs" "$(grep -c 'now runs in bf16 NCHW' "$out/gpu-tests.log") bf16 convolutions cuDNN had no NHWC algorithm for"
  row "fused convs in tests" "$(grep -E 'convFused: ran fused' "$out/gpu-tests.log" | head -1 | cut -c1-600)"
  row "auto picks in tests" "$(grep -oE 'tuned [^:]*: .* -> [a-z-]+' "$out/gpu-tests.log" | grep -oE -- '-> [a-z-]+$' | sort | uniq -c | tr '\n' ';'); left out: $(grep -oE 'left out \([^)]*' "$out/gpu-tests.log" | sort | uniq -c | head -4 | tr '\n' ';' | cut -c1-400)"
fi

if has bench && room 90 bench && [[ -f dist/bench/gpu.js ]]; then
  s=$(date +%s)
  # Ours with and without CUDA graphs, eager PyTorch for every row, and torch.compile(mode="reduce-overhead"), the best
  # PyTorch has (its own CUDA graphs), for the bf16 rows at batch 512: ~40 s of compiling each.
  timeout $(cap 300) node dist/bench/gpu.js ${VGG_CIFAR_BENCH_ARGS:---rounds 10 --warmup 3 --compile reduce-overhead --compile-batches 512} \
    >"$out/bench-gpu.md" 2>"$out/bench-gpu.err"
  row "bench/gpu.js" "rc $? in $(took "$s") (table in bench-gpu.md)"
  row "graphs / eager (ours)" "$(grep -E '^\| vgg-cifar eager' "$out/bench-gpu.md" | awk -F'|' '{gsub(/ /,"",$3); gsub(/ /,"",$4); gsub(/ /,"",$5); printf "%s %s b%s %s;", $4, $3, $5, $7}')"
  row "graph notes" "$(grep -oE 'ran eagerly: [^|]*|CUDA graphs are [^|]*' "$out/bench-gpu.md" | sort | uniq -c | head -3 | tr '\n' ';' | cut -c1-400)"
  if [[ -f dist/bench/optim-multi.js ]]; then
    timeout $(cap 90) node dist/bench/optim-multi.js >"$out/optim-multi.md" 2>&1
    row "optimizer step, per-tensor vs multi" "rc $?: $(grep -E '^\| cuda \|' "$out/optim-multi.md" | awk -F'|' '{printf "%s %s/%s ms (%s);", $3, $5, $6, $7}')"
  fi
fi

if has profile && room 40 profile && [[ -f dist/bench/gpu.js ]]; then
  VGG_CIFAR_PROFILE=1 timeout $(cap 120) node dist/bench/gpu.js --models vgg16-bn --batches 512 --precisions bf16 --compile none --graphs off --rounds 10 \
    >"$out/profile-bf16-bn-b512.md" 2>&1
  row "profile" "rc $? (profile-bf16-bn-b512.md)"
fi

if has elementwise && room 60 elementwise && [[ -f dist/bench/gpu-elementwise.js ]]; then
  # One child process per NHWC path (ours, cuDNN's legacy calls, the cudnn-ex candidate, and auto: the default,
  # which tunes per shape among them), side by side.
  for b in 128 512; do
    timeout $(cap 300) node dist/bench/gpu-elementwise.js --batch $b --paths ours,cudnn,cudnn-ex,auto >"$out/elementwise-b$b.md" 2>&1
    row "BN+pool+db b$b" "$(grep -E '^(## VGG_CIFAR_CUDA_NHWC=|bfloat16:)' "$out/elementwise-b$b.md" | tr '\n' ';')"
    row "nhwc bn, pool totals b$b" "$(grep -A2 -E '^\| layer \| C@HW \| bn ours' "$out/elementwise-b$b.md" | head -1) $(grep -E '^\| total \| \|' "$out/elementwise-b$b.md" | tail -1)"
    row "cudnn-ex b$b" "$(grep -E '^cudnn-ex: ' "$out/elementwise-b$b.md" | head -1 | cut -c1-600)"
    row "auto picks b$b" "$(grep -E '^auto: ' "$out/elementwise-b$b.md" | head -1 | grep -oE '(bfloat16|float32)\[[0-9,]+\]nhwc [^:]*|-> [a-z-]+' | paste -sd' ' | cut -c1-700)"
  done
fi

if has ops && room 40 ops && [[ -f dist/bench/gpu-ops.js ]]; then
  timeout $(cap 60) node dist/bench/gpu-ops.js --batch 128 >"$out/gpu-ops-fp32-b128.md" 2>&1
  VGG_CIFAR_TF32=1 timeout $(cap 60) node dist/bench/gpu-ops.js --batch 128 >"$out/gpu-ops-tf32-b128.md" 2>&1
  for b in 128 512; do timeout $(cap 60) node dist/bench/gpu-ops.js --batch $b --dtype bfloat16 >"$out/gpu-ops-bf16-b$b.md" 2>&1; done
  for f in fp32-b128 tf32-b128 bf16-b128 bf16-b512; do row "convs $f" "$(grep -E '^All 13 layers' "$out/gpu-ops-$f.md" | tail -1)"; done
  # The fused conv + bias + ReLU candidate beside the legacy path: forwards only, one child per choice.
  if room 20 "conv legacy vs fused"; then
    VGG_CIFAR_CUDA_LOG=1 timeout $(cap 60) node dist/bench/gpu-ops.js --batch 512 --reps 10 --dtype bfloat16 --forward-only --conv legacy,fused \
      >"$out/gpu-ops-fused-bf16-b512.md" 2>&1
    row "conv fwd legacy vs fused b512" "rc $?: $(grep -E '^\| total \| \|' "$out/gpu-ops-fused-bf16-b512.md" | tail -1)"
    row "fused plans" "$(grep -E '^fused: ' "$out/gpu-ops-fused-bf16-b512.md" | head -1 | cut -c1-600)"
  fi
fi

if has train && room 60 train && [[ -f .gpu/data/cifar-10-batches-bin/test_batch.bin ]]; then
  s=$(date +%s)
  timeout $(cap 120) node dist/lib/cli/main.js train --data .gpu/data --recipe fast --epochs 2 --precision bf16 --backend cuda \
    --out "$out/train-bf16" >"$out/train-bf16.log" 2>&1
  row "train fast bf16 2 ep" "rc $? in $(took "$s"): $(grep -iE 'test acc|accuracy' "$out/train-bf16.log" | tail -1 | cut -c1-160)"
fi

{
  echo "# gpu-check $(date -u +%FT%TZ), $(took "$t0")"
  echo
  echo "| check | result |"
  echo "|---|---|"
  printf '%s\n' "${rows[@]}"
  [[ -f $out/bench-gpu.md ]] && { echo; cat "$out/bench-gpu.md"; }
} >"$out/summary.md"
cat "$out/summary.md"
