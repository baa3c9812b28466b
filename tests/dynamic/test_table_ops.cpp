// tests/dynamic/test_table_ops.cpp — the second-round dynamic ops that are
// not rows of the elementwise table: values and gradients against PyTorch's
// (tests/reference/ops_r2.hpp), gradcheck and gradgradcheck, node names, and
// PyTorch's errors. Suites follow the headers: dynamic/compare.hpp,
// dynamic/reductions.hpp, dynamic/clamp.hpp, dynamic/structure.hpp,
// dynamic/indexing.hpp, dynamic/linalg.hpp, dynamic/nn.hpp. (The rows
// themselves are tested in tests/rules/.)
#include "reference/ops_r2.hpp"
#include "support/check.hpp"
#include "support/random_graphs.hpp"

using check::values;

namespace {
template <std::size_t N>
std::vector<double> all(const double (&v)[N]) { return std::vector<double>(v, v + N); }

// Values, gradients and second derivatives (of the gradient weighted by w1;
// skipped where g2 is empty) against PyTorch's, for ops of one 2x3 input,
// plus gradcheck and gradgradcheck.
struct OneInputCase {
  const char* name;
  std::function<mg::Tensor(const mg::Tensor&)> f;
  mg::Tensor w;
  std::vector<double> y, g, g2;
};
void check_one_input_cases(const std::vector<OneInputCase>& cases) {
  const mg::Tensor w1 = mg::tensor({{1., 2., 3.}, {-1., 0.5, 2.}});
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto x = mg::tensor({{0.5, -1.0, 2.0}, {1.5, 0.2, -0.3}}, mg::requires_grad());
      auto y = c.f(x);
      BOOST_CHECK_EQUAL(y.grad_fn()->name(), c.name);
      check::close(y, c.y, 1e-13);
      auto g = mg::autograd::grad({(y * c.w).sum()}, {x}, {}, std::nullopt, true)[0];
      check::close(g, c.g, 1e-13);
      if (c.g2.empty()) {  // (no second-order reference for this case)
      } else if (g.requires_grad()) {
        check::close(mg::autograd::grad({(g * w1).sum()}, {x})[0], c.g2, 1e-12);
      } else {
        check::close(mg::zeros({2, 3}), c.g2);
      }
      check::gradients([&](const std::vector<mg::Tensor>& in) { return c.f(in[0]); }, {values({2, 3})});
    }
  }
}
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
  // nested lists are typed the same way (libtorch: {{0, 0}, {2, 2}} is int64)
  static_assert(std::is_same_v<decltype(mg::tensor({{0, 0}, {2, 2}})), mg::BasicTensor<std::int64_t>>);
  static_assert(std::is_same_v<decltype(mg::tensor({{0.5}, {2.}})), mg::Tensor>);
  static_assert(std::is_same_v<decltype(mg::tensor({{1, 2.5}})), mg::Tensor>);
  static_assert(std::is_same_v<decltype(mg::tensor<float>({{1, 2}})), mg::BasicTensor<float>>);
  static_assert(std::is_same_v<decltype(mg::tensor<float>({1, 2.5})), mg::BasicTensor<float>>);
  BOOST_CHECK_EQUAL(mg::repr(mg::tensor({{0, 0}, {2, 2}})), "tensor([[0, 0],\n        [2, 2]])");
  BOOST_CHECK_EQUAL(mg::repr(mg::tensor({{1, 2.5}})), "tensor([[1.0000, 2.5000]])");
  // integer and bool tensors never require grad (SPEC; libtorch's sentence),
  // however it is asked for: a factory option or requires_grad_()
  const char* no_grad = "Only Tensors of floating point and complex dtype can require gradients";
  check::throws([] { mg::tensor({{1, 2}}, mg::requires_grad()); }, no_grad);
  check::throws([] { mg::tensor({2, 0, 2}, mg::requires_grad()); }, no_grad);
  check::throws([] { mg::tensor({2, 0, 2}).requires_grad_(); }, no_grad);
  check::throws([] { (mg::tensor({1., 2.}) > 1.).requires_grad_(); }, no_grad);
  check::throws([] { mg::zeros<std::int64_t>({2}, mg::requires_grad()); }, no_grad);
  check::throws([] { mg::arange<std::int64_t>(3, mg::requires_grad()); }, no_grad);
  check::throws([] { mg::eye<std::int64_t>(2, mg::requires_grad()); }, no_grad);
  check::throws([] { mg::autograd::make_variable(mg::tensor({1, 2}), true); }, no_grad);
  auto idx = mg::tensor({2, 0, 2});
  idx.requires_grad_(false);  // asking for no gradient is fine
  BOOST_CHECK(!idx.requires_grad());
  BOOST_CHECK(!mg::tensor({2, 0, 2})[1].requires_grad());
  BOOST_CHECK(mg::tensor<float>({1, 2}, mg::requires_grad()).requires_grad());
  check::throws([] { mg::tensor({{1., 2.}, {3.}}); }, "expected sequence of length 2 at dim 1 (got 1)");
}

