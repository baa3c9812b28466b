// bench/peer_eigen_ad.cpp — Eigen's AutoDiffScalar (unsupported/Eigen/AutoDiff,
// forward mode, a dynamic derivative vector per value: up to 256 inputs).
#include <Eigen/Core>
#include <unsupported/Eigen/AutoDiff>

#include "scalar_workloads.hpp"

namespace {
using AD = Eigen::AutoDiffScalar<Eigen::VectorXd>;

void register_all() {
  for (const auto& [w, n] : sw::cases(true)) {
    benchmark::RegisterBenchmark((w + "/eigen_ad/" + std::to_string(n)).c_str(), [w = w, n = n](benchmark::State& st) {
      const sw::Data data(w, n);
      const std::vector<double> x = sw::inputs(w, n);
      const int m = static_cast<int>(x.size());
      auto run = [&] {
        std::vector<AD> ax(x.size());
        for (int i = 0; i < m; ++i) ax[i] = AD(x[i], m, i);
        AD y = sw::eval<AD>(w, n, ax.data(), data);
        wl::Result r{y.value(), {}};
        for (int i = 0; i < m; ++i) r.grad.push_back(y.derivatives().size() ? y.derivatives()[i] : 0.0);
        return r;
      };
      if (!wl::verify(st, w, n, run())) return;
      for (auto _ : st) benchmark::DoNotOptimize(run().value);
    });
  }
}
}  // namespace

WL_BENCH_MAIN()
