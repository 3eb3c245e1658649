#!/usr/bin/env bash
# The prepared GPU check of the CUDA backend, one call on a GPU machine (see ../shared/gpu/README.md):
#   here:  bash native/cuda/check/pack.sh   (builds; packs .gpu/ within the device run's 64 MiB carry)
#   there: bash .gpu/run.sh bash native/cuda/check/gpu-check.sh
# 1. checks native/cuda/api.h against the real cudnn.h / cublas_v2.h of the machine's nvidia wheels,
# 2. prints the cuda backend's status, 3. runs `npm run test:gpu`, 4. prints a short table last.
set -uo pipefail
cd "$(dirname "$0")/../../.."
card=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
nv=${NVIDIA_WHEELS_DIR:-}
inc=()
for d in "$nv"/cudnn/include "$nv"/cu13/include "$nv"/cublas/include /usr/local/cuda/include; do [[ -d $d ]] && inc+=(-I "$d"); done
api="not run (no real headers)"
if ls "$nv"/cudnn/include/cudnn.h >/dev/null 2>&1; then
  if c++ -std=c++17 -fsyntax-only -Wno-deprecated-declarations -I native "${inc[@]}" native/cuda/check/api_check.cc 2>/tmp/api_check.log; then
    api="ok (cuDNN $(grep -hE '#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) ' "$nv"/cudnn/include/cudnn_version.h | awk '{print $3}' | paste -sd.))"
  else
    api="FAILED: $(grep -o 'api.h: [^"]*' /tmp/api_check.log | head -5 | tr '\n' ';')"
  fi
fi
status=$(node -e "const b=require('./build/Release/vgg_cifar.node').backends()[1]; console.log(b.available ? 'available: ' + b.description : 'UNAVAILABLE: ' + b.reason)")
echo "$status"
start=$(date +%s)
VGG_CIFAR_GPU_TESTS=1 VGG_CIFAR_CUDA_LOG=1 npx vitest run test/cuda test/native/cuda-status.test.ts 2>&1 | tee /tmp/gpu-tests.log | tail -40
# Convolution speed per VGG16 layer (needs dist/: npx tsc -p tsconfig.json before packing).
if [[ -f dist/bench/gpu-ops.js ]]; then
  node dist/bench/gpu-ops.js --batch 128 2>&1 | tee /tmp/gpu-ops.md | tail -16
  VGG_CIFAR_TF32=1 node dist/bench/gpu-ops.js --batch 128 2>&1 | tee /tmp/gpu-ops-tf32.md | tail -1
  node dist/bench/gpu-ops.js --batch 128 --dtype bfloat16 2>&1 | tee /tmp/gpu-ops-bf16.md | tail -16
fi
tests=$(sed 's/\x1b\[[0-9;]*m//g' /tmp/gpu-tests.log | grep -E '^ *Tests ' | tail -1)
echo
echo "| check            | result"
echo "|------------------|-------"
echo "| card             | ${card:-no nvidia-smi}"
echo "| api.h vs headers | $api"
echo "| cuda status      | $status"
echo "| GPU tests        | ${tests:-none ran} ($(( $(date +%s) - start )) s)"
echo "| fp32 fallbacks   | $(grep -c 'through fp32 NCHW copies' /tmp/gpu-tests.log) cuDNN refusals of bf16/nhwc pooling or BatchNorm (lines in /tmp/gpu-tests.log)"
echo "| NCHW bf16 convs  | $(grep -c 'now runs in bf16 NCHW' /tmp/gpu-tests.log) bf16 convolutions cuDNN had no NHWC algorithm for"
echo "| convs fp32       | $(tail -1 /tmp/gpu-ops.md 2>/dev/null)"
echo "| convs TF32       | $(tail -1 /tmp/gpu-ops-tf32.md 2>/dev/null)"
echo "| convs bf16       | $(tail -1 /tmp/gpu-ops-bf16.md 2>/dev/null)"
