#!/usr/bin/env bash
# A rehearsal of the prepared GPU commands' node tools on the CUDA emulator (README.md here): each tool that
# native/cuda/check/gpu-check.sh, bench/recipe-sweep.sh and bench/proxy-ranking.sh run on a GPU, at sizes the
# emulator runs in minutes, so that the few minutes of a lent GPU are not lost to a crash in a tool's CUDA-only
# paths. What the tools print here (speeds above all) means nothing; only that each one ran to the end.
#   npm run build:emu && bash native/emu/rehearse.sh OUTDIR [CIFAR_DIR]
#   VGG_CIFAR_ADDON=...  another emulator build, e.g. one with VGG_CIFAR_SANITIZE=ON (then LD_PRELOAD libasan)
# CIFAR_DIR holds cifar-10-batches-bin/ (../shared/cifar10/make-binary.sh makes one); without it the training
# tools are left out, saying so. Exits 1 when a tool failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: rehearse.sh OUTDIR [CIFAR_DIR]}
data=${2:-}
mkdir -p "$out"
export VGG_CIFAR_ADDON=${VGG_CIFAR_ADDON:-$PWD/build-emu/Release/vgg_cifar.node}
export VGG_CIFAR_PYTHON=false  # no PyTorch here: its rows say "failed", ours must not
[[ -f $VGG_CIFAR_ADDON ]] || { echo "rehearse: no emulator build at $VGG_CIFAR_ADDON (npm run build:emu)" >&2; exit 2; }
failed=0
step() {
  local name=$1 s; shift
  s=$(date +%s)
  # Sanitizer builds: node-addon-api's ObjectWrap casts to the derived class inside the base's constructor,
  # which UBSan's vptr check reports every time; that one is node-addon-api's pattern, not a fault of ours.
  if timeout 900 "$@" >"$out/$name.log" 2>&1 &&
    ! grep -E 'CUDA emulator:|AddressSanitizer|runtime error:' "$out/$name.log" | grep -qv 'node-addon-api/napi-inl.h'; then
    echo "ok      $name ($(( $(date +%s) - s )) s)"
  else
    echo "FAILED  $name ($(( $(date +%s) - s )) s): $out/$name.log"
    failed=1
  fi
}
small=(--models vgg16-bn --batches 2 --rounds 1 --warmup 1 --compile none)
step bench-gpu node dist/bench/gpu.js "${small[@]}" --precisions fp32,tf32,bf16
step profile env VGG_CIFAR_PROFILE=1 node dist/bench/gpu.js "${small[@]}" --precisions bf16 --graphs off
step optim-multi node dist/bench/optim-multi.js --steps 2 --time 1 --width-divisor 8
step elementwise node dist/bench/gpu-elementwise.js --batch 2 --reps 1 --paths ours,cudnn,cudnn-ex,auto
step ops-fp32 node dist/bench/gpu-ops.js --batch 2 --reps 1
step ops-tf32 env VGG_CIFAR_TF32=1 node dist/bench/gpu-ops.js --batch 2 --reps 1
step ops-bf16 node dist/bench/gpu-ops.js --batch 2 --reps 1 --dtype bfloat16
step ops-fused env VGG_CIFAR_CUDA_LOG=1 node dist/bench/gpu-ops.js --batch 2 --reps 1 --dtype bfloat16 --forward-only --conv legacy,fused
if [[ -n $data && -f $data/cifar-10-batches-bin/test_batch.bin ]]; then
  step train node dist/lib/cli/main.js train --data "$data" --recipe fast --epochs 2 --precision bf16 --backend cuda --width-divisor 16 \
    --limit 512 --test-limit 100 --batch-size 128 --out "$out/train-run"
  step time-to-accuracy node dist/bench/time-to-accuracy.js --data "$data" --backend cuda --width-divisor 16 --limit 512 --test-limit 100 \
    --epochs 2 --seeds 1 --pytorch none --recipes fast,speed --out "$out/tta"
else
  echo "skipped train, time-to-accuracy: no CIFAR_DIR with cifar-10-batches-bin/"
fi
exit $failed
