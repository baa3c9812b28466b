// tests/dynamic/test_table_ops.cpp — the ops of the derivative table's second
// round in dynamic mode: values, gradients and second derivatives against
// PyTorch's (tests/reference/ops_r2.hpp), gradcheck and gradgradcheck for
// each, node names, and PyTorch's errors. Suites follow the headers:
// rules/elementwise.hpp, dynamic/compare.hpp, dynamic/reductions.hpp,
// dynamic/structure.hpp, dynamic/linalg.hpp.
#include <map>

#include "reference/ops_r2.hpp"
#include "support/check.hpp"

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
static_assert(r::grad_a_needs<r::Pow> == (r::kA | r::kB) && r::grad_b_needs<r::Pow> == (r::kA | r::kY));
static_assert(r::grad_a_needs<r::Hypot> == (r::kA | r::kY) && r::grad_b_needs<r::Atan2> == (r::kA | r::kB));

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

BOOST_AUTO_TEST_CASE(domain_errors_are_nan_or_inf_not_exceptions) {
  auto y = mg::log1p(mg::tensor({-2.0, -1.0})) + mg::acosh(mg::tensor({0.5, 2.0}));
  BOOST_CHECK(std::isnan(y.data_ptr()[0]));
  BOOST_CHECK(std::isinf(mg::log1p(mg::tensor({-1.0})).item()));
  BOOST_CHECK(std::isnan(mg::atanh(mg::tensor({2.0})).item()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamic_compare)

BOOST_AUTO_TEST_CASE(comparisons_give_bool_tensors_that_print_like_pytorch) {
  auto a = mg::tensor({1., -2., 3.});
  BOOST_CHECK_EQUAL(mg::repr(a > 0.), "tensor([ True, False,  True])");
  BOOST_CHECK_EQUAL(mg::repr(a <= 1.), "tensor([ True,  True, False])");
  BOOST_CHECK_EQUAL(mg::repr(a == mg::tensor({1., 2., 3.})), "tensor([ True, False,  True])");
  BOOST_CHECK_EQUAL(mg::repr(!(a != 3.)), "tensor([False, False,  True])");
  BOOST_CHECK_EQUAL(mg::repr(mg::tensor({{1., 2.}}) < mg::tensor({{1.5}, {0.5}})), "tensor([[ True, False],\n        [False, False]])");
  BOOST_CHECK_EQUAL(mg::repr(mg::tensor({2, 0, 2})), "tensor([2, 0, 2])");
  BOOST_CHECK_EQUAL(mg::repr(mg::tensor({-12, 5})), "tensor([-12,   5])");
}

BOOST_AUTO_TEST_CASE(where_and_masked_fill) {
  auto a = mg::tensor({1., -2., 3.}, mg::requires_grad());
  auto b = mg::tensor({10.}, mg::requires_grad());
  auto z = mg::where(a > 0., a * 2, b);
  BOOST_CHECK_EQUAL(z.grad_fn()->name(), "WhereBackward0");
  check::close(z, {2., 10., 6.});
  z.sum().backward();
  check::close(a.grad(), {2., 0., 2.});
  check::close(b.grad(), {1.});  // summed over the broadcast
  auto m = a.masked_fill(a < 0., 0.5);
  BOOST_CHECK_EQUAL(m.grad_fn()->name(), "MaskedFillBackward0");
  check::close(m, {1., 0.5, 3.});
  auto c = mg::tensor({true, false, true});
  check::gradients([&](const std::vector<mg::Tensor>& in) { return mg::where(c, in[0] * in[1], in[1]); },
                   {values({2, 3}), values({3})});
  check::gradients([&](const std::vector<mg::Tensor>& in) { return in[0].masked_fill(c, 2.0) * in[0]; }, {values({3})});
  check::throws([&] { mg::where(c, mg::ones({2}), mg::ones({3})); }, "must match the size of tensor b");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamic_reductions)

BOOST_AUTO_TEST_CASE(softmax_logsumexp_amax_equal_pytorch) {
  const mg::Tensor w1 = mg::tensor({{1., 2., 3.}, {-1., 0.5, 2.}});
  struct Case {
    const char* name;
    std::function<mg::Tensor(const mg::Tensor&)> f;
    mg::Tensor w;
    std::vector<double> y, g;
  };
  const Case cases[] = {
      {"SoftmaxBackward0", [](const mg::Tensor& t) { return t.softmax(1); }, w1, all(reference::softmax1_y), all(reference::softmax1_g)},
      {"LogSoftmaxBackward0", [](const mg::Tensor& t) { return t.log_softmax(0); }, w1, all(reference::log_softmax0_y), all(reference::log_softmax0_g)},
      {"LogsumexpBackward0", [](const mg::Tensor& t) { return t.logsumexp(1); }, mg::tensor({1., -2.}), all(reference::logsumexp1_y), all(reference::logsumexp1_g)},
      {"LogsumexpBackward0", [](const mg::Tensor& t) { return mg::logsumexp(t, 0, true); }, mg::tensor({{1., -2., 0.5}}), all(reference::logsumexp0k_y), all(reference::logsumexp0k_g)},
      {"AmaxBackward0", [](const mg::Tensor& t) { return t.amax(0); }, mg::tensor({1., -2., 0.5}), all(reference::amax0_y), all(reference::amax0_g)},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto x = mg::tensor({{0.5, -1.0, 2.0}, {1.5, 0.2, -0.3}}, mg::requires_grad());
      auto y = c.f(x);
      BOOST_CHECK_EQUAL(y.grad_fn()->name(), c.name);
      check::close(y, c.y, 1e-13);
      (y * c.w).sum().backward();
      check::close(x.grad(), c.g, 1e-13);
      check::gradients([&](const std::vector<mg::Tensor>& in) { return c.f(in[0]); }, {values({2, 3})});
    }
  }
}

BOOST_AUTO_TEST_CASE(max_shares_the_gradient_between_ties) {
  auto x = mg::tensor({1., 3., 3., 2.}, mg::requires_grad());
  auto m = x.max();
  BOOST_CHECK_EQUAL(m.grad_fn()->name(), "MaxBackward1");
  BOOST_CHECK_EQUAL(m.item(), 3.);
  m.backward();
  check::close(x.grad(), {0., 0.5, 0.5, 0.});
}

BOOST_AUTO_TEST_CASE(logsumexp_is_stable) {
  auto x = mg::tensor({1000., 1000.});
  BOOST_CHECK_CLOSE(x.logsumexp(0).item(), 1000. + std::log(2.), 1e-12);
  BOOST_CHECK_CLOSE(x.softmax(0).data_ptr()[0], 0.5, 1e-12);
  check::throws([&] { x.softmax(2); }, "Dimension out of range");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamic_structure)

BOOST_AUTO_TEST_CASE(cat_stack_and_views) {
  auto a = values({2, 3}), b = values({1, 3}, 0.2, 0.9);
  auto c = mg::cat({a, b});
  BOOST_CHECK(c.sizes() == mg::Sizes({3, 3}));
  BOOST_CHECK_EQUAL(c.grad_fn()->name(), "CatBackward0");
  BOOST_CHECK_EQUAL(c.at({2, 1}), b.at({0, 1}));
  BOOST_CHECK_EQUAL(mg::stack({a, a}, 1).grad_fn()->name(), "StackBackward0");
  BOOST_CHECK(mg::stack({a, a}, 1).sizes() == mg::Sizes({2, 2, 3}));
  BOOST_CHECK_EQUAL(a.unsqueeze(0).grad_fn()->name(), "UnsqueezeBackward0");
  BOOST_CHECK(a.unsqueeze(-1).sizes() == mg::Sizes({2, 3, 1}));
  BOOST_CHECK(a.unsqueeze(0).squeeze(0).sizes() == mg::Sizes({2, 3}));
  BOOST_CHECK(a.narrow(1, 1, 2).sizes() == mg::Sizes({2, 2}));
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::cat({in[0] * 2, in[1]}, 0); }, {a, b});
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::cat({in[0], in[0].t()}, 1); }, {values({3, 3})});
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::stack({in[0], in[1] * in[0]}, 1); }, {a, values({2, 3})});
  check::gradients([](const std::vector<mg::Tensor>& in) { return in[0].unsqueeze(1).squeeze().narrow(0, 1, 1); }, {a});
  check::throws([&] { mg::cat({a, values({2, 2})}); }, "Sizes of tensors must match except in dimension 0");
  check::throws([&] { mg::stack({a, b}); }, "stack expects each tensor to be equal size");
  check::throws([&] { a.narrow(1, 2, 2); }, "exceeds dimension size");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamic_linalg)

