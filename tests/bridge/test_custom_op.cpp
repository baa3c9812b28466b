// tests/bridge/test_custom_op.cpp — custom_op.hpp: a user's op declared once
// (the exponential integral Ei, evaluated by std::expint, with its derivative
// d Ei / dx = e^x / x given) serves the static node, mg::d, mg::grad, mg::hvp,
// to_string, the bridge, and a dynamic op with create_graph.
#include <boost/test/unit_test.hpp>
#include <metagrad/metagrad.hpp>

#include <cmath>

#include "support/check.hpp"

/// Ei(x) = -E1(-x); d/dx = e^x / x.
struct ExpIntegral {
  static constexpr const char* node_name = "EiBackward0";
  static constexpr const char* symbol = "ei";
  template <class X>
  static auto f(const X& x) { return mg::elementwise<ExpIntegral>(x, [](auto v) { return std::expint(v); }); }
  template <class X, class Y, class G>
  static auto vjp(const X& x, const Y&, const G& g) { return g * exp(x) / x; }
};
METAGRAD_DEFINE_UNARY_OP(ei, ExpIntegral)

using namespace mg::literals;
namespace {
constexpr auto x = mg::var<"x">;
constexpr auto u = mg::var<"u">;
constexpr auto v = mg::var<"v">;
}  // namespace

BOOST_AUTO_TEST_SUITE(custom_op)

BOOST_AUTO_TEST_CASE(static_node_derivatives_and_text) {
  BOOST_CHECK_CLOSE(mg::ei(x)(x = 1.5), std::expint(1.5), 1e-12);
  BOOST_CHECK_CLOSE(mg::d(mg::ei(x), x)(x = 1.5), std::exp(1.5) / 1.5, 1e-12);
  BOOST_CHECK_EQUAL(mg::to_string(mg::ei(2_c * x)), "ei(2 * x)");
  Eigen::VectorXd a(20);
  for (int i = 0; i < 20; ++i) a[i] = 0.3 + 0.1 * i;
  const auto g = mg::grad(mg::sum(mg::ei(x) * x), x = a);
  for (int i = 0; i < 20; ++i) BOOST_CHECK_CLOSE(g[x][i], std::expint(a[i]) + std::exp(a[i]), 1e-10);
  // second order: forward over reverse runs the rule on dual numbers
  const auto H = mg::hessian(mg::ei(x), x = 1.5);
  BOOST_CHECK_CLOSE(H[x](0, 0), std::exp(1.5) * (1.5 - 1) / (1.5 * 1.5), 1e-10);
  BOOST_CHECK_CLOSE(mg::d(mg::ei(x), x, x)(x = 1.5), std::exp(1.5) * (1.5 - 1) / (1.5 * 1.5), 1e-10);
}

BOOST_AUTO_TEST_CASE(dynamic_op_bridge_and_create_graph) {
  auto t = check::values({2, 3}, 0.4, 2.0);
  auto y = mg::ei(t);
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "EiBackward0");
  BOOST_CHECK_CLOSE(y.data_ptr()[0], std::expint(t.data_ptr()[0]), 1e-12);
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::ei(in[0]); }, {t});
  auto tu = check::values({5}, 0.5, 1.5), tv = check::values({5}, -1, 1);
  auto fused = (mg::ei(u) * v)(u = tu, v = tv);
  BOOST_CHECK_EQUAL(fused.grad_fn()->name(), "StaticExprBackward0");
  auto gf = mg::autograd::grad({fused.sum()}, {tu, tv});
  auto go = mg::autograd::grad({(mg::ei(tu) * tv).sum()}, {tu, tv});
  check::close(gf[0], go[0], 1e-12);
  check::close(gf[1], go[1], 1e-12);
}

BOOST_AUTO_TEST_SUITE_END()
