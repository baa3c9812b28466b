// bench/peer_sacado.cpp — Trilinos Sacado (Debian's libtrilinos-sacado-dev):
// "sacado_rad" is its reverse mode (Sacado::Rad, a tape per evaluation),
// "sacado_fad" its forward mode (DFad: one derivative component per input,
// so it runs only up to 256 inputs).
#include <Sacado_Fad_DFad.hpp>
#include <Sacado_trad.hpp>

#include "scalar_workloads.hpp"

namespace {
using Rad = Sacado::Rad::ADvar<double>;
using Fad = Sacado::Fad::DFad<double>;

void register_all() {
  for (const auto& [w, n] : sw::cases(false)) {
    benchmark::RegisterBenchmark((w + "/sacado_rad/" + std::to_string(n)).c_str(), [w = w, n = n](benchmark::State& st) {
      const sw::Data data(w, n);
      const std::vector<double> x = sw::inputs(w, n);
      auto run = [&] {
        std::vector<Rad> ax(x.begin(), x.end());
        Rad y = sw::eval<Rad>(w, n, ax.data(), data);
        Rad::Gradcomp();
        wl::Result r{y.val(), {}};
        for (auto& a : ax) r.grad.push_back(a.adj());
        return r;
      };
      if (!wl::verify(st, w, n, run())) return;
      for (auto _ : st) benchmark::DoNotOptimize(run().value);
    });
  }
  for (const auto& [w, n] : sw::cases(true)) {
    benchmark::RegisterBenchmark((w + "/sacado_fad/" + std::to_string(n)).c_str(), [w = w, n = n](benchmark::State& st) {
      const sw::Data data(w, n);
      const std::vector<double> x = sw::inputs(w, n);
      const int m = static_cast<int>(x.size());
      auto run = [&] {
        std::vector<Fad> ax;
        ax.reserve(x.size());
        for (int i = 0; i < m; ++i) ax.emplace_back(m, i, x[i]);
        Fad y = sw::eval<Fad>(w, n, ax.data(), data);
        wl::Result r{y.val(), {}};
        for (int i = 0; i < m; ++i) r.grad.push_back(y.dx(i));
        return r;
      };
      if (!wl::verify(st, w, n, run())) return;
      for (auto _ : st) benchmark::DoNotOptimize(run().value);
    });
  }
}
}  // namespace

WL_BENCH_MAIN()