BOOST_AUTO_TEST_CASE(integer_tensors_reduce_and_join_as_integers) {
  // (values and text from PyTorch: integer reductions, scans and joins keep
  // int64; max, amax, prod and cumsum used not to compile for an index
  // tensor, and cat/stack of a braced list of them gave doubles)
  const auto a = mg::tensor({{3, -1, 2}, {0, 5, -4}});
  static_assert(std::is_same_v<decltype(a.max()), mg::BasicTensor<std::int64_t>>);
  BOOST_CHECK_EQUAL(mg::repr(a.max()), "tensor(5)");
  BOOST_CHECK_EQUAL(mg::repr(a.amax(1)), "tensor([3, 5])");
  BOOST_CHECK_EQUAL(mg::repr(a.prod()), "tensor(0)");
  BOOST_CHECK_EQUAL(mg::repr(a.prod(0)), "tensor([ 0, -5, -8])");
  BOOST_CHECK_EQUAL(mg::repr(a.cumsum(1)), "tensor([[3, 2, 4],\n        [0, 5, 1]])");
  BOOST_CHECK_EQUAL(mg::repr(a.sum(1, true)), "tensor([[4],\n        [1]])");
  static_assert(std::is_same_v<decltype(mg::cat({a, a})), mg::BasicTensor<std::int64_t>>);
  BOOST_CHECK_EQUAL(mg::repr(mg::cat({a, a}, 1)), "tensor([[ 3, -1,  2,  3, -1,  2],\n        [ 0,  5, -4,  0,  5, -4]])");
  BOOST_CHECK_EQUAL(mg::repr(mg::stack({a[0], a[1]})), "tensor([[ 3, -1,  2],\n        [ 0,  5, -4]])");
  // integer powers are exact int64 (wrapping as int64 arithmetic does; a
  // negative power truncates); a floating power or base gives double
  const auto i3 = mg::tensor({1, 2, 3});
  static_assert(std::is_same_v<decltype(mg::pow(i3, 2)), mg::BasicTensor<std::int64_t>>);
  BOOST_CHECK_EQUAL(mg::repr(i3.pow(2)), "tensor([1, 4, 9])");
  BOOST_CHECK_EQUAL(mg::repr(mg::pow(i3, i3)), "tensor([ 1,  4, 27])");
  BOOST_CHECK_EQUAL(mg::repr(mg::pow(-2, i3)), "tensor([-2,  4, -8])");
  BOOST_CHECK_EQUAL(mg::repr(mg::pow(mg::tensor({2, -1, 1}), mg::tensor({-1, -3, -2}))), "tensor([ 0, -1,  1])");
  BOOST_CHECK_EQUAL(mg::pow(mg::tensor({3}), 40).item<std::int64_t>(), -6289078614652622815LL);
  // (integers print every digit: they are not read through a double)
  BOOST_CHECK_EQUAL(mg::repr(mg::pow(mg::tensor({3}), 40)), "tensor([-6289078614652622815])");
  BOOST_CHECK_EQUAL(mg::repr(mg::tensor({9007199254740993LL, 1LL})), "tensor([9007199254740993,                1])");
  BOOST_CHECK_EQUAL(mg::pow(i3[2], 39).item<std::int64_t>(), 4052555153018976267LL);
  BOOST_CHECK_EQUAL(mg::repr(mg::pow(i3, 2.0)), "tensor([1., 4., 9.])");
  BOOST_CHECK_EQUAL(mg::repr(mg::pow(0.5, i3)), "tensor([0.5000, 0.2500, 0.1250])");
  check::throws([&] { mg::pow(i3, -1); }, "Integers to negative integer powers are not allowed.");
  BOOST_CHECK_EQUAL(mg::repr(mg::minimum(i3, mg::tensor({2, 2, 2}))), "tensor([1, 2, 2])");
  BOOST_CHECK_EQUAL(mg::repr(mg::maximum(i3, mg::tensor({2, 2, 2}))), "tensor([2, 2, 3])");
  // a bool tensor counts: its sum, product and running sum are int64 (PyTorch
  // promotes them; `(pred == target).sum()` used to print tensor(True))
  const auto m = mg::tensor({{-1., 2., 0.5}, {3., -4., 0.}}) > 0.;
  static_assert(std::is_same_v<decltype(m.sum()), mg::BasicTensor<std::int64_t>>);
  BOOST_CHECK_EQUAL(mg::repr(m.sum()), "tensor(3)");
  BOOST_CHECK_EQUAL(m.sum().item<std::int64_t>(), 3);
  BOOST_CHECK_EQUAL(mg::repr(mg::sum(m)), "tensor(3)");
  BOOST_CHECK_EQUAL(mg::repr(m.sum(1, true)), "tensor([[2],\n        [1]])");
  BOOST_CHECK_EQUAL(mg::repr(m.prod(1)), "tensor([0, 0])");
  BOOST_CHECK_EQUAL(mg::repr(mg::prod(m, 0, true)), "tensor([[0, 0, 0]])");
  BOOST_CHECK_EQUAL(mg::repr(m.cumsum(1)), "tensor([[0, 1, 2],\n        [1, 1, 1]])");
  BOOST_CHECK_EQUAL(mg::repr(m.max()), "tensor(True)");
  // ... and where it meets integers: + and * give int64 (`-` is a compile
  // error, tests/compile_fail/bool_tensor*.cpp), with bool numbers it stays bool
  const auto mv = mg::tensor({-1., 2., 0.5}) > 0.;
  const auto i = mg::tensor({1, 2, 3});
  static_assert(std::is_same_v<decltype(mv * 2), mg::BasicTensor<std::int64_t>>);
  BOOST_CHECK_EQUAL(mg::repr(mv * 2), "tensor([0, 2, 2])");
  BOOST_CHECK_EQUAL(mg::repr(2 * mv), "tensor([0, 2, 2])");
  BOOST_CHECK_EQUAL(mg::repr(mv + 1), "tensor([1, 2, 2])");
  BOOST_CHECK_EQUAL(mg::repr(i * mv), "tensor([0, 2, 3])");
  BOOST_CHECK_EQUAL(mg::repr(mv * i), "tensor([0, 2, 3])");
  BOOST_CHECK_EQUAL(mg::repr(i + mv), "tensor([1, 3, 4])");
  BOOST_CHECK_EQUAL(mg::repr(mv + true), "tensor([True, True, True])");
  BOOST_CHECK_EQUAL(mg::repr(mv * mv), "tensor([False,  True,  True])");
  BOOST_CHECK_EQUAL(mg::repr(mv * 2.5), "tensor([0.0000, 2.5000, 2.5000])");
  // a braced list of double tensors still records its node; a mixed one joins as double
  auto x = mg::tensor({{1., 2., 3.}}, mg::requires_grad());
  auto j = mg::cat({x, x * 2});
  BOOST_CHECK_EQUAL(j.grad_fn()->name(), "CatBackward0");
  j.sum().backward();
  check::close(x.grad(), {{3., 3., 3.}});
  BOOST_CHECK_EQUAL(mg::repr(mg::cat({x.detach(), mg::tensor({{1, 2, 3}})})), "tensor([[1., 2., 3.],\n        [1., 2., 3.]])");
  BOOST_CHECK_EQUAL(mg::stack({x, x}).grad_fn()->name(), "StackBackward0");
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

// where's backward without broadcasting runs as one loop per side (over g's
// own elements for the last side when g is the node's alone): the same
// gradients as the tensor formulas, a NaN or an infinity in g kept where the
// side was chosen and dropped (0) where it was not.
BOOST_AUTO_TEST_CASE(where_gradients_of_one_shape) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  auto c = mg::tensor({true, false, false, true, true});
  auto w = mg::tensor({2., inf, nan, -1., 3.});  // the upstream gradient
  auto x = mg::tensor({1., 2., 3., 4., 5.}, mg::requires_grad());
  auto y = mg::tensor({-1., -2., -3., -4., -5.}, mg::requires_grad());
  auto z = mg::where(c, x, y);
  check::close(z, {1., -2., -3., 4., 5.});
  (z * w).sum().backward();
  check::close(x.grad(), {2., 0., 0., -1., 3.});
  BOOST_TEST(y.grad().at({0}) == 0.);
  BOOST_TEST(std::isinf(y.grad().at({1})));
  BOOST_TEST(std::isnan(y.grad().at({2})));
  BOOST_TEST(y.grad().at({3}) == 0.);
  // one side only (the other a constant), a scalar other side, masked_fill
  auto x2 = mg::tensor({1., 2., 3., 4., 5.}, mg::requires_grad());
  (mg::where(c, x2, 0.5) * mg::tensor({1., 2., 3., 4., 5.})).sum().backward();
  check::close(x2.grad(), {1., 0., 0., 4., 5.});
  auto x3 = mg::tensor({1., 2., 3., 4., 5.}, mg::requires_grad());
  (mg::where(c, 7., x3) * 2.).sum().backward();
  check::close(x3.grad(), {0., 2., 2., 0., 0.});
  auto x4 = mg::tensor({1., 2., 3., 4., 5.}, mg::requires_grad());
  (x4.masked_fill(c, 0.) * x4).sum().backward();  // d/dx (x^2 where not c) = 2x there
  check::close(x4.grad(), {0., 4., 6., 0., 0.});
  // 0-d tensors, and the same gradients through create_graph (tensor formulas)
  auto s = mg::tensor(3., mg::requires_grad());
  auto t = mg::where(s > 2., s * s, s);
  auto gs = mg::autograd::grad({t}, {s}, {}, true, true)[0];
  BOOST_TEST(gs.item() == 6.);
  gs.backward();
  BOOST_TEST(s.grad().item() == 2.);
  check::gradients([&](const std::vector<mg::Tensor>& in) { return mg::where(in[0] > 0.5, in[0] * in[1], in[1]); },
                   {values({2, 3}), values({2, 3})});
}

