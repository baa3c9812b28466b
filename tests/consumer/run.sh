#!/usr/bin/env bash
# Builds tests/consumer three ways: find_package after install into a
# temporary prefix (both modes: header-only, and compiled, linking
# metagrad::dynamic), add_subdirectory (header-only: building the library a
# second time here cost CI about 40 s and tests the same target), and a plain
# -I compile (header-only, and compiled by hand against the installed library).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
check() { if "$@" >"$tmp/log" 2>&1; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAILED: $*"; tail -20 "$tmp/log"; fi; }

install_and_find_package() {
  cmake -S "$root" -B "$tmp/lib" -DCMAKE_INSTALL_PREFIX="$tmp/prefix" \
    -DMETAGRAD_BUILD_TESTS=OFF -DMETAGRAD_BUILD_EXAMPLES=OFF
  cmake --build "$tmp/lib" -j "$(nproc)"
  cmake --install "$tmp/lib"
  test -f "$tmp/prefix/share/pkgconfig/metagrad.pc"
  cmake -S "$root/tests/consumer" -B "$tmp/a" -DCMAKE_PREFIX_PATH="$tmp/prefix"
  cmake --build "$tmp/a" -j "$(nproc)"
  "$tmp/a/consumer"
  "$tmp/a/consumer_compiled"
}
add_subdirectory_() {
  cmake -S "$root/tests/consumer" -B "$tmp/b" -DMETAGRAD_SOURCE_DIR="$root"
  cmake --build "$tmp/b" --target consumer -j "$(nproc)"
  "$tmp/b/consumer"
}
plain_include() {
  # at -O3, as users build: g++ 12 warns there (-Warray-bounds through an
  # inlined std::sort) where the tests' -O1 build does not
  ${CXX:-g++} -std=c++20 -O3 -Wall -Wextra -Wpedantic -Werror -I"$root/include" -I/usr/include/eigen3 \
    "$root/tests/consumer/main.cpp" -o "$tmp/c"
  "$tmp/c"
  # compiled mode by hand: the define plus the installed library
  ${CXX:-g++} -std=c++20 -Wall -Wextra -Wpedantic -Werror -DMETAGRAD_DYNAMIC_LIB -I"$root/include" -I/usr/include/eigen3 \
    "$root/tests/consumer/main.cpp" -L"$(dirname "$(find "$tmp/prefix" -name libmetagrad_dynamic.a)")" -lmetagrad_dynamic -o "$tmp/d"
  "$tmp/d"
}
check install_and_find_package
check add_subdirectory_
check plain_include
echo "consumer: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