BOOST_AUTO_TEST_CASE(solve_inverse_det_logdet_equal_pytorch) {
  auto A = mg::tensor({{4., 1., 0.5}, {1., 3., -0.2}, {0.3, -0.1, 2.}}, mg::requires_grad());
  auto B = mg::tensor({{1., 2.}, {0., -1.}, {3., 0.5}}, mg::requires_grad());
  auto X = mg::linalg::solve(A, B);
  BOOST_CHECK_EQUAL(X.grad_fn()->name(), "LinalgSolveExBackward0");
  check::close(X, all(reference::solve_X), 1e-13);
  (X * mg::tensor({{1., -1.}, {2., 0.5}, {0.3, 1.}})).sum().backward();
  check::close(A.grad(), all(reference::solve_gA), 1e-13);
  check::close(B.grad(), all(reference::solve_gB), 1e-13);

  A.mutable_grad() = {};
  auto r = mg::tensor({1., 2., -1.}, mg::requires_grad());
  auto x = mg::linalg::solve(A, r);
  check::close(x, all(reference::solvev_x), 1e-13);
  (x * mg::tensor({1., -2., 0.5})).sum().backward();
  check::close(A.grad(), all(reference::solvev_gA), 1e-13);
  check::close(r.grad(), all(reference::solvev_gr), 1e-13);

  A.mutable_grad() = {};
  auto Y = mg::inverse(A);
  BOOST_CHECK_EQUAL(Y.grad_fn()->name(), "LinalgInvExBackward0");
  check::close(Y, all(reference::inverse_Y), 1e-13);
  (Y * mg::arange(9).reshape({3, 3})).sum().backward();
  check::close(A.grad(), all(reference::inverse_gA), 1e-12);

  A.mutable_grad() = {};
  auto d = mg::det(A);
  BOOST_CHECK_EQUAL(d.grad_fn()->name(), "LinalgDetBackward0");
  check::close(d, all(reference::det_y), 1e-13);
  d.backward();
  check::close(A.grad(), all(reference::det_gA), 1e-12);

  A.mutable_grad() = {};
  auto l = mg::logdet(A);
  check::close(l, all(reference::logdet_y), 1e-13);
  l.backward();
  check::close(A.grad(), all(reference::logdet_gA), 1e-12);
}