// clamp's backward is one fused loop (UnaryNode with the bounds in its rule): 0-d tensors, long
// vectors, and bounds that every element is outside of.
BOOST_AUTO_TEST_CASE(clamp_gradients_fused) {
  auto s = mg::tensor(0.7, mg::requires_grad());
  mg::clamp(s * 2., 0., 1.).backward();
  BOOST_TEST(s.grad().item() == 0.);
  auto u = mg::tensor(0.3, mg::requires_grad());
  mg::clamp(u * 2., 0., 1.).backward();
  BOOST_TEST(u.grad().item() == 2.);
  auto v = mg::arange(0., 40.).requires_grad_();
  (mg::clamp(v, 5., 30.) * 3.).sum().backward();
  for (int i = 0; i < 40; ++i) BOOST_TEST(v.grad().at({i}) == (i >= 5 && i <= 30 ? 3. : 0.));
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::clamp(in[0] * 3., -1., 1.).exp(); }, {values({4, 5})});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamic_reductions)

BOOST_AUTO_TEST_CASE(long_softmax_lines_match_the_graph_formula) {
  // lines of 40 (>= kLongLine) run the forward and, without create_graph,
  // the backward as loops over lines in packets (rules' map_line / vjp_line);
  // they must equal the whole-tensor formula create_graph records
  // (vjp_along) and central differences; dim 0 (lines of 3) is the other path
  mg::manual_seed(7);
  const auto x = mg::randn({3, 40}, mg::requires_grad());
  const auto w = mg::randn({3, 40});
  const auto target = mg::tensor({5, 39, 0});
  const std::vector<std::function<mg::Tensor(const mg::Tensor&)>> fs = {
      [&](const mg::Tensor& t) { return (t.softmax(1) * w).sum(); },
      [&](const mg::Tensor& t) { return (t.log_softmax(1) * w).sum(); },
      [&](const mg::Tensor& t) { return mg::nn::functional::cross_entropy(t * 3., target); },
      [&](const mg::Tensor& t) { return (t.softmax(0) * w).sum() + t.logsumexp(1).sum(); }};
  for (const auto& f : fs) {
    auto line_path = mg::autograd::grad({f(x)}, {x})[0];
    auto graph_path = mg::autograd::grad({f(x)}, {x}, {}, std::nullopt, true)[0];
    check::close(line_path, graph_path.detach(), 1e-13);
    check::gradients([&](const std::vector<mg::Tensor>& in) { return f(in[0]); }, {x}, false);
  }
  check::close(x.softmax(1).sum(1), {1., 1., 1.}, 1e-14);
}

BOOST_AUTO_TEST_CASE(softmax_logsumexp_amax_equal_pytorch) {
  const mg::Tensor w1 = mg::tensor({{1., 2., 3.}, {-1., 0.5, 2.}});
  using namespace reference;
  check_one_input_cases({
      {"SoftmaxBackward0", [](const mg::Tensor& t) { return t.softmax(1); }, w1, all(softmax1_y), all(softmax1_g), {}},
      {"LogSoftmaxBackward0", [](const mg::Tensor& t) { return t.log_softmax(0); }, w1, all(log_softmax0_y), all(log_softmax0_g), {}},
      {"LogsumexpBackward0", [](const mg::Tensor& t) { return t.logsumexp(1); }, mg::tensor({1., -2.}), all(logsumexp1_y), all(logsumexp1_g), {}},
      {"LogsumexpBackward0", [](const mg::Tensor& t) { return mg::logsumexp(t, 0, true); }, mg::tensor({{1., -2., 0.5}}), all(logsumexp0k_y), all(logsumexp0k_g), {}},
      {"AmaxBackward0", [](const mg::Tensor& t) { return t.amax(0); }, mg::tensor({1., -2., 0.5}), all(amax0_y), all(amax0_g), {}},
  });
}

// What each reduction's node saves is probed from its rule's formula along a
// dimension (rules/reductions.hpp), never declared by hand.
namespace r = mg::rules;
static_assert(r::along_needs<r::Softmax> == r::kY && r::along_needs<r::LogSoftmax> == r::kY);
static_assert(r::along_needs<r::Cumsum> == 0 && r::along_needs<r::Var> == r::kA);
static_assert(r::along_needs<r::Std> == (r::kA | r::kY) && r::along_needs<r::Norm> == (r::kA | r::kY));
static_assert(r::along_needs<r::LogSumExp> == (r::kA | r::kY) && r::along_needs<r::Amax> == (r::kA | r::kY));
static_assert(r::along_needs<r::ProdDim> == (r::kA | r::kY));

BOOST_AUTO_TEST_CASE(reduction_nodes_save_what_their_formula_reads) {
  auto x = mg::tensor({{0.5, -1.0, 2.0}, {1.5, 0.2, -0.3}}, mg::requires_grad());
  const std::vector<mg::Sizes> none, x_only{{2, 3}}, y_only{{2, 3}};
  BOOST_CHECK(x.cumsum(1).grad_fn()->saved_sizes() == none);
  BOOST_CHECK(x.softmax(1).grad_fn()->saved_sizes() == y_only);
  BOOST_CHECK(x.var(1).grad_fn()->saved_sizes() == x_only);
  const auto s = x.std(1).grad_fn()->saved_sizes();
  BOOST_REQUIRE_EQUAL(s.size(), 2u);
  BOOST_CHECK(s[0] == mg::Sizes({2, 3}) && s[1] == mg::Sizes({2}));
  const auto m = x.max().grad_fn()->saved_sizes();
  BOOST_REQUIRE_EQUAL(m.size(), 2u);
  BOOST_CHECK(m[0] == mg::Sizes({2, 3}) && m[1] == mg::Sizes{});
}

