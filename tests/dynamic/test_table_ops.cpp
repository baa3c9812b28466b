// tests/dynamic/test_table_ops.cpp — the second-round dynamic ops that are
// not rows of the elementwise table: values and gradients against PyTorch's
// (tests/reference/ops_r2.hpp), gradcheck and gradgradcheck, node names, and
// PyTorch's errors. Suites follow the headers: dynamic/compare.hpp,
// dynamic/reductions.hpp, dynamic/structure.hpp, dynamic/linalg.hpp. (The
// rows themselves are tested in tests/rules/.)
#include "reference/ops_r2.hpp"
#include "support/check.hpp"

using check::values;

namespace {
template <std::size_t N>
std::vector<double> all(const double (&v)[N]) { return std::vector<double>(v, v + N); }
}  // namespace

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
