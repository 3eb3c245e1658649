#!/usr/bin/env bash
# The "here" half of the prepared GPU check: builds, then packs for the device run (../shared/gpu/pack.sh)
# only what it loads — the addon, dist/, and node_modules without TensorFlow.js, TypeScript, Playwright,
# ONNX Runtime Web (145 MB; only `export --format web` reads it) and the build-only packages — with the CIFAR-10 archive, recompressed so that .gpu/ fits the run's
# 64 MiB carry (all of node_modules made it 105 MB). Then, on the device:
#   run(carry: [".gpu"]): bash .gpu/run.sh bash native/cuda/check/gpu-check.sh OUTDIR
set -euo pipefail
cd "$(dirname "$0")/../../.."
npx cmake-js compile >/dev/null
npx tsc -p tsconfig.json
skip='^node_modules/(@tensorflow|@types|@xterm)(/|$)|^node_modules/(typescript|playwright-core|cmake-js|node-api-headers|node-addon-api|onnxruntime-web|onnxruntime-common)$'
mapfile -t modules < <(ls -d node_modules/.bin node_modules/* node_modules/@*/* | grep -v '^node_modules/@[^/]*$' | grep -Ev "$skip")
bash ../shared/gpu/pack.sh --data build/Release/vgg_cifar.node dist "${modules[@]}" >/dev/null
xz -dc .gpu/tree.tar.xz | xz -T2 -9 > .gpu/tree.tar.xz.new
mv .gpu/tree.tar.xz.new .gpu/tree.tar.xz
limit=$((64 * 1024 * 1024))
total=$(du -cb .gpu/* | tail -1 | cut -f1)
du -b .gpu/* | awk '{printf "  %6.1f MB  %s\n", $1 / 1e6, $2}'
if ((total > limit)); then
  echo "native/cuda/check/pack.sh: .gpu/ holds $total bytes, over the device run's carry of $limit" >&2
  exit 1
fi
echo ".gpu/: $total bytes of the $limit a device run carries"