BOOST_AUTO_TEST_CASE(structure_and_linalg_nodes_save_what_their_formula_reads) {
  auto a = mg::tensor({{2.0, 0.5}, {0.3, 1.5}}, mg::requires_grad());
  const std::vector<mg::Sizes> none, one{{2, 2}}, a_and_y{{2, 2}, {}};
  BOOST_CHECK(mg::inverse(a).grad_fn()->saved_sizes() == one);  // y only
  BOOST_CHECK(mg::logdet(a).grad_fn()->saved_sizes() == one);   // A only
  BOOST_CHECK(mg::det(a).grad_fn()->saved_sizes() == a_and_y);
  BOOST_CHECK(mg::tril(a).grad_fn()->saved_sizes() == none);
  BOOST_CHECK(a.clamp(0.4, 1.0).grad_fn()->saved_sizes() == one);
  BOOST_CHECK(a.index_select(0, mg::tensor({1, 1, 0})).grad_fn()->saved_sizes() == none);
  BOOST_CHECK(a.permute({1, 0}).grad_fn()->saved_sizes() == none);
  // a product saves an operand only for the other side's gradient
  auto b = mg::tensor({{1.0, 2.0}, {3.0, 4.0}});
  BOOST_CHECK(mg::mm(a, b).grad_fn()->saved_sizes() == one);
  auto a3 = a.reshape({1, 2, 2}), b3 = b.reshape({1, 2, 2});
  const std::vector<mg::Sizes> a3_only{{1, 2, 2}};
  BOOST_CHECK(mg::bmm(a3, b3).grad_fn()->saved_sizes() == a3_only);
  // solve (rules::Solve through the pair node): A and the solution X, never B;
  // only A when B alone needs a gradient (its formula is solve(A^T, G))
  auto r = mg::tensor({1.0, -2.0}, mg::requires_grad());
  const std::vector<mg::Sizes> a_and_x{{2, 2}, {2}}, a_only{{2, 2}};
  BOOST_CHECK(mg::linalg::solve(a, r).grad_fn()->saved_sizes() == a_and_x);
  BOOST_CHECK(mg::linalg::solve(a.detach(), r).grad_fn()->saved_sizes() == a_only);
  static_assert(r::grad_a_needs<r::Solve> == (r::kA | r::kY) && r::grad_b_needs<r::Solve> == r::kA);
}

BOOST_AUTO_TEST_CASE(max_shares_the_gradient_between_ties) {
  auto x = mg::tensor({1., 3., 3., 2.}, mg::requires_grad());
  auto m = x.max();
  BOOST_CHECK_EQUAL(m.grad_fn()->name(), "MaxBackward1");
  BOOST_CHECK_EQUAL(m.item(), 3.);
  m.backward();
  check::close(x.grad(), {0., 0.5, 0.5, 0.});
}

// Without create_graph, reductions over every element and along the last
// dimension run their formulas on the elements (WholeAlong, line by line);
// with it, as tensor ops. Both give the same gradients: ties, zeros, a
// negative line, lines of one element.
BOOST_AUTO_TEST_CASE(reductions_on_elements_match_their_tensor_formulas) {
  const auto base = mg::tensor({{1., 3., 3., -2., 0.5, 2.},
                                {0., 1.5, -1., 0., 2., 0.25},
                                {-1., -2., -0.5, -3., -1.5, -4.},
                                {0.7, 0.7, 0.7, 0.7, 0.7, 0.7}});
  const auto w = mg::tensor({1.5, -2., 0.5, 3.});
  using F = std::function<mg::Tensor(const mg::Tensor&)>;
  const std::vector<std::pair<const char*, F>> cases = {
      {"amax", [&](const mg::Tensor& t) { return (t.amax(1) * w).sum(); }},
      {"logsumexp", [&](const mg::Tensor& t) { return (t.logsumexp(1) * w).sum(); }},
      {"var", [&](const mg::Tensor& t) { return (t.var(1) * w).sum(); }},
      {"std", [&](const mg::Tensor& t) { return (t.std(1) * w).sum(); }},
      {"norm", [&](const mg::Tensor& t) { return (t.norm(1) * w).sum(); }},
      {"prod", [&](const mg::Tensor& t) { return (t.prod(1) * w).sum(); }},
      {"prod keepdim", [&](const mg::Tensor& t) { return (mg::prod(t, 1, true).squeeze(1) * w).sum(); }},
      {"amax of a column", [&](const mg::Tensor& t) { return (t.narrow(1, 0, 1).contiguous().amax(1) * w).sum(); }},
      {"max()", [](const mg::Tensor& t) { return t.max() * 2.5; }},
      {"var()", [](const mg::Tensor& t) { return t.var() * 2.5; }},
      {"std()", [](const mg::Tensor& t) { return t.std() * 2.5; }},
      {"norm()", [](const mg::Tensor& t) { return t.norm() * 2.5; }},
      {"prod() with zeros", [](const mg::Tensor& t) { return t.prod() * 2.5; }},
      {"prod() without", [](const mg::Tensor& t) { return (t * 0.1 + 1.0).prod() * 2.5; }},
  };
  for (const auto& [name, f] : cases) {
    BOOST_TEST_CONTEXT(name) {
      auto x = base.detach().requires_grad_();
      const auto fast = mg::autograd::grad({f(x)}, {x})[0];
      const auto formula = mg::autograd::grad({f(x)}, {x}, {}, true, true)[0];
      check::close(fast, formula, 1e-12);
    }
  }
}

BOOST_AUTO_TEST_CASE(logsumexp_is_stable) {
  auto x = mg::tensor({1000., 1000.});
  BOOST_CHECK_CLOSE(x.logsumexp(0).item(), 1000. + std::log(2.), 1e-12);
  BOOST_CHECK_CLOSE(x.softmax(0).data_ptr()[0], 0.5, 1e-12);
  check::throws([&] { x.softmax(2); }, "Dimension out of range");
}

BOOST_AUTO_TEST_CASE(cumsum_var_std_norm_equal_pytorch) {
  const mg::Tensor w1 = mg::tensor({{1., 2., 3.}, {-1., 0.5, 2.}});
  using namespace reference;
  check_one_input_cases({
      {"CumsumBackward0", [](const mg::Tensor& t) { return t.cumsum(1); }, w1, all(cumsum1_y), all(cumsum1_g), all(cumsum1_g2)},
      {"VarBackward0", [](const mg::Tensor& t) { return t.var(); }, mg::tensor(1.5), all(var_all_y), all(var_all_g), all(var_all_g2)},
      {"VarBackward0", [](const mg::Tensor& t) { return t.var(1); }, mg::tensor({1., -2.}), all(var1_y), all(var1_g), all(var1_g2)},
      {"VarBackward0", [](const mg::Tensor& t) { return t.var(0, false, true); }, mg::tensor({{1., -2., 0.5}}), all(var0kb_y), all(var0kb_g), all(var0kb_g2)},
      {"StdBackward0", [](const mg::Tensor& t) { return t.std(); }, mg::tensor(1.5), all(std_all_y), all(std_all_g), all(std_all_g2)},
      {"StdBackward0", [](const mg::Tensor& t) { return t.std(0); }, mg::tensor({1., -2., 0.5}), all(std0_y), all(std0_g), all(std0_g2)},
      {"NormBackward1", [](const mg::Tensor& t) { return t.norm(); }, mg::tensor(1.5), all(norm_all_y), all(norm_all_g), all(norm_all_g2)},
      {"NormBackward1", [](const mg::Tensor& t) { return mg::norm(t, 1); }, mg::tensor({1., -2.}), all(norm1_y), all(norm1_g), all(norm1_g2)},
  });
}

