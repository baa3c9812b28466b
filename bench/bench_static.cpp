// bench/bench_static.cpp — mg::grad against the plain double function and a
// hand-written gradient, on FastAD-style workloads (normal log-density and
// log-sum-exp of N values as Eigen vectors; a scalar expression).
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cmath>
#include <metagrad/static.hpp>

namespace mg = metagrad;
using namespace mg::literals;

namespace {
constexpr auto x = mg::var<"x">;
constexpr auto mu = mg::var<"mu">;
constexpr auto s = mg::var<"s">;
// sum of -(x-mu)^2 / (2 s^2) - log(s)   (constants dropped)
constexpr auto normal_logpdf = mg::sum(-mg::pow((x - mu) / s, 2_c) * 0.5 - mg::log(s));
constexpr auto lse = mg::log(mg::sum(mg::exp(x)));
constexpr auto scalar_f = mg::exp(x * mu) / (1.0 + mg::pow(x, 2_c)) + mg::sqrt(mu) * mg::sin(x);

Eigen::VectorXd data(int n) {
  Eigen::VectorXd v(n);
  for (int i = 0; i < n; ++i) v[i] = std::sin(0.37 * i);
  return v;
}
}  // namespace

static void BM_NormalValue(benchmark::State& st) {
  const auto v = data(static_cast<int>(st.range(0)));
  for (auto _ : st) {
    const double r = (-0.5 * ((v.array() - 0.3) / 1.7).square() - std::log(1.7)).sum();
    benchmark::DoNotOptimize(r);
  }
}
static void BM_NormalHand(benchmark::State& st) {
  const auto v = data(static_cast<int>(st.range(0)));
  Eigen::VectorXd gx(v.size());
  for (auto _ : st) {
    const double m = 0.3, sd = 1.7;
    const auto z = ((v.array() - m) / sd).eval();
    const double val = (-0.5 * z.square() - std::log(sd)).sum();
    gx = (-z / sd).matrix();
    const double gm = (z / sd).sum();
    const double gs = (z.square() / sd).sum() - static_cast<double>(v.size()) / sd;
    benchmark::DoNotOptimize(val);
    benchmark::DoNotOptimize(gm);
    benchmark::DoNotOptimize(gs);
    benchmark::DoNotOptimize(gx.data());
  }
}
static void BM_NormalStatic(benchmark::State& st) {
  const auto v = data(static_cast<int>(st.range(0)));
  for (auto _ : st) {
    auto g = mg::grad(normal_logpdf, x = v, mu = 0.3, s = 1.7);
    benchmark::DoNotOptimize(g.value);
    benchmark::DoNotOptimize(g[x].data());
  }
}
BENCHMARK(BM_NormalValue)->RangeMultiplier(8)->Range(8, 16384);
BENCHMARK(BM_NormalHand)->RangeMultiplier(8)->Range(8, 16384);
BENCHMARK(BM_NormalStatic)->RangeMultiplier(8)->Range(8, 16384);

static void BM_LseHand(benchmark::State& st) {
  const auto v = data(static_cast<int>(st.range(0)));
  Eigen::VectorXd gx(v.size());
  for (auto _ : st) {
    const auto e = v.array().exp().eval();
    const double sum = e.sum();
    gx = (e / sum).matrix();
    benchmark::DoNotOptimize(std::log(sum));
    benchmark::DoNotOptimize(gx.data());
  }
}
static void BM_LseStatic(benchmark::State& st) {
  const auto v = data(static_cast<int>(st.range(0)));
  for (auto _ : st) {
    auto g = mg::grad(lse, x = v);
    benchmark::DoNotOptimize(g[x].data());
  }
}
BENCHMARK(BM_LseHand)->RangeMultiplier(8)->Range(8, 16384);
BENCHMARK(BM_LseStatic)->RangeMultiplier(8)->Range(8, 16384);

static void BM_ScalarValue(benchmark::State& st) {
  double a = 0.4, b = 1.7;
  for (auto _ : st) {
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(b);
    const double r = std::exp(a * b) / (1.0 + a * a) + std::sqrt(b) * std::sin(a);
    benchmark::DoNotOptimize(r);
  }
}
static void BM_ScalarHand(benchmark::State& st) {
  double a = 0.4, b = 1.7;
  for (auto _ : st) {
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(b);
    const double e = std::exp(a * b), q = 1.0 + a * a, sb = std::sqrt(b), sa = std::sin(a);
    const double val = e / q + sb * sa;
    const double ga = b * e / q - e * 2 * a / (q * q) + sb * std::cos(a);
    const double gb = a * e / q + sa / (2 * sb);
    benchmark::DoNotOptimize(val);
    benchmark::DoNotOptimize(ga);
    benchmark::DoNotOptimize(gb);
  }
}
static void BM_ScalarStatic(benchmark::State& st) {
  double a = 0.4, b = 1.7;
  for (auto _ : st) {
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(b);
    auto g = mg::grad(scalar_f, x = a, mu = b);
    benchmark::DoNotOptimize(g.value);
    benchmark::DoNotOptimize(g[x]);
    benchmark::DoNotOptimize(g[mu]);
  }
}
BENCHMARK(BM_ScalarValue);
BENCHMARK(BM_ScalarHand);
BENCHMARK(BM_ScalarStatic);

BENCHMARK_MAIN();
