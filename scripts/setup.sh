#!/usr/bin/env bash
# Sets up vgg-cifar from a clone on Debian or Ubuntu: the Debian packages that the build and the test
# suite need, then the npm packages (npm ci: exactly package-lock.json; it builds the native addon and
# compiles the TypeScript). The README's first command and .ci/run both run it. Running it again is
# safe: installed packages are skipped.
#
#   bash scripts/setup.sh             everything
#   bash scripts/setup.sh --no-npm    the Debian packages only
#   bash scripts/setup.sh --dry-run   print what it would run, run nothing
#   bash scripts/setup.sh --list      print the Debian packages, one a line
#
# Other distributions: install cmake, make, a C++17 compiler, oneDNN's headers, the OpenCL loader's
# headers, Chromium, a TrueType font and util-linux (Fedora: cmake make gcc-c++ onednn-devel ocl-icd-devel
# chromium dejavu-sans-fonts util-linux), Python's onnx module (pip install onnx), then run `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."

# The build: cmake-js drives cmake and make; g++ compiles the addon against oneDNN (libdnnl-dev), whose
# CMake package wants the OpenCL loader's headers (ocl-icd-opencl-dev).
BUILD_PACKAGES=(cmake make g++ libdnnl-dev ocl-icd-opencl-dev)
# The tests: headless Chromium opens report.html and the exported web page, DejaVu Sans labels the
# pictures, util-linux's `script` (bsdutils) gives the CLI a terminal, ONNX's own checker (python3-onnx)
# checks exported models (test/helpers/system-needs.ts lists what the suite needs; a test checks this
# list covers it).
TEST_PACKAGES=(chromium fonts-dejavu-core bsdutils python3-onnx)
PACKAGES=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}")
NODE_MIN=20.17  # package.json's engines

npm_step=1
dry=0
for arg in "$@"; do
  case "$arg" in
    --list) printf '%s\n' "${PACKAGES[@]}"; exit 0 ;;
    --no-npm) npm_step=0 ;;
    --dry-run) dry=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "setup: $*" >&2; exit 1; }
run() {
  echo "+ $*"
  if [ "$dry" -eq 0 ]; then "$@"; fi
}

# Node first: without it nothing below helps, and Debian 12's own nodejs (18) is too old.
if [ "$npm_step" -eq 1 ]; then
  node_version=$(node --version 2>/dev/null || true)
  node_version=${node_version#v}
  if [ -z "$node_version" ] || [ "$(printf '%s\n' "$NODE_MIN" "$node_version" | sort -V | head -1)" != "$NODE_MIN" ]; then
    fail "vgg-cifar needs Node.js $NODE_MIN or later (found ${node_version:-none}; Debian 12's nodejs package is 18):" \
      "install Node 20 or 22 from https://nodejs.org or NodeSource's Debian packages, then run this again"
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null ||
    fail "no apt-get here: this script installs Debian packages. Install the equivalents of ${missing[*]}" \
      "(see the top of scripts/setup.sh for Fedora's names), then run npm ci"
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "installing ${missing[*]} needs root: run this as root, or install sudo"
    as_root=(sudo)
  fi
  echo "setup: installing ${missing[*]}"
  # sudo resets the environment: DEBIAN_FRONTEND goes through env so no prompt can stop a CI run
  run ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  run ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages already installed (${PACKAGES[*]})"
fi

if [ "$npm_step" -eq 1 ]; then
  run npm ci --no-audit --no-fund
fi
