// tests/rules/test_table_bridge.cpp — every second-round row of
// rules/elementwise.hpp through the bridge (one fused node) equals the same
// op built op by op: values and gradients, iterating the table's row list;
// and every binary row (METAGRAD_FOR_EACH_BINARY) in every engine.
#include "reference/ops_r2.hpp"
#include "support/check.hpp"

#include <Eigen/Core>

namespace {
constexpr auto u = mg::var<"u">;
constexpr auto v = mg::var<"v">;
/// A tensor of `shape` with values evenly spread over [lo, hi] (row-major).
mg::Tensor spread(const mg::Sizes& shape, double lo, double hi) {
  auto t = mg::zeros(shape);
  const std::int64_t n = t.numel();
  for (std::int64_t i = 0; i < n; ++i) t.data_ptr()[i] = n == 1 ? lo : lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n - 1);
  return t;
}
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

/// Each binary row of the table, from the row list alone: the dynamic free
/// function and member (node name, gradcheck and gradgradcheck), the bridge
/// (one fused node), static mg::grad on Eigen vectors (the packet pass, a
/// tail included) and on numbers — all equal to op by op.
BOOST_AUTO_TEST_CASE(every_binary_row_in_every_engine) {
  int checked = 0;
  const double av[] = {0.7, -1.3, 0.25, 1.9, -0.4};
  // b on the rule's domain: real, or positive (atan2: away from the branch cut); no ties with a.
  const double b_real[] = {-0.5, 0.8, 1.1, -1.7, -0.45}, b_positive[] = {0.6, 1.4, 0.9, 2.2, 0.35};
  auto one = [&](const char* name, const char* node, mg::rules::Domain db, auto dynamic_of, auto member_of, auto static_of) {
    BOOST_TEST_CONTEXT("binary row " << name) {
      const double* bv = db == mg::rules::Domain::positive ? b_positive : b_real;
      auto ta = mg::tensor({av[0], av[1], av[2], av[3], av[4]}, mg::requires_grad());
      auto tb = mg::tensor({bv[0], bv[1], bv[2], bv[3], bv[4]}, mg::requires_grad());
      auto op = dynamic_of(ta, tb);
      BOOST_CHECK_EQUAL(op.grad_fn()->name(), node);
      check::close(member_of(ta, tb), op, 0.0);
      auto fused = static_of(u, v)(u = ta, v = tb);
      BOOST_CHECK_EQUAL(fused.grad_fn()->name(), "StaticExprBackward0");
      check::close(fused, op, 1e-13);
      auto go = mg::autograd::grad({op.sum()}, {ta, tb});
      auto gf = mg::autograd::grad({fused.sum()}, {ta, tb});
      check::close(gf[0], go[0], 1e-13);
      check::close(gf[1], go[1], 1e-13);
      const Eigen::VectorXd ea = Eigen::Map<const Eigen::VectorXd>(av, 5), eb = Eigen::Map<const Eigen::VectorXd>(bv, 5);
      const auto gs = mg::grad(mg::sum(static_of(u, v)), u = ea, v = eb);
      for (int i = 0; i < 5; ++i) {
        BOOST_CHECK_CLOSE_FRACTION(gs[u][i] + 1.0, go[0].data_ptr()[i] + 1.0, 1e-13);
        BOOST_CHECK_CLOSE_FRACTION(gs[v][i] + 1.0, go[1].data_ptr()[i] + 1.0, 1e-13);
        const auto g1 = mg::grad(static_of(u, v), u = av[i], v = bv[i]);
        BOOST_CHECK_CLOSE_FRACTION(g1.value + 1.0, op.data_ptr()[i] + 1.0, 1e-13);
        BOOST_CHECK_CLOSE_FRACTION(g1[u] + 1.0, go[0].data_ptr()[i] + 1.0, 1e-13);
        BOOST_CHECK_CLOSE_FRACTION(g1[v] + 1.0, go[1].data_ptr()[i] + 1.0, 1e-13);
      }
      check::gradients([&](const std::vector<mg::Tensor>& in) { return dynamic_of(in[0], in[1]); },
                       {ta.detach().requires_grad_(), tb.detach().requires_grad_()});
      ++checked;
    }
  };
#define METAGRAD_TEST_ROW(Rule, fn)                                                                                \
  one(#fn, mg::rules::Rule::node_name, mg::rules::Rule::domain_b,                                                  \
      [](const mg::Tensor& a, const mg::Tensor& b) { return mg::fn(a, b); },                                       \
      [](const mg::Tensor& a, const mg::Tensor& b) { return a.fn(b); }, [](auto a, auto b) { return mg::fn(a, b); });
  METAGRAD_FOR_EACH_BINARY(METAGRAD_TEST_ROW)
#undef METAGRAD_TEST_ROW
  BOOST_CHECK_EQUAL(checked, 4);
}