BOOST_AUTO_TEST_CASE(linalg_gradcheck_and_gradgradcheck) {
  auto A = mg::tensor({{4., 1., 0.5}, {1., 3., -0.2}, {0.3, -0.1, 2.}}, mg::requires_grad());
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::linalg::solve(in[0], in[1]); }, {A, values({3, 2})});
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::linalg::solve(in[0], in[1]); }, {A, values({3})});
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::inverse(in[0]); }, {A});
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::det(in[0]); }, {A});
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::logdet(in[0]); }, {A});
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::outer(in[0], in[1]); }, {values({3}), values({2})});
}

BOOST_AUTO_TEST_CASE(singular_and_mismatched_inputs_throw_and_change_nothing) {
  auto S = mg::tensor({{1., 2.}, {2., 4.}}, mg::requires_grad());
  check::throws([&] { mg::inverse(S); }, "linalg.inv: The diagonal element 2 is zero");
  check::throws([&] { mg::linalg::solve(S, mg::ones({2})); }, "linalg.solve: The solver failed because the input matrix is singular.");
  check::throws([&] { mg::linalg::solve(mg::eye(2), mg::ones({3})); }, "Incompatible shapes of A and B");
  check::throws([&] { mg::inverse(mg::ones({2, 3})); }, "A must be batches of square matrices");
  BOOST_CHECK(!S.grad().defined());
  BOOST_CHECK_EQUAL(S.at({1, 1}), 4.);
  BOOST_CHECK(std::isnan(mg::logdet(mg::tensor({{-1., 0.}, {0., 1.}})).item()));
}

BOOST_AUTO_TEST_SUITE_END()