BOOST_AUTO_TEST_CASE(prod_is_exact_with_zeros_to_third_order) {
  // Rows with no zero, one zero and two zeros; every order against PyTorch.
  const auto wz = mg::tensor({{1., 2., 3.}, {-1., 0.5, 2.}, {0.7, -0.4, 1.1}});
  struct Case {
    const char* name;
    std::function<mg::Tensor(const mg::Tensor&)> f;
    mg::Tensor w;
    std::vector<double> y, g, g2, g3;
  };
  using namespace reference;
  const Case cases[] = {
      {"ProdBackward1", [](const mg::Tensor& t) { return t.prod(1); }, mg::tensor({1., -2., 0.5}), all(prod1_y), all(prod1_g), all(prod1_g2), all(prod1_g3)},
      {"ProdBackward1", [](const mg::Tensor& t) { return mg::prod(t, 0, true); }, mg::tensor({{1., -2., 0.5}}), all(prod0k_y), all(prod0k_g), all(prod0k_g2), all(prod0k_g3)},
      {"ProdBackward0", [](const mg::Tensor& t) { return t.narrow(0, 0, 2).prod(); }, mg::tensor(1.5), all(prod_all_y), all(prod_all_g), all(prod_all_g2), all(prod_all_g3)},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto z = mg::tensor({{0.5, 0., 2.}, {1.5, 0.2, -0.3}, {0., 0., 1.2}}, mg::requires_grad());
      auto y = c.f(z);
      BOOST_CHECK_EQUAL(y.grad_fn()->name(), c.name);
      check::close(y, c.y, 1e-15);
      auto g = mg::autograd::grad({(y * c.w).sum()}, {z}, {}, std::nullopt, true)[0];
      check::close(g, c.g, 1e-15);
      BOOST_REQUIRE(g.requires_grad());
      auto g2 = mg::autograd::grad({(g * wz).sum()}, {z}, {}, std::nullopt, true)[0];
      check::close(g2, c.g2, 1e-14);
      BOOST_REQUIRE(g2.requires_grad());
      check::close(mg::autograd::grad({(g2 * wz).sum()}, {z})[0], c.g3, 1e-14);
    }
  }
  check::gradients([](const std::vector<mg::Tensor>& in) { return in[0].prod(1); }, {values({2, 3})});
}

BOOST_AUTO_TEST_CASE(lgamma_has_derivatives_of_every_order) {
  // d/dx lgamma = digamma, then polygamma(1), (2), (3): at x = 1 these are
  // -gamma, zeta(2), -2 zeta(3), 6 zeta(4) (exact values, not PyTorch's:
  // its CPU trigamma is accurate to about 1e-10).
  const double want[] = {-0.57721566490153286, 1.6449340668482264, -2.4041138063191886, 6.4939394022668291};
  auto x = mg::tensor({1.0}, mg::requires_grad());
  auto d = x.lgamma();
  for (int k = 0; k < 4; ++k) {
    d = mg::autograd::grad({d.sum()}, {x}, {}, std::nullopt, true)[0];
    BOOST_CHECK_CLOSE(d.item(), want[k], 1e-12);
    BOOST_CHECK_EQUAL(d.grad_fn()->name(), "MulBackward0");  // g * psi^(k)(x)
  }
  auto p = mg::polygamma(2, x);
  BOOST_CHECK_EQUAL(p.grad_fn()->name(), "PolygammaBackward0");
  BOOST_CHECK_CLOSE(p.item(), want[2], 1e-12);
  BOOST_CHECK_EQUAL(mg::polygamma(0, x).grad_fn()->name(), "DigammaBackward0");
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::polygamma(1, in[0] + 2.0); }, {values({3})});
  check::throws([&] { mg::polygamma(-1, x); }, "polygamma(n, x) does not support negative n.");
}

BOOST_AUTO_TEST_CASE(std_and_norm_at_zero_and_degenerate_sizes) {
  // PyTorch: the gradient of std and norm is 0 where the result is 0.
  auto z = mg::zeros({3}, mg::requires_grad());
  z.norm().backward();
  check::close(z.grad(), {0., 0., 0.});
  auto c = mg::full({3}, 2., mg::requires_grad());
  c.std().backward();
  check::close(c.grad(), {0., 0., 0.});
  BOOST_CHECK(std::isnan(mg::tensor({1.}).var().item()));  // N - 1 = 0
  BOOST_CHECK_EQUAL(mg::tensor({1.}).var(false).item(), 0.);
  BOOST_CHECK_CLOSE(mg::tensor({3e200, 4e200}).norm().item(), 5e200, 1e-12);  // scaled: no overflow
  check::throws([&] { mg::cumsum(mg::ones({2}), 1); }, "Dimension out of range");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamic_clamp)

