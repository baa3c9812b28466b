// bench/bench_dynamic.cpp — graph overhead per op on 1-element tensors
// (forward + backward), elementwise throughput at 1M elements, and the
// bridge against the same 6-op chain op by op.
#include <benchmark/benchmark.h>

#include <metagrad/metagrad.hpp>

namespace mg = metagrad;

// A chain of n ops on a 1-element tensor, forward + backward: time / n is
// the graph overhead per op.
static void BM_ScalarChain(benchmark::State& st) {
  const int n = static_cast<int>(st.range(0));
  auto x = mg::tensor({1.0}, mg::requires_grad());
  for (auto _ : st) {
    auto y = x;
    for (int i = 0; i < n; ++i) y = (i % 2) ? y * 1.0001 : y + 0.5;
    y.backward(mg::ones({1}));
    benchmark::DoNotOptimize(x.grad().data_ptr());
  }
  st.counters["ns_per_op"] = benchmark::Counter(static_cast<double>(n) * static_cast<double>(st.iterations()),
                                                benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ScalarChain)->Arg(1000);

// Forward only, graph disabled: the tensor machinery without autograd.
static void BM_ScalarChainNoGrad(benchmark::State& st) {
  const int n = static_cast<int>(st.range(0));
  auto x = mg::tensor({1.0});
  mg::NoGradGuard ng;
  for (auto _ : st) {
    auto y = x;
    for (int i = 0; i < n; ++i) y = (i % 2) ? y * 1.0001 : y + 0.5;
    benchmark::DoNotOptimize(y.data_ptr());
  }
  st.counters["ns_per_op"] = benchmark::Counter(static_cast<double>(n) * static_cast<double>(st.iterations()),
                                                benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ScalarChainNoGrad)->Arg(1000);

// y = x * 1.5 + x at 1M elements: bytes moved per second.
static void BM_Elementwise1M(benchmark::State& st) {
  auto x = mg::rand({1 << 20});
  mg::NoGradGuard ng;
  for (auto _ : st) {
    auto y = x * 1.5;
    benchmark::DoNotOptimize(y.data_ptr());
  }
  st.SetBytesProcessed(st.iterations() * (1 << 20) * 16);
}
BENCHMARK(BM_Elementwise1M);

namespace {
constexpr auto u = mg::var<"u">;
constexpr auto v = mg::var<"v">;
constexpr auto chain6 = mg::sqrt(u * v + 1.0) * u - v / (u + 2.0) + u * u;
}  // namespace

// The 6-op elementwise chain at 1M elements, forward + backward.
static void BM_Chain6OpByOp(benchmark::State& st) {
  auto a = mg::rand({1 << 20}, mg::requires_grad()), b = mg::rand({1 << 20}, mg::requires_grad());
  auto g = mg::ones({1 << 20});
  (mg::sqrt(a * b + 1.0) * a - b / (a + 2.0) + a * a).backward(g);  // warm the buffer cache
  for (auto _ : st) {
    auto y = mg::sqrt(a * b + 1.0) * a - b / (a + 2.0) + a * a;
    y.backward(g);
    benchmark::DoNotOptimize(a.grad().data_ptr());
  }
}
BENCHMARK(BM_Chain6OpByOp)->Unit(benchmark::kMillisecond);

static void BM_Chain6Bridge(benchmark::State& st) {
  auto a = mg::rand({1 << 20}, mg::requires_grad()), b = mg::rand({1 << 20}, mg::requires_grad());
  auto g = mg::ones({1 << 20});
  mg::Tensor(chain6(u = a, v = b)).backward(g);  // warm the buffer cache
  for (auto _ : st) {
    mg::Tensor y = chain6(u = a, v = b);
    y.backward(g);
    benchmark::DoNotOptimize(a.grad().data_ptr());
  }
}
BENCHMARK(BM_Chain6Bridge)->Unit(benchmark::kMillisecond);

// A 64-wide MLP step (tanh, mse), forward + backward.
static void BM_MLPStep64(benchmark::State& st) {
  mg::manual_seed(1);
  auto W1 = mg::randn({64, 64}, mg::requires_grad()), W2 = mg::randn({64, 64}, mg::requires_grad());
  auto x = mg::randn({64}), t = mg::randn({64});
  for (auto _ : st) {
    auto h = mg::tanh(mg::matmul(W1, x));
    auto y = mg::matmul(W2, h);
    auto loss = mg::nn::functional::mse_loss(y, t);
    loss.backward();
    benchmark::DoNotOptimize(W1.grad().data_ptr());
  }
}
BENCHMARK(BM_MLPStep64);

static void BM_Matmul(benchmark::State& st) {
  const auto n = st.range(0);
  auto A = mg::rand({n, n}, mg::requires_grad()), B = mg::rand({n, n}, mg::requires_grad());
  for (auto _ : st) {
    auto y = mg::matmul(A, B).sum();
    y.backward();
    benchmark::DoNotOptimize(A.grad().data_ptr());
  }
}
BENCHMARK(BM_Matmul)->Arg(256)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
