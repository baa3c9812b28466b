// bench/peer_ceres.cpp — Ceres' Jet<double, N> (Debian's libceres-dev;
// forward mode with the number of inputs N fixed at compile time, so it runs
// on the cases with few inputs: the scalar chain, linear regression (10
// parameters) and the vector workloads at n = 1 and 16).
#include <ceres/jet.h>

#include "scalar_workloads.hpp"

namespace {
template <int N>
void reg(const std::string& w, long n) {
  benchmark::RegisterBenchmark((w + "/ceres_jet/" + std::to_string(n)).c_str(), [w, n](benchmark::State& st) {
    using J = ceres::Jet<double, N>;
    const sw::Data data(w, n);
    const std::vector<double> x = sw::inputs(w, n);
    if (static_cast<int>(x.size()) != N) {
      st.SkipWithError("wrong Jet size");
      wl::failed() = true;
      return;
    }
    auto run = [&] {
      std::vector<J> ax(N);
      for (int i = 0; i < N; ++i) ax[i] = J(x[i], i);
      J y = sw::eval<J>(w, n, ax.data(), data);
      wl::Result r{y.a, std::vector<double>(y.v.data(), y.v.data() + N)};
      return r;
    };
    if (!wl::verify(st, w, n, run())) return;
    for (auto _ : st) benchmark::DoNotOptimize(run().value);
  });
}

void register_all() {
  for (const char* w : {"sum", "prod", "lse"}) {
    reg<1>(w, 1);
    reg<16>(w, 16);
  }
  reg<3>("normal", 1);
  reg<18>("normal", 16);
  reg<8>("matprod", 2);
  for (long n : wl::kLinRegSizes) reg<wl::kFeatures + 2>("linreg", n);
  reg<1>("chain", wl::kChainOps);
}
}  // namespace

WL_BENCH_MAIN()
