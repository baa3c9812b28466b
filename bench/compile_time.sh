#!/usr/bin/env bash
# bench/compile_time.sh — what metagrad costs to compile, for g++ and clang++
# at -O2 (a full compile to an object file, one process at a time): wall time
# and peak memory of
#   * a TU that only includes <Eigen/Dense> and multiplies two matrices (the
#     yardstick),
#   * a 10-line Tensor program (matmul, tanh, mean, backward, print), header-only
#     and in compiled mode (-DMETAGRAD_DYNAMIC_LIB, i.e. linking metagrad::dynamic),
#   * static-mode TUs taking 1, 5 and 20 distinct gradients with mg::grad, of
#     scalars and of Eigen vectors (a 7-op expression each),
# then the older -fsyntax-only table of static mode by derivative order.
# Prints Markdown tables (README quotes them). Needs GNU time (package `time`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x /usr/bin/time ] || { echo "bench/compile_time.sh needs GNU time: apt-get install time" >&2; exit 1; }
inc=(-I"$root/include" -I/usr/include/eigen3)

cat > "$tmp/eigen_only.cpp" <<'CPP'
#include <Eigen/Dense>
#include <iostream>
int main() {
  Eigen::MatrixXd w = Eigen::MatrixXd::Random(4, 3), x = Eigen::MatrixXd::Random(2, 4);
  Eigen::MatrixXd y = (x * w).array().tanh().matrix();
  std::cout << y.mean() << "\n";
}
CPP
cat > "$tmp/tensor_program.cpp" <<'CPP'
#include <metagrad/dynamic.hpp>
#include <iostream>
namespace mg = metagrad;
int main() {
  auto w = mg::randn({4, 3}, mg::requires_grad());
  auto x = mg::randn({2, 4});
  auto y = mg::tanh(mg::matmul(x, w)).mean();
  y.backward();
  std::cout << w.grad() << "\n";
}
CPP
static_tu() {  # kind (scalar | vector), n distinct gradients (exponent and constant differ per gradient)
  local kind=$1 n=$2 k
  {
    echo '#include <metagrad/static.hpp>'
    echo '#include <cstdio>'
    echo 'namespace mg = metagrad;'
    echo 'using namespace mg::literals;'
    echo 'constexpr auto x = mg::var<"x">;'
    echo 'constexpr auto y = mg::var<"y">;'
    if [ "$kind" = scalar ]; then
      echo 'double run(double a, double b) {'
    else
      echo 'double run(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {'
    fi
    echo '  double s = 0;'
    for k in $(seq 1 "$n"); do
      f="mg::exp(x * y) * mg::sin(x) + mg::pow(x, ${k}_c) / (${k}.0 + y * y) - mg::log(x + y)"
      if [ "$kind" = scalar ]; then
        echo "  { auto g = mg::grad($f, x = a, y = b);"
        echo "    s += g.value + g[x] + g[y]; }"
      else
        echo "  { auto g = mg::grad(mg::sum($f), x = a, y = b);"
        echo "    s += g.value + g[x].sum() + g[y].sum(); }"
      fi
    done
    echo '  return s;'
    echo '}'
    if [ "$kind" = scalar ]; then
      echo 'int main() { std::printf("%g\n", run(0.7, 1.3)); }'
    else
      echo 'int main() { Eigen::VectorXd a = Eigen::VectorXd::Constant(8, 0.7), b = a.array() + 0.6; std::printf("%g\n", run(a, b)); }'
    fi
  } > "$tmp/${kind}_$n.cpp"
}
for n in 1 5 20; do static_tu scalar "$n"; static_tu vector "$n"; done

measure() {  # compiler, file, extra flags... -> "wall s / peak MB"
  local cxx=$1 src=$2
  shift 2
  /usr/bin/time -f "%e %M" -o "$tmp/t" "$cxx" -std=c++20 -O2 "${inc[@]}" "$@" -c "$src" -o "$tmp/o.o"
  awk '{ printf "%.2f s / %d MB", $1, $2 / 1024 }' "$tmp/t"
}
cxx_version() { "$1" --version | head -1 | grep -o '[0-9][0-9]*\.[0-9.]*' | head -1 | cut -d. -f1; }

echo "| TU (-O2, to an object file) | g++ $(cxx_version g++) | clang++ $(cxx_version clang++) |"
echo "|---|---|---|"
row() {  # label, file, flags...
  local label=$1 src=$2
  shift 2
  echo "| $label | $(measure g++ "$src" "$@") | $(measure clang++ "$src" "$@") |"
}
row "Eigen only (\`<Eigen/Dense>\`, a product, tanh)" "$tmp/eigen_only.cpp"
row "10-line Tensor program, header-only" "$tmp/tensor_program.cpp"
row "10-line Tensor program, compiled mode (\`metagrad::dynamic\`)" "$tmp/tensor_program.cpp" -DMETAGRAD_DYNAMIC_LIB
for kind in scalar vector; do
  for n in 1 5 20; do
    [ "$kind" = scalar ] && what="scalar bindings" || what="Eigen vector bindings"
    row "static mode, $n distinct gradient(s), $what" "$tmp/${kind}_$n.cpp"
  done
done

echo
echo "Static mode by derivative order (-fsyntax-only, value checked by static_assert):"
echo
printf "| n (derivative order) | g++ | clang++ |\n|---|---|---|\n"
for n in 1 3 6; do
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
    /usr/bin/time -f "%e" -o "$tmp/t" "$cxx" -std=c++20 -fsyntax-only "${inc[@]}" "$tmp/d$n.cpp"
    row="$row $(cat "$tmp/t") s |"
  done
  echo "$row"
done
