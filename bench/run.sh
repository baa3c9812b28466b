#!/usr/bin/env bash
# bench/run.sh — builds and runs the whole benchmark suite on this machine, in
# one go, single-threaded: metagrad (static, dynamic, bridge, the plain value
# and hand-written gradients) and every peer whose Debian package installs
# (libtorch, ADOL-C, Sacado, Eigen AutoDiff, Ceres Jet). Every engine's
# gradient is checked against the hand-written one before it is timed; a
# wrong gradient makes this script fail.
# Writes bench/results/<engine>.json, bench/results/results.csv,
# bench/results/table.md (ratios and targets), bench/results/vmath.md (the
# vectorised elementary functions' speed and accuracy) and docs/bench.png.
#   MIN_TIME=0.2 (seconds per benchmark), REPETITIONS=5 (the tables report
#   each benchmark's median), FILTER=regex (benchmark names)
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(cmake g++ clang make libboost-dev libeigen3-dev libbenchmark-dev python3-matplotlib
          libtorch-dev libadolc-dev libboost-system-dev libceres-dev
          libtrilinos-sacado-dev libtrilinos-kokkos-dev libtrilinos-teuchos-dev libopenmpi-dev
          libsleef-dev libhwy-dev)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # Peers are optional: whatever fails to install is skipped by CMake.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null ||
    for p in "${missing[@]}"; do DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$p" >/dev/null || true; done
fi
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# glibc keeps freed memory instead of unmapping it: a fresh page faults on
# first touch (about 15 us each on our VMs), which would otherwise dominate
# every engine that allocates large results per call. Same for every engine.
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=4294967296
# (every option explicit: ./dev test configures build-bench without the peers)
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
  -DMETAGRAD_BUILD_BENCH=ON -DMETAGRAD_BENCH_PEERS=ON -DMETAGRAD_BUILD_TESTS=OFF -DMETAGRAD_BUILD_EXAMPLES=OFF
cmake --build build-bench -j "$(nproc)"
mkdir -p bench/results docs
status=0
for exe in build-bench/bench/suite_metagrad build-bench/bench/suite_numerics build-bench/bench/peer_*; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe")
  echo "== $name"
  # (run inside build-bench: ADOL-C leaves its tape files in the working directory)
  (cd build-bench && "../$exe" --benchmark_min_time="${MIN_TIME:-0.2}" --benchmark_filter="${FILTER:-.}" \
    --benchmark_repetitions="${REPETITIONS:-5}" --benchmark_report_aggregates_only=true \
    --benchmark_out="../bench/results/$name.json" --benchmark_out_format=json) || status=1
done
# the vectorised elementary functions beside <cmath>, Eigen, SLEEF and Highway
echo "== vmath_eval"
build-bench/bench/vmath_eval | tee bench/results/vmath.md
# metagrad's own suites again, built by clang++ (bench/results/*_clang.json):
# static mode's speed depends on what each compiler inlines and vectorises.
if command -v clang++ >/dev/null; then
  cmake -S . -B build-bench-clang -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
    -DMETAGRAD_BUILD_BENCH=ON -DMETAGRAD_BENCH_PEERS=OFF -DMETAGRAD_BUILD_TESTS=OFF -DMETAGRAD_BUILD_EXAMPLES=OFF
  cmake --build build-bench-clang --target suite_metagrad suite_numerics -j "$(nproc)"
  for name in suite_metagrad suite_numerics; do
    echo "== $name (clang++)"
    (cd build-bench-clang && "bench/$name" --benchmark_min_time="${MIN_TIME:-0.2}" --benchmark_filter="${FILTER:-.}" \
      --benchmark_repetitions="${REPETITIONS:-5}" --benchmark_report_aggregates_only=true \
      --benchmark_out="../bench/results/${name}_clang.json" --benchmark_out_format=json) || status=1
  done
else
  echo "bench/run.sh: clang++ not found (apt-get install clang) - no clang++ rows"
fi
/usr/bin/python3 bench/report.py bench/results docs/bench.png
[ $status -eq 0 ] || { echo "bench/run.sh: a benchmark failed its gradient cross-check (see WRONG GRADIENT above)"; exit 1; }
