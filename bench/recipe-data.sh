# Sourced by bench/recipe-sweep.sh and bench/cpu-proxy.sh: sets $data to a folder holding
# cifar-10-batches-bin/: $2 when given, else OUTDIR-data made once from the shared CIFAR-10 copy.
recipe_data() {
  local out=$1
  data=${2:-}
  [[ -n $data ]] && return 0
  data=$out-data
  local make
  make=$(ls ../shared/cifar10/make-binary.sh shared/cifar10/make-binary.sh 2>/dev/null | head -1 || true)
  [[ -d $data/cifar-10-batches-bin ]] || { [[ -n $make ]] && "$make" "$data" >&2; } || { echo "no DATA given and no shared/cifar10/make-binary.sh" >&2; exit 1; }
}