BOOST_AUTO_TEST_CASE(clamp_equals_pytorch) {
  const mg::Tensor w1 = mg::tensor({{1., 2., 3.}, {-1., 0.5, 2.}});
  using namespace reference;
  check_one_input_cases({
      {"ClampBackward1", [](const mg::Tensor& t) { return mg::clamp(t, -0.5, 1.0); }, w1, all(clamp_y), all(clamp_g), all(clamp_g2)},
      {"ClampMinBackward0", [](const mg::Tensor& t) { return t.clamp_min(0.2); }, w1, all(clamp_min_y), all(clamp_min_g), all(clamp_min_g2)},
      {"ClampBackward1", [](const mg::Tensor& t) { return t.clamp(std::nullopt, 0.5); }, w1, all(clamp_max_y), all(clamp_max_g), all(clamp_max_g2)},
  });
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto x = mg::tensor({nan, 3., -3.}, mg::requires_grad());
  auto y = mg::clamp(x, 1., 0.);  // min > max: every element is max; NaN stays NaN
  BOOST_CHECK(std::isnan(y.at({0})));
  BOOST_CHECK_EQUAL(y.at({1}), 0.);
  BOOST_CHECK_EQUAL(y.at({2}), 0.);
  BOOST_CHECK_EQUAL(mg::clamp_max(x, 1.).grad_fn()->name(), "ClampMaxBackward0");
  check::throws([&] { mg::clamp(x, std::nullopt, std::nullopt); }, "At least one of 'min' or 'max' must not be None");
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

BOOST_AUTO_TEST_CASE(transpose_and_permute_are_views_equal_to_pytorch) {
  auto x3 = (mg::arange(24).reshape({2, 3, 4}) * 0.1 - 1.0).detach().requires_grad_();
  const auto w3 = mg::arange(24).reshape({4, 3, 2}) * 0.5 - 3.0;
  auto t = x3.transpose(0, 2);
  BOOST_CHECK_EQUAL(t.grad_fn()->name(), "TransposeBackward0");
  BOOST_CHECK(t.sizes() == mg::Sizes({4, 3, 2}));
  BOOST_CHECK(!t.is_contiguous());
  BOOST_CHECK(t.data_ptr() == x3.data_ptr());  // a view: same storage
  check::close(t.contiguous(), all(reference::transpose02_y));
  (t * w3).sum().backward();
  check::close(x3.grad(), all(reference::transpose02_g));
  x3.mutable_grad() = {};
  auto p = mg::permute(x3, {2, 0, 1});
  BOOST_CHECK_EQUAL(p.grad_fn()->name(), "PermuteBackward0");
  check::close(p.contiguous(), all(reference::permute201_y));
  (p * w3.reshape({4, 2, 3})).sum().backward();
  check::close(x3.grad(), all(reference::permute201_g));
  check::gradients([](const std::vector<mg::Tensor>& in) { return in[0].transpose(-1, 0) * in[0].transpose(1, 0); },
                   {values({3, 3})});
  check::gradients([](const std::vector<mg::Tensor>& in) { return in[0].permute({1, 2, 0}).sum(0); }, {values({2, 3, 2})});
  // Writing through a permuted view records CopySlices on the base.
  auto base = values({2, 3}).detach();
  auto leaf = values({3, 2});
  auto y = base.clone();
  y.permute({1, 0}).copy_(leaf * 2);
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "CopySlices");
  y.sum().backward();
  check::close(leaf.grad(), std::vector<double>(6, 2.));
  check::throws([&] { x3.permute({0, 1}); }, "number of dimensions in the tensor input does not match");
  check::throws([&] { x3.permute({0, 1, 1}); }, "permute(): duplicate dims are not allowed.");
  check::throws([&] { x3.transpose(0, 3); }, "Dimension out of range (expected to be in range of [-3, 2], but got 3)");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamic_indexing)

BOOST_AUTO_TEST_CASE(index_select_and_gather_equal_pytorch) {
  auto x = mg::tensor({{0.5, -1.0, 2.0}, {1.5, 0.2, -0.3}}, mg::requires_grad());
  const auto idx = mg::tensor({2, 0, 2});
  auto y = x.index_select(1, idx);
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "IndexSelectBackward0");
  check::close(y, all(reference::index_select_y));
  (y * mg::tensor({{1., 2., 3.}, {-1., 0.5, 2.}})).sum().backward();
  check::close(x.grad(), all(reference::index_select_g));  // repeated index: the gradients add
  x.mutable_grad() = {};
  const auto gi = mg::tensor<std::int64_t>({{0, 0}, {1, 2}});
  auto z = mg::gather(x, 1, gi);
  BOOST_CHECK_EQUAL(z.grad_fn()->name(), "GatherBackward0");
  check::close(z, all(reference::gather_y));
  (z * mg::tensor({{1., 2.}, {-1., 0.5}})).sum().backward();
  check::close(x.grad(), all(reference::gather_g));
  check::gradients([&](const std::vector<mg::Tensor>& in) { return mg::index_select(in[0], 0, mg::tensor({1, 1, 0})); },
                   {values({2, 3})});
  check::gradients([&](const std::vector<mg::Tensor>& in) { return in[0].gather(1, gi) * in[0].gather(1, gi); },
                   {values({2, 3})});
}

BOOST_AUTO_TEST_CASE(index_errors_name_the_shapes_and_change_nothing) {
  auto x = mg::tensor({{0.5, -1.0, 2.0}, {1.5, 0.2, -0.3}}, mg::requires_grad());
  check::throws([&] { x.index_select(1, mg::tensor<std::int64_t>({{0}})); }, "index_select(): Index is supposed to be a vector");
  check::throws([&] { x.index_select(1, mg::tensor({3})); }, "index out of range in self (index_select: index 3 for dimension 1 of size 3");
  check::throws([&] { x.gather(1, mg::tensor({0, 1})); }, "Index tensor must have the same number of dimensions as input tensor");
  check::throws([&] { x.gather(1, mg::tensor<std::int64_t>({{0, 3}})); }, "index 3 is out of bounds for dimension 1 with size 3");
  check::throws([&] { x.gather(1, mg::tensor<std::int64_t>({{0, 1}, {0, 1}, {0, 1}})); },
                "Size does not match at dimension 0 expected index [3, 2] to be smaller than self [2, 3] apart from dimension 1");
  BOOST_CHECK(!x.grad().defined());
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

// A symmetric positive-definite A is factorised by Cholesky (rules/linalg.hpp,
// math::Factorisation): values and gradients as from LU, to rounding.
BOOST_AUTO_TEST_CASE(spd_matrices_solve_by_cholesky_with_lus_results) {
  Eigen::MatrixXd Pv(3, 3);
  Pv << 4., 1., 0.5, 1., 3., -0.2, 0.5, -0.2, 2.;
  const Eigen::PartialPivLU<Eigen::MatrixXd> lu(Pv);
  const Eigen::MatrixXd inv = lu.inverse();
  auto P = mg::from_eigen(Pv, mg::requires_grad());
  auto r = mg::tensor({1., 2., -1.});
  auto x = mg::linalg::solve(P, r);
  const Eigen::VectorXd want_x = lu.solve(Eigen::Vector3d(1., 2., -1.));
  check::close(x, {want_x[0], want_x[1], want_x[2]}, 1e-14);
  auto l = mg::logdet(P);
  check::close(l, {std::log(lu.determinant())}, 1e-14);
  check::close(mg::det(P), {lu.determinant()}, 1e-14);
  check::close(mg::inverse(P), mg::from_eigen(inv), 1e-14);
  l.backward();
  check::close(P.grad(), mg::from_eigen(Eigen::MatrixXd(inv.transpose())), 1e-14);
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::linalg::solve(in[0], in[1]) + mg::logdet(in[0]); },
                   {mg::from_eigen(Pv, mg::requires_grad()), values({3})});
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

