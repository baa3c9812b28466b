// tests/rules/test_table_dynamic.cpp — every row of rules/elementwise.hpp in
// dynamic mode, iterating the table's own row list: values, first and second
// derivatives against PyTorch's (tests/reference/ops_r2.hpp), node names,
// gradcheck and gradgradcheck, float, domain errors; what each backward reads
// (found by probing the rule, rules/probe.hpp).
#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "reference/ops_r2.hpp"
#include "support/check.hpp"
#include "support/random_graphs.hpp"

using check::values;

namespace {
struct TableOp {
  mg::Tensor (*fn)(const mg::Tensor&);
  const char* node;
};
/// Every unary op of the table, by its name (generated from the table's row list).
const std::map<std::string, TableOp>& table_ops() {
#define METAGRAD_TEST_ENTRY(Rule, fn) {#fn, TableOp{[](const mg::Tensor& x) { return mg::fn(x); }, mg::rules::Rule::node_name}},
  static const std::map<std::string, TableOp> ops{METAGRAD_FOR_EACH_UNARY(METAGRAD_TEST_ENTRY)};
#undef METAGRAD_TEST_ENTRY
  return ops;
}
std::vector<double> row(const double (&v)[3]) { return {v[0], v[1], v[2]}; }
template <std::size_t N>
std::vector<double> all(const double (&v)[N]) { return std::vector<double>(v, v + N); }
}  // namespace

// What each backward reads is found by probing the rule's formula (rules/probe.hpp).
namespace r = mg::rules;
static_assert(r::uses_output<r::Exp> && !r::uses_input<r::Exp>);
static_assert(r::uses_input<r::Log1p> && !r::uses_output<r::Log1p>);
static_assert(!r::uses_input<r::Floor> && !r::uses_output<r::Floor> && !r::uses_input<r::Neg>);
static_assert(r::grad_a_needs<r::Mul> == r::kB && r::grad_b_needs<r::Mul> == r::kA);
static_assert(r::grad_a_needs<r::Div> == r::kB && r::grad_b_needs<r::Div> == (r::kA | r::kB));
static_assert(r::grad_a_needs<r::Add> == 0 && r::grad_b_needs<r::Sub> == 0);
static_assert(r::grad_a_needs<r::Pow> == (r::kA | r::kB) && r::grad_b_needs<r::Pow> == (r::kA | r::kB | r::kY));
static_assert(r::grad_a_needs<r::Hypot> == (r::kA | r::kY) && r::grad_b_needs<r::Atan2> == (r::kA | r::kB));
// An operand a node did not save reaches the formula as NotSaved, which has
// no operations: a formula reading it cannot compile (it cannot silently
// read the gradient in its place).
template <class A, class B>
concept Multipliable = requires(const A& a, const B& b) { a * b; };
template <class A>
concept Exponentiable = requires(const A& a) { exp(a); };
static_assert(!Multipliable<mg::Tensor, mg::detail::NotSaved> && !Multipliable<mg::detail::NotSaved, double>);
static_assert(!Multipliable<mg::kernels::ConstArrayMap<double>, mg::detail::NotSaved>);
static_assert(!Exponentiable<mg::detail::NotSaved> && Exponentiable<mg::Tensor>);
static_assert(std::is_same_v<decltype(mg::detail::operand_if<r::grad_a_needs<r::Mul>, r::kA>(mg::Tensor{})),
                             mg::detail::NotSaved>);
static_assert(std::is_same_v<decltype(mg::detail::operand_if<r::grad_a_needs<r::Mul>, r::kB>(mg::Tensor{})), mg::Tensor>);
// Rules holding the op's arguments (rules/structure.hpp) and the matrix
// products: what each node saves is probed from the formula too.
static_assert(r::param_needs<r::Expand> == 0 && r::param_needs<r::Permute> == 0 && r::param_needs<r::SumMean<double>> == 0);
static_assert(r::param_needs<r::IndexSelect<mg::detail::IndexTensor>> == 0 && r::param_needs<r::Tril> == 0);
static_assert(r::param_needs<r::NllLoss<mg::Tensor>> == 0);
static_assert(r::param_needs<r::Clamp<double>> == r::kA && r::param_needs<r::ClampMinArg<float>> == r::kA);
static_assert(r::param_needs<r::Inverse> == r::kY && r::param_needs<r::LogDet> == r::kA);
static_assert(r::param_needs<r::Det> == (r::kA | r::kY) && r::param_needs<r::Cholesky> == r::kY);
static_assert(r::grad_a_needs<r::Bmm> == r::kB && r::grad_b_needs<r::Bmm> == r::kA);
static_assert(r::grad_a_needs<r::Mv> == r::kB && r::grad_b_needs<r::Vm> == r::kA && r::grad_a_needs<r::MatMul> == r::kB);