BOOST_AUTO_TEST_CASE(every_along_row_in_static_mode_equals_dynamic) {
  // The rows along a dimension (METAGRAD_FOR_EACH_ALONG) as static mode runs
  // them (rules/along.hpp: the same line and vjp_along on Eigen arrays):
  // value and gradient of sum(op(x, d) * W) equal the dynamic engine's, on a
  // matrix along every dimension and on a vector. var and std have no static
  // form (mg::var names a variable).
  int checked = 0;
  auto one = [&]<class R>(std::type_identity<R>, mg::rules::Domain domain) {
    if constexpr (requires { R::has_correction; }) return;
    else {
      BOOST_TEST_CONTEXT("along row " << R::node_name) {
        for (const mg::Sizes& shape : {mg::Sizes{2, 3}, mg::Sizes{4}}) {
          BOOST_REQUIRE(domain == mg::rules::Domain::real);  // (every row's domain today)
          const auto t0 = spread(shape, -1.1, 1.7);
          const Eigen::MatrixXd X = shape.size() == 2 ? Eigen::MatrixXd(Eigen::Map<const Eigen::Matrix<double, -1, -1, Eigen::RowMajor>>(t0.data_ptr(), 2, 3))
                                                      : Eigen::MatrixXd(Eigen::Map<const Eigen::VectorXd>(t0.data_ptr(), 4));
          for (int dim : {0, 1, -1}) {
            if (dim >= static_cast<int>(shape.size())) continue;
            auto t = t0.detach().requires_grad_();
            const auto y = mg::detail::along_op<R>(t, dim, false);
            const auto w = spread(y.sizes(), -0.7, 1.3);
            const auto gd = mg::autograd::grad({(y * w).sum()}, {t})[0];
            auto static_check = [&]<class XV>(const XV& xv) {
              const Eigen::VectorXd wv = Eigen::Map<const Eigen::VectorXd>(w.contiguous().data_ptr(), w.numel());
              const auto gs = [&] {
                constexpr bool reduces = mg::rules::detail_along::reduces<R>;
                if constexpr (reduces && XV::ColsAtCompileTime == 1)  // a vector reduced: a number
                  return mg::grad(mg::along<R>(u, dim) * wv(0), u = xv);
                else if constexpr (reduces || XV::ColsAtCompileTime == 1)  // a vector result
                  return mg::grad(mg::sum(mg::along<R>(u, dim) * v), u = xv, v = mg::data(wv));
                else {  // a matrix result
                  const Eigen::MatrixXd W = Eigen::Map<const Eigen::Matrix<double, -1, -1, Eigen::RowMajor>>(wv.data(), 2, 3);
                  return mg::grad(mg::sum(mg::along<R>(u, dim) * v), u = xv, v = mg::data(W));
                }
              }();
              BOOST_CHECK_CLOSE_FRACTION(gs.value + 1.0, (y * w).sum().item() + 1.0, 1e-13);
              for (Eigen::Index i = 0; i < X.rows(); ++i)
                for (Eigen::Index j = 0; j < X.cols(); ++j) {
                  const double want = shape.size() == 2 ? gd.index({i, j}).item() : gd.index({i}).item();
                  BOOST_CHECK_CLOSE_FRACTION(gs[u](i, j) + 1.0, want + 1.0, 1e-13);
                }
            };
            if (shape.size() == 2) static_check(X);
            else static_check(Eigen::VectorXd(X.col(0)));
          }
        }
        ++checked;
      }
    }
  };
#define METAGRAD_TEST_ROW(Rule, domain) one(std::type_identity<mg::rules::Rule>{}, mg::rules::Domain::domain);
  METAGRAD_FOR_EACH_ALONG(METAGRAD_TEST_ROW)
#undef METAGRAD_TEST_ROW
  BOOST_CHECK_EQUAL(checked, 7);
}

BOOST_AUTO_TEST_SUITE_END()
