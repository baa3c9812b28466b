// tests/dynamic/test_random_graphs.cpp — randomized differential testing:
// random expression graphs (every op family, broadcasting shapes, views,
// slice assignment, in-place ops, reuse of one tensor) checked against
// central finite differences, and retain_graph reuse checked for linearity.
// Fixed seeds keep CI deterministic; METAGRAD_FUZZ_GRAPHS=N runs N graphs.
#include <cstdlib>
#include <random>

#include "support/check.hpp"
#include "support/random_graphs.hpp"

using fuzzgraph::Gen;
using fuzzgraph::random_graph;

namespace {

int graphs_to_run() {
  const char* n = std::getenv("METAGRAD_FUZZ_GRAPHS");
  return n ? std::atoi(n) : 2000;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(random_graphs)

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences) {
  const int n = graphs_to_run();
  int checked = 0, overflowed = 0;
  for (int s = 0; s < n; ++s) {
    Gen g(1000u + static_cast<unsigned>(s));
    // distinct values (the fuzzer's inputs): equal elements of two inputs
    // would put minimum/maximum/amax on a tie, where finite differences see a kink
    const auto inputs = fuzzgraph::random_inputs(g);
    const int steps = 3 + g.pick(6);
    const unsigned seed = 77u * static_cast<unsigned>(s) + 5u;
    auto f = [&](const std::vector<mg::Tensor>& in) { return random_graph(seed, in, steps); };
    BOOST_TEST_CONTEXT("graph seed " << s) {
      try {
        // overflow (exp of exp, a long pow chain) is IEEE behaviour, not a
        // bug: as in the fuzzer, only graphs with a finite value are compared,
        // and, as in the fuzzer, not those above 1e8 either, where central
        // differences lose the change of the output to rounding (seed 14422:
        // a value of 2e17, a derivative of 9e5, a numerical derivative of 0)
        if (!(mg::abs(f(inputs)).max().item() <= 1e8)) {
          ++overflowed;
          continue;
        }
        mg::autograd::gradcheck(f, inputs, 1e-6, 1e-5, 1e-4);
      } catch (const std::exception& e) {
        BOOST_ERROR(e.what());
      }
    }
    ++checked;
  }
  BOOST_TEST_MESSAGE("random graphs checked: " << checked << ", overflowed (skipped): " << overflowed);
  BOOST_CHECK_EQUAL(checked + overflowed, n);
  BOOST_CHECK_LE(overflowed * 100, n);  // the generator keeps values in range for all but a few
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