BOOST_AUTO_TEST_SUITE(rules_elementwise)

BOOST_AUTO_TEST_CASE(values_gradients_and_second_derivatives_equal_pytorch) {
  for (const auto& r : reference::unary_reference) {
    BOOST_TEST_CONTEXT("op " << r.name) {
      const auto it = table_ops().find(r.name);
      BOOST_REQUIRE_MESSAGE(it != table_ops().end(), "the derivative table has no row " << r.name);
      auto x = mg::tensor({r.x[0], r.x[1], r.x[2]}, mg::requires_grad());
      auto y = it->second.fn(x);
      check::close(y, row(r.y), 1e-13);
      BOOST_CHECK_EQUAL(y.grad_fn()->name(), it->second.node);
      auto g = mg::autograd::grad({y.sum()}, {x}, {}, std::nullopt, true)[0];
      check::close(g, row(r.dy), 1e-13);
      if (g.requires_grad()) {
        check::close(mg::autograd::grad({g.sum()}, {x}, {}, std::nullopt, false, true)[0], row(r.d2y), 1e-12);
      } else {
        for (double v : r.d2y) BOOST_CHECK_EQUAL(v, 0.0);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(every_new_row_passes_gradcheck_and_gradgradcheck) {
  for (const auto& r : reference::unary_reference) {
    BOOST_TEST_CONTEXT("op " << r.name) {
      const auto& op = table_ops().at(r.name);
      // (moved off the integers and halves where floor, ceil and round jump)
      auto x = mg::tensor({r.x[0] * 0.97 + 0.013, r.x[1] * 0.97 + 0.013, r.x[2] * 0.97 + 0.013}, mg::requires_grad());
      check::gradients([&](const std::vector<mg::Tensor>& in) { return op.fn(in[0]); }, {x});
    }
  }
}

/// Every row of the table (its own row list, with the domain each row
/// declares), gradchecked to second order at points spread over the domain.
BOOST_AUTO_TEST_CASE(every_row_passes_gradcheck_over_its_domain) {
  std::size_t rows = 0;
  for (const auto& row : fuzzgraph::table_rows()) {
    BOOST_TEST_CONTEXT("op " << row.name) {
      auto t = mg::tensor({-2.3, -0.7, 0.1, 0.9, 2.6});
      auto x = fuzzgraph::into_domain(row.domain, t).detach().requires_grad_();
      auto y = row.fn(x);
      for (std::int64_t i = 0; i < y.numel(); ++i) BOOST_CHECK(std::isfinite(y.data_ptr()[i]));
      check::gradients([&](const std::vector<mg::Tensor>& in) { return row.fn(in[0]); }, {x});
      ++rows;
    }
  }
  BOOST_CHECK_EQUAL(rows, table_ops().size());
}

/// Strided inputs take their own kernel paths (kernels::unary): dense rows
/// of a view a row at a time, an expanded tensor once per distinct element
/// and broadcast. Every row of the table on a column slice, a row slice, a
/// row and a column expanded equals the same op on a contiguous copy.
BOOST_AUTO_TEST_CASE(every_row_on_strided_and_expanded_inputs_equals_contiguous) {
  const auto m = (mg::arange(6 * 20) * (5.1 / 119) - 2.4).reshape({6, 20});
  for (const auto& row : fuzzgraph::table_rows()) {
    BOOST_TEST_CONTEXT("op " << row.name) {
      const auto x = fuzzgraph::into_domain(row.domain, m);
      const mg::Tensor inputs[] = {x.slice(1, 2, 14),                              // dense rows of 12
                                   x.slice(1, 0, 20, 3),                           // strided rows
                                   x.select(1, 4).unsqueeze(1).expand({6, 16}),    // a column expanded
                                   x.select(0, 2).expand({3, 20}),                 // a row expanded
                                   x.select(0, 1).select(0, 7).expand({4, 9})};    // a number expanded
      for (const auto& in : inputs) {
        BOOST_CHECK(!in.is_contiguous());
        check::close(row.fn(in), row.fn(in.contiguous()), 1e-14);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(float_tensors_keep_float) {
  auto x = mg::tensor<float>({0.5f, 1.5f}, mg::requires_grad());
  auto y = mg::atan(x) + mg::erf(x) + mg::log1p(x);
  y.sum().backward();
  BOOST_CHECK_CLOSE(x.grad().data_ptr()[0], 1 / 1.25 + 2 / std::sqrt(M_PI) * std::exp(-0.25) + 1 / 1.5, 1e-4);
  BOOST_CHECK(mg::repr(y).find("dtype=torch.float32") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(atan2_and_hypot_equal_pytorch) {
  auto a = mg::tensor({1.0, -2.0, 0.5}, mg::requires_grad()), b = mg::tensor({-0.5, 3.0, 2.0}, mg::requires_grad());
  auto y = mg::atan2(a, b);
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "Atan2Backward0");
  check::close(y, all(reference::atan2_y));
  y.sum().backward();
  check::close(a.grad(), all(reference::atan2_ga));
  check::close(b.grad(), all(reference::atan2_gb));
  a.mutable_grad() = {};
  b.mutable_grad() = {};
  auto h = mg::hypot(a, b);
  BOOST_CHECK_EQUAL(h.grad_fn()->name(), "HypotBackward0");
  check::close(h, all(reference::hypot_y));
  h.sum().backward();
  check::close(a.grad(), all(reference::hypot_ga));
  check::close(b.grad(), all(reference::hypot_gb));
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::atan2(in[0], in[1]); }, {values({2, 3}), values({3}, 0.5, 2)});
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::hypot(in[0], in[1]); }, {values({2, 3}), values({3}, 0.5, 2)});
}

BOOST_AUTO_TEST_CASE(minimum_and_maximum_split_ties_like_pytorch) {
  const auto w = mg::tensor({1., 2., 3., 4.});
  struct Case {
    const char* node;
    mg::Tensor (*f)(const mg::Tensor&, const mg::Tensor&);
    std::vector<double> y, ga, gb;
  };
  const Case cases[] = {
      {"MinimumBackward0", [](const mg::Tensor& a, const mg::Tensor& b) { return mg::minimum(a, b); },
       all(reference::minimum_y), all(reference::minimum_ga), all(reference::minimum_gb)},
      {"MaximumBackward0", [](const mg::Tensor& a, const mg::Tensor& b) { return mg::maximum(a, b); },
       all(reference::maximum_y), all(reference::maximum_ga), all(reference::maximum_gb)},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.node) {
      auto a = mg::tensor({1.0, -2.0, 0.5, 3.0}, mg::requires_grad()), b = mg::tensor({-0.5, 3.0, 0.5, 3.0}, mg::requires_grad());
      auto y = c.f(a, b);
      BOOST_CHECK_EQUAL(y.grad_fn()->name(), c.node);
      check::close(y, c.y);
      (y * w).sum().backward();
      check::close(a.grad(), c.ga);
      check::close(b.grad(), c.gb);
      check::gradients([&](const std::vector<mg::Tensor>& in) { return c.f(in[0], in[1]); }, {values({2, 3}), values({3}, -1.2, 1.3)});
    }
  }
  BOOST_CHECK_EQUAL(mg::nn::functional::softplus(mg::tensor({0.5}, mg::requires_grad())).grad_fn()->name(), "SoftplusBackward0");
}

// python3-torch: sign(NaN) = 0, so abs's derivative g * sign(x) is 0 there;
// relu passes g at a NaN (threshold_backward: 0 only where y <= 0)
BOOST_AUTO_TEST_CASE(sign_abs_and_relu_at_nan_like_pytorch) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  check::close(mg::sign(mg::tensor({nan, -0.0, -3.0, 2.0})), std::vector<double>{0., 0., -1., 1.});
  for (int create_graph = 0; create_graph < 2; ++create_graph) {
    auto x = mg::tensor({nan, -0.0, 0.0, -2.0, 3.0}, mg::requires_grad());
    const auto ga = mg::autograd::grad({mg::abs(x).sum()}, {x}, {}, true, create_graph != 0)[0];
    const auto gr = mg::autograd::grad({mg::relu(x).sum()}, {x}, {}, true, create_graph != 0)[0];
    const auto gs = mg::autograd::grad({mg::sign(x).sum()}, {x}, {}, true, create_graph != 0)[0];
    check::close(ga, std::vector<double>{0., 0., 0., -1., 1.});
    check::close(gr, std::vector<double>{1., 0., 0., 0., 1.});
    check::close(gs, std::vector<double>{0., 0., 0., 0., 0.});
  }
}

// python3-torch: a NaN on either side sends g to both (neither loses), equal
// infinities tie (g / 2 each), and maximum(0, -0) / minimum(-0, 0) return b
BOOST_AUTO_TEST_CASE(minimum_and_maximum_at_nan_infinity_and_signed_zero_like_pytorch) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  for (bool is_max : {false, true}) {
    BOOST_TEST_CONTEXT((is_max ? "maximum" : "minimum")) {
      auto a = mg::tensor({nan, 1.0, inf, -inf, 0.0, -0.0}, mg::requires_grad());
      auto b = mg::tensor({1.0, nan, inf, -inf, -0.0, 0.0}, mg::requires_grad());
      auto y = is_max ? mg::maximum(a, b) : mg::minimum(a, b);
      const auto c = y.contiguous();
      const double* v = c.data_ptr();
      BOOST_CHECK(std::isnan(v[0]) && std::isnan(v[1]));
      BOOST_CHECK_EQUAL(v[2], inf);
      BOOST_CHECK_EQUAL(v[3], -inf);
      BOOST_CHECK(std::signbit(v[4]));   // b = -0
      BOOST_CHECK(!std::signbit(v[5]));  // b = +0
      (y * mg::tensor({2., 2., 2., 2., 2., 2.})).sum().backward();
      check::close(a.grad(), std::vector<double>{2., 2., 1., 1., 1., 1.});
      check::close(b.grad(), std::vector<double>{2., 2., 1., 1., 1., 1.});
    }
  }
}

// python3-torch: max() sends g to the NaN elements when the maximum is a NaN
// (evenly_distribute_backward), amax(d) gives the whole line NaN there
// (g / count of x == max: 0 / 0); log_softmax shifts by the largest element
// before the logarithm ([1e308, 1e308, 1] is -log 2, -log 2, -1e308) and is
// NaN everywhere when that element is infinite. (norm is not PyTorch's at
// extremes: it neither overflows nor underflows.)
BOOST_AUTO_TEST_CASE(reductions_at_nan_infinity_and_large_values_like_pytorch) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  for (int create_graph = 0; create_graph < 2; ++create_graph) {
    BOOST_TEST_CONTEXT("create_graph " << create_graph) {
      auto x = mg::tensor({nan, 1.0, 2.0}, mg::requires_grad());
      const auto gmax = mg::autograd::grad({x.max() * 2.0}, {x}, {}, true, create_graph != 0)[0];
      check::close(gmax, std::vector<double>{2., 0., 0.});
      const auto gamax = mg::autograd::grad({x.amax(0) * 2.0}, {x}, {}, true, create_graph != 0)[0];
      for (int i = 0; i < 3; ++i) BOOST_CHECK(std::isnan(gamax.data_ptr()[i]));
      auto big = mg::tensor({1e308, 1e308, 1.0}, mg::requires_grad());
      const auto w = mg::tensor({1.0, 2.0, 3.0});
      const auto ls = big.log_softmax(0);
      check::close(ls, std::vector<double>{-0.6931471805599453, -0.6931471805599453, -1e308});
      const auto gls = mg::autograd::grad({(ls * w).sum()}, {big}, {}, true, create_graph != 0)[0];
      check::close(gls, std::vector<double>{-2., -1., 3.});
      auto hot = mg::tensor({inf, 1.0, 2.0}, mg::requires_grad());
      const auto lh = hot.log_softmax(0).contiguous();
      for (int i = 0; i < 3; ++i) BOOST_CHECK(std::isnan(lh.data_ptr()[i]));
      // a sum of -0s is +0 (PyTorch's sums start from +0)
      BOOST_CHECK(!std::signbit(mg::tensor({-0.0}).sum().item()) && !std::signbit(mg::tensor({-0.0, -0.0}).mean().item()));
      // norm keeps extreme values (PyTorch's sum of squares gives inf and 0 here)
      for (const double scale : {1e200, 1e-200}) {
        auto e = mg::tensor({3.0 * scale, 4.0 * scale}, mg::requires_grad());
        const auto n = e.norm();
        BOOST_CHECK_CLOSE(n.item(), 5.0 * scale, 1e-12);
        check::close(mg::autograd::grad({n}, {e}, {}, true, create_graph != 0)[0], std::vector<double>{0.6, 0.8});
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(every_row_along_a_dimension_passes_gradcheck_and_gradgradcheck) {
  // the list the random graphs and the fuzzer draw from (METAGRAD_FOR_EACH_ALONG)
  BOOST_REQUIRE_EQUAL(fuzzgraph::along_rows().size(), 9u);
  for (const auto& row : fuzzgraph::along_rows())
    for (int dim : {0, 1, -1})
      for (bool keepdim : {false, true}) {
        BOOST_TEST_CONTEXT(row.node << " along " << dim << (keepdim ? ", keepdim" : "")) {
          auto f = [&](const std::vector<mg::Tensor>& in) {
            return row.fn(fuzzgraph::into_domain(row.domain, in[0]), dim, keepdim);
          };
          auto x = values({2, 3}, -1.1, 1.7).requires_grad_();
          BOOST_CHECK_EQUAL(f({x}).grad_fn()->name(), row.node);
          check::gradients(f, {values({2, 3}, -1.1, 1.7)});
        }
      }
}

BOOST_AUTO_TEST_CASE(every_op_with_arguments_passes_gradcheck_and_gradgradcheck) {
  // the list the random graphs and the fuzzer draw from (METAGRAD_FOR_EACH_STRUCTURE),
  // each op on arguments drawn valid for inputs of several shapes
  BOOST_REQUIRE_EQUAL(fuzzgraph::structure_rows().size(), 30u);
  std::mt19937 rng(7);
  const fuzzgraph::Pick pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  const std::vector<mg::Sizes> shapes{{2, 3}, {}, {4}, {3, 1, 2}};
  for (const auto& row : fuzzgraph::structure_rows())
    for (std::size_t k = 0; k < shapes.size(); ++k)
      for (int draw = 0; draw < 3; ++draw) {
        BOOST_TEST_CONTEXT(row.name << " on input shape #" << k << ", draw " << draw) {
          const auto op = row.draw(shapes[k], pick);
          const auto x = values(shapes[k]);
          const auto y = op(x);
          BOOST_REQUIRE(y.requires_grad());
          if (!y.grad_fn())  // expand / sum_to_size to the input's own shape return the input
            BOOST_CHECK(y.impl_ptr() == x.impl_ptr());
          else if (k == 0)
            BOOST_CHECK_EQUAL(y.grad_fn()->name(), row.node);
          check::gradients([&](const std::vector<mg::Tensor>& in) { return op(in[0]); }, {values(shapes[k])});
        }
      }
}

BOOST_AUTO_TEST_CASE(domain_errors_are_nan_or_inf_not_exceptions) {
  auto y = mg::log1p(mg::tensor({-2.0, -1.0})) + mg::acosh(mg::tensor({0.5, 2.0}));
  BOOST_CHECK(std::isnan(y.data_ptr()[0]));
  BOOST_CHECK(std::isinf(mg::log1p(mg::tensor({-1.0})).item()));
  BOOST_CHECK(std::isnan(mg::atanh(mg::tensor({2.0})).item()));
}

BOOST_AUTO_TEST_SUITE_END()

