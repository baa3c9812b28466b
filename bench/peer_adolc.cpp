// bench/peer_adolc.cpp — ADOL-C (Debian's libadolc-dev), taped reverse mode:
// "adolc_tape" times recording the tape plus one reverse sweep, "adolc_replay"
// re-evaluates an existing tape (gradient(): forward + reverse). 1M-element
// workloads are left out (a tape of ~10M operations).
#include <adolc/adolc.h>

#include "scalar_workloads.hpp"

namespace {
/// One tape tag for all: each benchmark records its own tape first (ADOL-C
/// keeps Taylor buffers per tag, and has only a few).
constexpr short kTag = 1;

void register_all() {
  for (const auto& [w, n] : sw::cases(false)) {
    for (const bool replay : {false, true}) {
      const std::string name = w + (replay ? "/adolc_replay/" : "/adolc_tape/") + std::to_string(n);
      benchmark::RegisterBenchmark(name.c_str(), [w = w, n = n, replay](benchmark::State& st) {
        const sw::Data data(w, n);
        const std::vector<double> x = sw::inputs(w, n);
        const int m = static_cast<int>(x.size());
        std::vector<double> g(x.size());
        const short tag = kTag;
        auto record = [&] {
          double y;
          trace_on(tag);
          std::vector<adouble> ax(x.size());
          for (int i = 0; i < m; ++i) ax[i] <<= x[i];
          adouble ay = sw::eval<adouble>(w, n, ax.data(), data);
          ay >>= y;
          trace_off();
          return y;
        };
        const double y = record();
        gradient(tag, m, x.data(), g.data());
        if (!wl::verify(st, w, n, wl::Result{y, g})) return;
        for (auto _ : st) {
          if (!replay) record();
          gradient(tag, m, x.data(), g.data());
          benchmark::DoNotOptimize(g.data());
        }
      });
    }
  }
}
}  // namespace

WL_BENCH_MAIN()