BOOST_AUTO_TEST_CASE(cholesky_slogdet_tril_equal_pytorch) {
  auto P = mg::tensor({{4., 1., 0.5}, {1., 3., -0.2}, {0.5, -0.2, 2.}}, mg::requires_grad());
  const auto wL = mg::tensor({{1., 0., 0.}, {2., -1., 0.}, {0.5, 3., 1.5}});
  auto L = mg::linalg::cholesky(P);
  BOOST_CHECK_EQUAL(L.grad_fn()->name(), "LinalgCholeskyExBackward0");
  check::close(L, all(reference::cholesky_L), 1e-14);
  auto gP = mg::autograd::grad({(L * wL).sum()}, {P}, {}, std::nullopt, true)[0];
  check::close(gP, all(reference::cholesky_gP), 1e-13);
  check::close(mg::autograd::grad({(gP * wL).sum()}, {P})[0], all(reference::cholesky_gP2), 1e-12);
  // gradcheck on symmetric inputs (the function of A's lower triangle, symmetrised)
  check::gradients([](const std::vector<mg::Tensor>& in) {
    return mg::linalg::cholesky(in[0].matmul(in[0].t()) + mg::eye(3) * 3.0);
  }, {values({3, 3})});
  check::throws([&] { mg::linalg::cholesky(mg::tensor({{1., 2.}, {2., 1.}})); },
                "linalg.cholesky: The factorization could not be completed because the input is not positive-definite "
                "(the leading minor of order 2 is not positive-definite).");
  check::throws([&] { mg::linalg::cholesky(mg::ones({2, 3})); }, "linalg.cholesky: A must be batches of square matrices");

  auto N = mg::tensor({{0., 2., 1.}, {1., 0.5, 0.}, {0.3, -1., 2.}}, mg::requires_grad());
  auto [sign, logabs] = mg::linalg::slogdet(N);
  BOOST_CHECK_EQUAL(sign.grad_fn()->name(), "LinalgSlogdetBackward0");
  BOOST_CHECK(sign.grad_fn() == logabs.grad_fn());
  check::close(sign, all(reference::slogdet_sign));
  check::close(logabs, all(reference::slogdet_logabs), 1e-14);
  logabs.backward();
  check::close(N.grad(), all(reference::slogdet_gN), 1e-13);
  check::gradients([](const std::vector<mg::Tensor>& in) { return std::get<1>(mg::linalg::slogdet(in[0])); },
                   {mg::tensor({{0., 2., 1.}, {1., 0.5, 0.}, {0.3, -1., 2.}}, mg::requires_grad())});
  // one node, two outputs (MultiOutputRuleNode): output numbers 0 and 1, only
  // A saved; the sign's gradient alone gives zeros, both together the logdet's
  BOOST_CHECK_EQUAL(sign.output_nr(), 0u);
  BOOST_CHECK_EQUAL(logabs.output_nr(), 1u);
  BOOST_CHECK(logabs.grad_fn()->saved_sizes() == std::vector<mg::Sizes>{});  // freed by the backward above
  {
    auto [s1, l1] = mg::linalg::slogdet(N);
    BOOST_CHECK(l1.grad_fn()->saved_sizes() == std::vector<mg::Sizes>{N.sizes()});
    check::close(mg::autograd::grad({s1}, {N})[0], mg::zeros({3, 3}));
    auto [s2, l2] = mg::linalg::slogdet(N);
    check::close(mg::autograd::grad({s2 * 5.0 + l2}, {N})[0], all(reference::slogdet_gN), 1e-13);
  }
  auto [s0, l0] = mg::linalg::slogdet(mg::tensor({{1., 2.}, {2., 4.}}));
  BOOST_CHECK_EQUAL(s0.item(), 0.);
  BOOST_CHECK(std::isinf(l0.item()) && l0.item() < 0);

  auto A = mg::tensor({{4., 1., 0.5}, {1., 3., -0.2}, {0.3, -0.1, 2.}}, mg::requires_grad());
  auto t = mg::tril(A, -1);
  BOOST_CHECK_EQUAL(t.grad_fn()->name(), "TrilBackward0");
  check::close(t, all(reference::tril_y));
  (t * mg::arange(9).reshape({3, 3})).sum().backward();
  check::close(A.grad(), all(reference::tril_gA));
}

BOOST_AUTO_TEST_CASE(broadcast_rows_equal_the_same_shape_kernel_for_every_binary_row) {
  // Rows of at least 8 elements where one operand's row is one broadcast
  // number run a row at a time (kernels::binary), and the gradient of such
  // an operand sums whole rows (kernels::sum_to): every binary row of the
  // table against the same op on expanded contiguous copies, then gradcheck
  // and gradgradcheck through both kernels.
  const auto m = values({5, 9}, -1.5, 1.5, false), c = values({5, 1}, -1.2, 1.4, false);
  const auto r = values({1, 9}, -1.3, 1.1, false);
  // (the references below expand a column into dense rows: kernels::copy fills each row)
  const auto ce = c.expand({5, 9}).contiguous();
  for (std::int64_t i = 0; i < 5; ++i)
    for (std::int64_t j = 0; j < 9; ++j) BOOST_CHECK_EQUAL(ce.data_ptr()[i * 9 + j], c.data_ptr()[i]);
  for (const auto& row : fuzzgraph::binary_table_rows()) {
    BOOST_TEST_CONTEXT(row.name) {
      const auto A = fuzzgraph::into_domain(row.domain_a, m), B = fuzzgraph::into_domain(row.domain_b, m);
      const auto Ac = fuzzgraph::into_domain(row.domain_a, c), Bc = fuzzgraph::into_domain(row.domain_b, c);
      const auto Br = fuzzgraph::into_domain(row.domain_b, r);
      const mg::Sizes full{5, 9};
      check::close(row.fn(A, Bc), row.fn(A, Bc.expand(full).contiguous()), 1e-13);
      check::close(row.fn(Ac, B), row.fn(Ac.expand(full).contiguous(), B), 1e-13);
      check::close(row.fn(Ac, Br), row.fn(Ac.expand(full).contiguous(), Br.expand(full).contiguous()), 1e-13);
      check::gradients([&](const std::vector<mg::Tensor>& in) {
        return row.fn(fuzzgraph::into_domain(row.domain_a, in[0]), fuzzgraph::into_domain(row.domain_b, in[1]));
      }, {values({5, 9}), values({5, 1}, -1.2, 1.4)});
    }
  }
}

BOOST_AUTO_TEST_CASE(outer_is_one_kernel_without_grad_and_mul_with_it) {
  // operands that are views: a column of a matrix (stride 3), a slice of a row
  const auto m = mg::tensor({{1., 2., 3.}, {4., 5., 6.}, {7., 8., 9.}});
  const auto a = m.select(1, 1), b = m.select(0, 2).narrow(0, 0, 2);  // [2, 5, 8], [7, 8]
  const std::vector<double> expect{14., 16., 35., 40., 56., 64.};
  {
    mg::NoGradGuard off;
    const auto o = mg::outer(a, b);
    BOOST_CHECK(!o.grad_fn());
    check::close(o, expect);
    check::close(mg::outer(b, a), {14., 35., 56., 16., 40., 64.});  // the strided operand on the right
  }
  const auto x = a.detach().requires_grad_();
  const auto y = mg::outer(x, b);
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "MulBackward0");  // as PyTorch records it
  check::close(y, expect);
  check::gradients([&](const std::vector<mg::Tensor>& in) { return mg::outer(in[0], in[1]); }, {values({3}), values({2})});
  // mv's backward runs the kernel: dM = outer(g, v)
  const auto M = values({2, 3});
  const auto v = mg::tensor({0.5, -1.0, 2.0});
  (mg::mv(M, v) * mg::tensor({1.0, 3.0})).sum().backward();
  check::close(M.grad(), {0.5, -1.0, 2.0, 1.5, -3.0, 6.0});
}

