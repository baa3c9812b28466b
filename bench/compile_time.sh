#!/usr/bin/env bash
# bench/compile_time.sh — compile cost of static mode: seconds for g++ and
# clang++ to compile (-fsyntax-only) a TU that takes the n-th derivative of a
# growing expression and checks it with static_assert.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "| n (derivative order) | g++ 12 | clang++ 14 |\n|---|---|---|\n"
for n in 1 2 3 4 5 6; do
  vars=$(printf ', x%.0s' $(seq 1 "$n"))
  cat > "$tmp/d$n.cpp" <<CPP
#include <metagrad/static.hpp>
namespace mg = metagrad;
using namespace mg::literals;
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;
constexpr auto f = mg::exp(x * y) * mg::sin(x) + mg::pow(x, 4_c) / (1.0 + y * y) - mg::log(x + y);
constexpr double v = mg::d(f${vars})(x = 0.7, y = 1.3);
static_assert(v == v);
CPP
  row="| $n |"
  for cxx in g++ clang++; do
    s=$(date +%s.%N)
    "$cxx" -std=c++20 -fsyntax-only -I"$root/include" -I/usr/include/eigen3 "$tmp/d$n.cpp"
    e=$(date +%s.%N)
    row="$row $(awk "BEGIN { printf \"%.2f\", $e - $s }") s |"
  done
  echo "$row"
done
for cxx in g++ clang++; do
  s=$(date +%s.%N)
  "$cxx" -std=c++20 -fsyntax-only -I"$root/include" -I/usr/include/eigen3 "$root/tests/static/test_static.cpp"
  e=$(date +%s.%N)
  echo "tests/static/test_static.cpp (about 60 static_assert derivative checks), $cxx: $(awk "BEGIN { printf \"%.2f\", $e - $s }") s"
done
