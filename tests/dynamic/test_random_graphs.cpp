// tests/dynamic/test_random_graphs.cpp — randomized differential testing:
// random expression graphs (every op family, broadcasting shapes, views,
// slice assignment, in-place ops, reuse of one tensor) checked against
// central finite differences, and retain_graph reuse checked for linearity.
// Fixed seeds keep CI deterministic; METAGRAD_FUZZ_GRAPHS=N runs N graphs.
#include <cstdlib>
#include <random>

#include "support/check.hpp"

namespace {

struct Gen {
  std::mt19937 rng;
  explicit Gen(unsigned seed) : rng(seed) {}
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }

  mg::Sizes shape() {
    static const mg::Sizes shapes[] = {{}, {3}, {2, 3}, {1, 3}, {2, 1}};
    return shapes[pick(5)];
  }
  /// A well-conditioned value (domain-safe for log/sqrt/div after the guards below).
  mg::Tensor positive(const mg::Tensor& t) { return mg::sqrt(t * t + 0.5); }

  /// One random op applied to the pool of live tensors; returns the new tensor.
  mg::Tensor step(std::vector<mg::Tensor>& pool) {
    const auto& a = pool[static_cast<std::size_t>(pick(static_cast<int>(pool.size())))];
    const auto& b = pool[static_cast<std::size_t>(pick(static_cast<int>(pool.size())))];
    switch (pick(16)) {
      case 0: return a + b;
      case 1: return a - b * 0.5;
      case 2: return a * b;
      case 3: return a / positive(b);
      case 4: return mg::pow(positive(a), b * 0.3);
      case 5: return mg::exp(a * 0.3);
      case 6: return mg::log(positive(a));
      case 7: return mg::sin(a) + mg::cos(b);
      case 8: return mg::tanh(a) * mg::sigmoid(b);
      case 9: return 2.0 - a.pow(2.0) / 3.0;
      case 10: return a.dim() > 0 ? a.sum(-1, pick(2) == 1) : a * 1.5;
      case 11: return a.dim() == 2 ? a.t().mean(0) : a.mean();
      case 12: return a.dim() > 0 ? a[a.size(0) - 1] : a;
      case 13: {  // slice assignment into a fresh base
        auto base = mg::zeros({2, 3});
        base[pick(2)] = a.dim() == 0 ? a * 1.0 : (a.dim() == 1 ? a : a.sum(0));
        base.index({mg::Slice(), mg::Slice(0, 3, 2)}) = mg::tanh(b.dim() > 0 && b.sizes().back() == 1 ? b : b.sum());
        return base;
      }
      case 14: {  // in-place ops on a non-leaf copy
        auto c = a * 1.0;
        c.mul_(1.5).add_(b.sum());
        c -= mg::sin(c * 1.0);  // reads c, then overwrites it
        return c;
      }
      default: {  // products of compatible shapes
        if (a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1)) return mg::matmul(a, b.t());
        if (a.dim() == 1 && b.dim() == 1 && a.size(0) == b.size(0)) return mg::dot(a, b);
        return mg::abs(a) + mg::relu(b + 3.0);
      }
    }
  }
};

/// Builds a random graph over `inputs`; errors from incompatible broadcasting
/// are part of the op set, so a step that throws is simply redrawn.
mg::Tensor random_graph(unsigned seed, const std::vector<mg::Tensor>& inputs, int steps) {
  Gen g(seed);
  std::vector<mg::Tensor> pool = inputs;
  for (int i = 0; i < steps; ++i) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      try {
        pool.push_back(g.step(pool));
        break;
      } catch (const mg::Error&) {
      }
    }
  }
  mg::Tensor out = pool.back();
  for (std::size_t i = pool.size() - 3; i < pool.size() - 1; ++i) {  // reuse earlier tensors
    try {
      out = out + pool[i].sum();
    } catch (const mg::Error&) {
    }
  }
  return out;
}

int graphs_to_run() {
  const char* n = std::getenv("METAGRAD_FUZZ_GRAPHS");
  return n ? std::atoi(n) : 2000;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(random_graphs)

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences) {
  const int n = graphs_to_run();
  int checked = 0;
  for (int s = 0; s < n; ++s) {
    Gen g(1000u + static_cast<unsigned>(s));
    std::vector<mg::Tensor> inputs;
    for (int i = 0; i < 1 + g.pick(3); ++i) inputs.push_back(check::values(g.shape(), -1.2, 1.2));
    const int steps = 3 + g.pick(6);
    const unsigned seed = 77u * static_cast<unsigned>(s) + 5u;
    auto f = [&](const std::vector<mg::Tensor>& in) { return random_graph(seed, in, steps); };
    BOOST_TEST_CONTEXT("graph seed " << s) {
      try {
        mg::autograd::gradcheck(f, inputs, 1e-6, 1e-5, 1e-4);
      } catch (const std::exception& e) {
        BOOST_ERROR(e.what());
      }
    }
    ++checked;
  }
  BOOST_TEST_MESSAGE("random graphs checked: " << checked);
  BOOST_CHECK_EQUAL(checked, n);
}

BOOST_AUTO_TEST_CASE(retain_graph_reuse_is_linear) {
  for (int s = 0; s < 40; ++s) {
    auto x = check::values({2, 3}, -1, 1);
    auto y = random_graph(5000u + static_cast<unsigned>(s), {x}, 6);
    if (!y.requires_grad()) continue;
    auto v = mg::ones(y.sizes());
    y.backward(v, true);
    const auto once = x.grad().clone();
    y.backward(v * 2.0, true);
    check::close(x.grad(), once * 3.0, 1e-10);
  }
}

BOOST_AUTO_TEST_SUITE_END()
