// tests/fuzz/fuzz_graphs.cpp — libFuzzer driver: the input bytes choose the
// inputs (shapes, values) and every op of a random graph (support/
// random_graphs.hpp); the graph's gradients must match central finite
// differences (gradcheck) and a second backward through retain_graph must add
// exactly the same gradient again. Build with clang++ and
// -DMETAGRAD_BUILD_FUZZ=ON (-fsanitize=fuzzer,address,undefined); see README
// "Reliability" for the commands (quick pass, hours-long run, minimising a
// failure into tests/fuzz/regressions/).
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "../support/random_graphs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace mg = metagrad;
  fuzzgraph::Gen g(data, size);
  const auto inputs = fuzzgraph::random_inputs(g);
  const int steps = 1 + g.pick(8);
  const fuzzgraph::Gen graph = g;  // the rest of the bytes choose the ops
  auto f = [&](const std::vector<mg::Tensor>& in) { return fuzzgraph::random_graph(graph, in, steps); };
  // Overflow is IEEE behaviour, not a bug: only finite points (value and
  // gradient) are compared with finite differences. Nor can central
  // differences judge points where values or gradients pass 1e8: a step of
  // 1e-7 then moves an intermediate by many periods of sin/cos, and the
  // difference quotient averages the oscillation away (found by the fuzzer:
  // c - sin(c) at c = 5e10, where the quotient converges to dc/dx, not to
  // (1 - cos c) dc/dx, which PyTorch and metagrad both return).
  constexpr double kResolvable = 1e8;
  double scale = 0;
  {
    auto y = f(inputs);
    if (!std::isfinite(mg::abs(y).sum().item())) return 0;
    scale = y.numel() ? mg::abs(y).max().item() : 0.0;  // (any rank: ops with arguments make 3-d outputs)
    if (scale > kResolvable) return 0;
    if (y.requires_grad()) {
      y.backward(mg::ones(y.sizes()));
      bool usable = true;
      for (const auto& x : inputs) {
        if (x.grad().defined()) {
          const double g = mg::abs(x.grad()).sum().item();
          usable = usable && std::isfinite(g) && g <= kResolvable;
        }
        x.mutable_grad() = mg::Tensor();
      }
      if (!usable) return 0;
    }
  }
  // Central differences with step h lose ~2e-16 |f| / h to rounding: the
  // absolute tolerance grows with the output's magnitude (1e-15 |f| / h;
  // found by the fuzzer on an output of 5.5e7). A kink of abs/relu within h
  // of the point also spoils them (found too).
  // A large third derivative makes the error of a step O(h^2 f^(3)) (found:
  // an output of 1.2e5 off by 1e-4 relative at steps 1e-6 and 1e-7, within
  // 1e-6 at 1e-8). So does a periodic function of a fast-moving intermediate:
  // cos(u) with du/dx ~ 7e7 (exp of a product) is off by 1 - sinc(h du/dx),
  // 8% at h = 1e-8 (found too: an output of 7.7e6, a gradient of 2e6). A wrong
  // gradient does not converge as the step shrinks, so a mismatch must
  // persist at every step from 1e-6 down to 1e-10.
  for (double h : {1e-6, 1e-7, 1e-8, 1e-9, 1e-10}) {
    try {
      mg::autograd::gradcheck(f, inputs, h, 1e-5 + 1e-15 / h * scale, 1e-4);
      break;
    } catch (const mg::Error& e) {
      if (h > 1e-10) continue;
      std::fprintf(stderr, "gradcheck failed at steps 1e-6 to 1e-10: %s (max |output| %g)\n", e.what(), scale);
      std::abort();
    }
  }
  // retain_graph: backward twice accumulates exactly twice.
  auto y = f(inputs);
  if (!y.requires_grad()) return 0;
  const auto v = mg::ones(y.sizes());
  y.backward(v, true);
  std::vector<mg::Tensor> once;
  for (const auto& x : inputs) once.push_back(x.grad().defined() ? x.grad().clone() : mg::Tensor());
  y.backward(v, true);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!once[i].defined()) continue;
    const auto d = mg::abs(inputs[i].grad() - once[i] * 2.0).sum().item();
    const auto scale = mg::abs(once[i]).sum().item();
    if (!(d <= 1e-9 * (1 + scale))) {
      std::fprintf(stderr, "retain_graph: second backward added %g off\n", d);
      std::abort();
    }
  }
  for (const auto& x : inputs) x.mutable_grad() = mg::Tensor();
  return 0;
}