BOOST_AUTO_TEST_CASE(bmm_and_batched_matmul_equal_pytorch) {
  auto a = (mg::arange(24).reshape({2, 3, 4}) * 0.1 - 1.0).detach().requires_grad_();
  auto b = (mg::arange(16).reshape({2, 4, 2}) * 0.25 - 1.5).detach().requires_grad_();
  const auto w = mg::arange(12).reshape({2, 3, 2});
  auto y = mg::bmm(a, b);
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "BmmBackward0");
  check::close(y, all(reference::bmm_y), 1e-13);
  (y * w).sum().backward();
  check::close(a.grad(), all(reference::bmm_ga), 1e-13);
  check::close(b.grad(), all(reference::bmm_gb), 1e-13);
  a.mutable_grad() = {};
  auto m = mg::tensor({{1., -1.}, {0.5, 2.}, {0., 1.}, {-2., 0.3}}, mg::requires_grad());
  auto z = mg::matmul(a, m);
  BOOST_CHECK_EQUAL(z.grad_fn()->name(), "UnsafeViewBackward0");
  BOOST_CHECK(z.sizes() == mg::Sizes({2, 3, 2}));
  check::close(z, all(reference::matmul32_y), 1e-13);
  (z * w).sum().backward();
  check::close(a.grad(), all(reference::matmul32_ga), 1e-13);
  check::close(m.grad(), all(reference::matmul32_gb), 1e-13);
  BOOST_CHECK_EQUAL(a.matmul(b).grad_fn()->name(), "UnsafeViewBackward0");
  check::gradients([](const std::vector<mg::Tensor>& in) { return mg::bmm(in[0], in[1]); }, {values({2, 2, 3}), values({2, 3, 2})});
  check::gradients([](const std::vector<mg::Tensor>& in) { return in[0].matmul(in[1]); }, {values({2, 2, 3}), values({3, 2})});
  check::throws([&] { mg::bmm(m, m); }, "batch1 must be a 3D tensor");
  check::throws([&] { mg::bmm(a, a); }, "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [2, 3].");
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

BOOST_AUTO_TEST_SUITE(dynamic_nn)

BOOST_AUTO_TEST_CASE(l1_loss_and_cross_entropy_equal_pytorch) {
  namespace F = mg::nn::functional;
  auto x = mg::tensor({{0.5, -1.0, 2.0}, {1.5, 0.2, -0.3}}, mg::requires_grad());
  auto t = mg::tensor({{0., 1., 2.}, {1., 1., -1.}}, mg::requires_grad());
  auto l = F::l1_loss(x, t);
  BOOST_CHECK_EQUAL(l.grad_fn()->name(), "MeanBackward0");
  check::close(l, all(reference::l1_loss_y), 1e-14);
  l.backward();
  check::close(x.grad(), all(reference::l1_loss_ga));
  check::close(t.grad(), all(reference::l1_loss_gb));
  const mg::Tensor w1 = mg::tensor({{1., 2., 3.}, {-1., 0.5, 2.}});
  struct Case { mg::BasicTensor<std::int64_t> target; std::vector<double> y, g, g2; };
  const Case cases[] = {
      {mg::tensor({2, 0}), all(reference::cross_entropy_y), all(reference::cross_entropy_g), all(reference::cross_entropy_g2)},
      {mg::tensor({2, -100}), all(reference::cross_entropy_ignore_y), all(reference::cross_entropy_ignore_g),
       all(reference::cross_entropy_ignore_g2)},
  };
  for (const auto& c : cases) {
    auto y = F::cross_entropy(x, c.target);
    BOOST_CHECK_EQUAL(y.grad_fn()->name(), "NllLossBackward0");
    BOOST_CHECK_EQUAL(y.grad_fn()->next_functions()[0].first->name(), "LogSoftmaxBackward0");
    check::close(y, c.y, 1e-14);
    auto g = mg::autograd::grad({y}, {x}, {}, std::nullopt, true)[0];
    check::close(g, c.g, 1e-14);
    check::close(mg::autograd::grad({(g * w1).sum()}, {x})[0], c.g2, 1e-13);
  }
  check::gradients([](const std::vector<mg::Tensor>& in) { return F::cross_entropy(in[0], mg::tensor({1, 1, 0})); },
                   {values({3, 4})});
  check::throws([&] { F::cross_entropy(x, mg::tensor({0, 3})); }, "Target 3 is out of bounds.");
  check::throws([&] { F::cross_entropy(x, mg::tensor({0, 1, 2})); }, "Expected input batch_size (2) to match target batch_size (3).");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamic_float)

// Every op of this file on float tensors (the compiled library instantiates
// them for float too): values and gradients equal the double results to
// float precision, and stay float.
BOOST_AUTO_TEST_CASE(the_second_round_ops_work_on_float_tensors) {
  using F = mg::BasicTensor<float>;
  const std::vector<double> xv{0.5, -1.2, 2.0, 1.5, 0.2, -0.3, 0.7, 1.1, -0.4};  // (no pole of lgamma)
  auto make = [&](auto zero) {
    using T = decltype(zero);
    auto t = mg::zeros<T>({3, 3});
    for (int k = 0; k < 9; ++k) t.data_ptr()[k] = static_cast<T>(xv[static_cast<std::size_t>(k)]);
    return t.requires_grad_();
  };
  auto ops = [](const auto& x) {
    using T = typename std::remove_cvref_t<decltype(x)>::value_type;
    const auto spd = x.matmul(x.t()) + mg::eye<T>(3) * T(2);
    return (x.cumsum(1) * T(0.5)).sum() + x.var(0).sum() + x.std() + x.norm(1).sum() + x.prod(0).sum() +
           mg::clamp(x, T(-0.5), T(1)).sum() + x.index_select(1, mg::tensor({2, 0})).sum() +
           x.gather(0, mg::tensor<std::int64_t>({{1, 2, 0}})).sum() + x.permute({1, 0}).transpose(0, 1).sum() +
           mg::linalg::cholesky(spd).sum() + std::get<1>(mg::linalg::slogdet(spd)) +
           mg::bmm(x.unsqueeze(0), x.unsqueeze(0)).sum() + x.lgamma().abs().sum() * T(0.1) +
           mg::nn::functional::cross_entropy(x, mg::tensor({2, 0, 1}));
  };
  auto xd = make(0.0);
  F xf = make(0.0f);
  auto yd = ops(xd);
  auto yf = ops(xf);
  static_assert(std::is_same_v<decltype(yf), F>);
  BOOST_CHECK_CLOSE(static_cast<double>(yf.item()), yd.item(), 1e-4);
  yd.backward();
  yf.backward();
  for (int k = 0; k < 9; ++k) BOOST_CHECK_CLOSE(static_cast<double>(xf.grad().data_ptr()[k]), xd.grad().data_ptr()[k], 2e-3);
  BOOST_CHECK(mg::repr(xf.grad()).find("dtype=torch.float32") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
