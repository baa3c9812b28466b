// tests/rules/test_table_bridge.cpp — every second-round row of
// rules/elementwise.hpp through the bridge (one fused node) equals the same
// op built op by op: values and gradients, iterating the table's row list.
#include "reference/ops_r2.hpp"
#include "support/check.hpp"

namespace {
constexpr auto u = mg::var<"u">;
constexpr auto v = mg::var<"v">;
}  // namespace

BOOST_AUTO_TEST_SUITE(bridge_table_rows)

BOOST_AUTO_TEST_CASE(every_new_row_through_the_bridge_equals_op_by_op) {
  int checked = 0;
  auto one = [&](const char* name, auto fused_of, auto dynamic_of) {
    for (const auto& r : reference::unary_reference) {
      if (std::string(r.name) != name) continue;
      auto tu = mg::tensor({r.x[0] * 0.97 + 0.013, r.x[1] * 0.97 + 0.013, r.x[2] * 0.97 + 0.013}, mg::requires_grad());
      auto tv = mg::tensor({0.5, -1.5, 2.0}, mg::requires_grad());
      auto fused = fused_of(tu, tv);
      BOOST_CHECK_EQUAL(fused.grad_fn()->name(), "StaticExprBackward0");
      auto op = dynamic_of(tu) * tv;
      check::close(fused, op, 1e-13);
      auto gf = mg::autograd::grad({fused.sum()}, {tu, tv});
      auto go = mg::autograd::grad({op.sum()}, {tu, tv});
      check::close(gf[0], go[0], 1e-12);
      check::close(gf[1], go[1], 1e-12);
      ++checked;
    }
  };
#define METAGRAD_TEST_ROW(Rule, fn)                                                                   \
  one(#fn, [](const mg::Tensor& a, const mg::Tensor& b) { return (mg::fn(u) * v)(u = a, v = b); }, \
      [](const mg::Tensor& a) { return mg::fn(a); });
  METAGRAD_FOR_EACH_UNARY(METAGRAD_TEST_ROW)
#undef METAGRAD_TEST_ROW
  BOOST_CHECK_EQUAL(checked, static_cast<int>(std::size(reference::unary_reference)));
}

BOOST_AUTO_TEST_SUITE_END()
