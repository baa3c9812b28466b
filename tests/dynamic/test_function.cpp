// tests/dynamic/test_function.cpp — dynamic/function.hpp (custom autograd
// functions), tensor hooks, and the libtorch habits of SPEC "libtorch habits
// that must compile". The cases cover what libtorch's own C++ autograd tests
// cover (several outputs, saved tensors and data, dirty and
// non-differentiable outputs, grad mode, re-entrant backward, hooks).
#include "support/check.hpp"

using check::values;
using mg::autograd::AutogradContext;
using mg::autograd::Function;
using mg::autograd::variable_list;

namespace {
/// y = a + k b + a b, with k a plain int kept in saved_data.
struct Bilinear : Function<Bilinear> {
  static mg::Tensor forward(AutogradContext* ctx, mg::Tensor a, int k, mg::Tensor b) {
    ctx->saved_data["k"] = k;
    ctx->save_for_backward({a, b});
    return a + k * b + a * b;
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    const auto k = static_cast<double>(ctx->saved_data["k"].toInt());
    const auto s = ctx->get_saved_variables();
    return {g[0] + g[0] * s[1], mg::Tensor(), g[0] * k + g[0] * s[0]};
  }
};
/// Two outputs, the first marked non-differentiable.
struct SplitMarked : Function<SplitMarked> {
  static variable_list forward(AutogradContext* ctx, mg::Tensor x) {
    auto a = x + 1, b = x * 3;
    ctx->mark_non_differentiable({a});
    return {a, b};
  }
  static variable_list backward(AutogradContext*, variable_list g) {
    BOOST_CHECK(mg::equal(g[0], mg::zeros(g[0].sizes())));  // materialised
    return {g[1] * 3};
  }
};
/// (e^x, e^2x), both saved as outputs: a second derivative through the saved
/// e^2x must reach the node as output 1's gradient, not output 0's.
struct TwoExps : Function<TwoExps> {
  static variable_list forward(AutogradContext* ctx, mg::Tensor x) {
    auto a = x.exp(), b = (x * 2).exp();
    ctx->save_for_backward({a, b});
    return {a, b};
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    const auto s = ctx->get_saved_variables();
    return {g[0] * s[0] + g[1] * 2 * s[1]};
  }
};
/// Returns its input unchanged; backward doubles.
struct Identity2 : Function<Identity2> {
  static mg::Tensor forward(AutogradContext*, mg::Tensor x) { return x; }
  static variable_list backward(AutogradContext*, variable_list g) { return {g[0] * 2}; }
};
/// a += b in place (a marked dirty), and b + 2.
struct AddInPlace : Function<AddInPlace> {
  static variable_list forward(AutogradContext* ctx, mg::Tensor a, mg::Tensor b) {
    a.add_(b);
    ctx->mark_dirty({a});
    return {a, b + 2};
  }
  static variable_list backward(AutogradContext*, variable_list g) { return {g[0], g[0] + g[1]}; }
};
struct SaveEmpty : Function<SaveEmpty> {
  static mg::Tensor forward(AutogradContext* ctx, mg::Tensor x) {
    ctx->save_for_backward({mg::Tensor(), x, mg::Tensor()});
    return x * x;
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    const auto s = ctx->get_saved_variables();
    BOOST_CHECK(!s[0].defined() && !s[2].defined());
    return {s[1] * 2 * g[0]};
  }
};
struct WrongCount : Function<WrongCount> {
  static mg::Tensor forward(AutogradContext*, mg::Tensor x, mg::Tensor y) { return x * y; }
  static variable_list backward(AutogradContext*, variable_list g) { return {g[0]}; }
};
struct WrongShape : Function<WrongShape> {
  static mg::Tensor forward(AutogradContext*, mg::Tensor x) { return x * 2; }
  static variable_list backward(AutogradContext*, variable_list) { return {mg::ones(10)}; }
};
struct Broadcasting : Function<Broadcasting> {
  static mg::Tensor forward(AutogradContext*, mg::Tensor x) { return x * 2; }
  static variable_list backward(AutogradContext*, variable_list g) { return {g[0].expand({4, 3}) * 2}; }
};
struct SavesInput : Function<SavesInput> {
  static mg::Tensor forward(AutogradContext* ctx, mg::Tensor x) {
    ctx->save_for_backward({x});
    return x * 2;
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) { return {ctx->get_saved_variables()[0] * g[0]}; }
};
struct NeedsGrad : Function<NeedsGrad> {
  static mg::Tensor forward(AutogradContext* ctx, mg::Tensor a, mg::Tensor b) {
    ctx->saved_data["a"] = ctx->needs_input_grad(0);
    ctx->saved_data["b"] = ctx->needs_input_grad(1);
    return a * b;
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    BOOST_CHECK(ctx->saved_data["a"].toBool());
    BOOST_CHECK(!ctx->saved_data["b"].toBool());
    return {g[0], mg::Tensor()};
  }
};
/// Backward runs backward itself, on a graph built in forward.
const mg::Tensor reenter_y = mg::tensor({{1., 2.}, {3., 4.}});
struct Reenter : Function<Reenter> {
  static mg::Tensor forward(AutogradContext* ctx, mg::Tensor input) {
    mg::Tensor out;
    {
      mg::AutoGradMode on(true);
      auto x = mg::autograd::make_variable(input.tensor_data(), true);
      auto y = mg::autograd::make_variable(reenter_y.tensor_data(), true);
      out = x * y;
      ctx->saved_data["x"] = x;
      ctx->saved_data["out"] = out;
    }
    return out.detach();
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    {
      mg::AutoGradMode on(true);
      ctx->saved_data["out"].toTensor().sum().backward();
    }
    return {ctx->saved_data["x"].toTensor().grad() * g[0]};
  }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(dynamic_function)

BOOST_AUTO_TEST_CASE(custom_function_with_a_plain_argument) {
  auto x = values({3, 3}), y = values({3, 3}, 0.2, 0.9);
  auto r = Bilinear::apply(x, 2, y);
  BOOST_CHECK(r.grad_fn()->name().find("CppNode") != std::string::npos);
  BOOST_CHECK_EQUAL(r.grad_fn()->num_edges(), 2);  // one edge per tensor argument
  r.sum().backward(mg::ones({}, mg::requires_grad()), false, true);
  BOOST_CHECK(mg::allclose(x.grad(), y + 1));
  BOOST_CHECK(mg::allclose(y.grad(), x + 2));
}

BOOST_AUTO_TEST_CASE(grad_mode_and_inputs_that_need_no_grad) {
  auto x = values({2, 2});
  {
    mg::NoGradGuard off;
    BOOST_CHECK(!Identity2::apply(x).requires_grad());
    BOOST_CHECK(!Identity2::apply(x).grad_fn());
  }
  auto out = Identity2::apply(x);
  BOOST_CHECK(out.impl_ptr() != x.impl_ptr());  // a returned input is a new alias with the history
  out.backward(mg::ones({2, 2}), true, true);
  BOOST_CHECK(mg::allclose(x.grad(), mg::full({2, 2}, 2.0)));
  auto a = values({3}), b = values({3}, 0.1, 0.5, false);
  NeedsGrad::apply(a, b).sum().backward();
  check::close(a.grad(), {1., 1., 1.});
}

BOOST_AUTO_TEST_CASE(several_outputs_and_non_differentiable_ones) {
  auto x = values({2, 3});
  auto out = SplitMarked::apply(x);
  BOOST_CHECK(!out[0].requires_grad());
  BOOST_CHECK(out[1].requires_grad());
  BOOST_CHECK_EQUAL(out[1].output_nr(), 1u);
  out[1].sum().backward();
  BOOST_CHECK(mg::allclose(x.grad(), mg::full({2, 3}, 3.0)));
  // both outputs used: the node receives one gradient per output
  auto x2 = values({2});
  auto o2 = AddInPlace::apply(x2.clone(), x2);
  (o2[0] * 2 + o2[1] * 5).sum().backward();
  check::close(x2.grad(), {9., 9.});  // g0 = 2 through the clone, g0 + g1 = 7 as b
}

BOOST_AUTO_TEST_CASE(a_saved_output_keeps_its_output_number_under_create_graph) {
  auto x = mg::tensor({0.3, -0.2}, mg::requires_grad());
  auto out = TwoExps::apply(x);
  auto g = mg::autograd::grad({out[1].sum()}, {x}, {}, std::nullopt, true)[0];
  check::close(g, {2 * std::exp(0.6), 2 * std::exp(-0.4)}, 1e-14);
  g.sum().backward();
  check::close(x.grad(), {4 * std::exp(0.6), 4 * std::exp(-0.4)}, 1e-14);
}

BOOST_AUTO_TEST_CASE(dirty_inputs_are_rebased_and_leaves_refuse) {
  auto x = mg::ones({3});
  auto y = values({3});
  const auto before = x._version();
  auto out = AddInPlace::apply(x, y);
  BOOST_CHECK(x._version() > before);
  BOOST_CHECK(mg::equal(out[0], x));
  BOOST_CHECK(out[0].requires_grad() && x.requires_grad());  // x now carries the node
  out[0].sum().backward();
  check::close(y.grad(), {1., 1., 1.});
  auto leaf = values({3});
  check::throws([&] { AddInPlace::apply(leaf, y); }, "a leaf Variable that requires grad has been used in an in-place operation");
  // the node does not keep the dirty input alive (that would be a cycle)
  std::weak_ptr<mg::Node> node;
  {
    auto a = mg::ones({3});
    auto r = AddInPlace::apply(a, y);
    node = r[0].grad_fn();
    BOOST_CHECK(!node.expired());
  }
  BOOST_CHECK(node.expired());
}

BOOST_AUTO_TEST_CASE(saved_tensors_and_their_checks) {
  auto x = values({4});
  SaveEmpty::apply(x).sum().backward();
  BOOST_CHECK(mg::allclose(x.grad(), x * 2));
  auto a = values({3}).clone();
  auto r = SavesInput::apply(a);
  a.mul_(2.0);
  check::throws([&] { r.sum().backward(); }, "modified by an inplace operation");
  auto b = values({3});
  auto r2 = SavesInput::apply(b);
  r2.sum().backward();
  check::throws([&] { r2.sum().backward(); }, "backward through the graph a second time");
}

BOOST_AUTO_TEST_CASE(wrong_gradients_throw_and_leave_grads_unchanged) {
  auto x = values({5, 5}), y = values({5, 5});
  check::throws([&] { WrongCount::apply(x, y).sum().backward(); },
                "returned an incorrect number of gradients (expected 2, got 1)");
  check::throws([&] { WrongShape::apply(x).sum().backward(); },
                "returned an invalid gradient at index 0 - got [10] but expected shape compatible with [5, 5]");
  BOOST_CHECK(!x.grad().defined() && !y.grad().defined());
  auto z = values({3});
  Broadcasting::apply(z).sum().backward();  // a broadcastable gradient is summed back
  check::close(z.grad(), {8., 8., 8.});
}

/// Re-enters backward `depth` levels deep (each level one more custom node).
struct Deep : Function<Deep> {
  static mg::Tensor forward(AutogradContext* ctx, mg::Tensor x) {
    {
      mg::AutoGradMode on(true);
      ctx->saved_data["x"] = mg::autograd::make_variable(x.tensor_data(), true) - 1;
    }
    return ctx->saved_data["x"].toTensor().detach();
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    if (!ctx->saved_data["x"].toTensor().is_nonzero()) return g;
    mg::AutoGradMode on(true);
    apply(ctx->saved_data["x"].toTensor()).sum().backward();
    return g;
  }
};
/// Its backward runs a backward through the SAME leaf as the outer graph.
struct SharesLeaf : Function<SharesLeaf> {
  static mg::Tensor forward(AutogradContext* ctx, mg::Tensor x) {
    ctx->saved_data["x"] = x;
    return x * 3;
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    mg::AutoGradMode on(true);
    (ctx->saved_data["x"].toTensor() * 2).sum().backward();
    return {g[0] * 3};
  }
};

BOOST_AUTO_TEST_CASE(reentrant_backward) {
  auto x = values({2, 2});
  Reenter::apply(x).sum().backward();
  BOOST_CHECK(mg::allclose(x.grad(), reenter_y));
  // thousands of nested levels: past 32 the engine continues on a fresh thread
  auto v = mg::tensor({2000.}, mg::requires_grad());
  BOOST_CHECK_NO_THROW(Deep::apply(v).sum().backward());
  // the inner backward visits the outer graph's leaf; the outer one still reaches it
  auto w = mg::tensor({1., 2.}, mg::requires_grad());
  (SharesLeaf::apply(w) + w).sum().backward();
  check::close(w.grad(), {6., 6.});  // 2 (inner) + 3 + 1 (outer)
}

BOOST_AUTO_TEST_CASE(saved_data_kinds) {
  mg::autograd::IValue i = 3, d = 2.5, b = true, t = mg::ones(2), none;
  BOOST_CHECK_EQUAL(i.toInt(), 3);
  BOOST_CHECK_EQUAL(d.toDouble(), 2.5);
  BOOST_CHECK(b.toBool());
  BOOST_CHECK(mg::equal(t.toTensor(), mg::ones(2)));
  BOOST_CHECK(none.isNone() && t.isTensor() && i.isInt());
  check::throws([&] { (void)d.toInt(); }, "Expected Int but got Double");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamic_hooks)

BOOST_AUTO_TEST_CASE(hooks_observe_replace_and_are_removed) {
  auto x = mg::ones({2, 2}, mg::requires_grad());
  auto y = mg::full({2, 2}, 4.0, mg::requires_grad());
  int counter = 0;
  auto z = x * x + x * 2 + x * y + y;
  x.register_hook([&](const mg::Tensor&) { counter += 100; });
  const auto h1 = z.register_hook([&](mg::Tensor) { counter += 1; });
  z.backward(mg::ones({2, 2}), true, true);
  BOOST_CHECK_EQUAL(counter, 101);
  const auto h2 = z.register_hook([&](const mg::Tensor&) { counter += 2; });
  z.backward(mg::ones({2, 2}), true, true);
  BOOST_CHECK_EQUAL(counter, 204);
  z.remove_hook(h2);
  z.remove_hook(h2);  // twice: harmless
  z.backward(mg::ones({2, 2}), true, true);
  BOOST_CHECK_EQUAL(counter, 305);
  z.remove_hook(h1);
  z.register_hook([](const mg::Tensor& g) { return g * 2; });  // replaces z's gradient
  y.grad().zero_();
  z.backward(mg::ones({2, 2}), true);
  BOOST_CHECK(mg::allclose(y.grad(), (x + 1) * 2));
  y.register_hook([](const mg::Tensor& g) { return g * 2; });  // on a leaf: before accumulation
  y.grad().zero_();
  z.backward(mg::ones({2, 2}));
  BOOST_CHECK(mg::allclose(y.grad(), (x + 1) * 4));
  check::throws([&] { y.remove_hook(3); }, "Invalid index");
}

BOOST_AUTO_TEST_CASE(hooks_run_before_retain_grad_and_capture) {
  auto x = mg::tensor({1., 2.}, mg::requires_grad());
  auto h = x * 3;
  h.retain_grad();
  h.register_hook([](const mg::Tensor& g) { return g + 1; });
  (h * h).sum().backward();
  check::close(h.grad(), {7., 13.});
  check::close(x.grad(), {21., 39.});
  auto x2 = mg::tensor({1.}, mg::requires_grad());
  x2.register_hook([](const mg::Tensor& g) { return g * 10; });
  check::close(mg::autograd::grad({x2 * 2}, {x2})[0], {20.});
  auto v = mg::tensor({1., 2.}, mg::requires_grad());
  auto w = v * 1;
  w.register_hook([](const mg::Tensor&) { return mg::ones({3}); });
  check::throws([&] { w.sum().backward(); }, "hook 'hook' has changed the size of value");
  BOOST_CHECK(!v.grad().defined());
  check::throws([&] { mg::ones({2}).register_hook([](const mg::Tensor&) {}); }, "doesn't require gradient");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(libtorch_habits)

BOOST_AUTO_TEST_CASE(habits_compile_and_behave) {
  auto x = mg::tensor({{0.5}, {2.}}, mg::requires_grad());
  BOOST_CHECK(x.sizes() == mg::Sizes({2, 1}));
  (x * 3).sum().backward();
  const mg::Tensor& g = x.grad();
  g.zero_();  // in place through a const handle
  check::close(x.grad(), {0., 0.});
  BOOST_CHECK(mg::ones(5).sizes() == mg::Sizes({5}));
  BOOST_CHECK(mg::equal(mg::full(1, 2.0), mg::tensor({2.})));
  BOOST_CHECK_EQUAL(mg::randn(10).numel(), 10);
  BOOST_CHECK_EQUAL(mg::tensor({2.5}).item<int>(), 2);
  BOOST_CHECK_EQUAL(mg::tensor({2.5}).item<float>(), 2.5f);
  BOOST_CHECK(mg::allclose(mg::tensor({1., 2.}), mg::tensor({1., 2. + 1e-9})));
  BOOST_CHECK(!mg::allclose(mg::tensor({1., 2.}), mg::tensor({1., 2.1})));
  BOOST_CHECK(!mg::equal(mg::tensor({1., 2.}), mg::tensor({1., 2. + 1e-9})));
  auto y = x * 2 + mg::tensor({{1.}, {1.}}, mg::requires_grad());
  const auto edges = y.grad_fn()->next_edges();
  BOOST_REQUIRE_EQUAL(edges.size(), 2u);
  BOOST_CHECK_EQUAL(edges[0].function->name(), "MulBackward0");
  BOOST_CHECK_EQUAL(edges[1].function->name(), "AccumulateGrad");
  BOOST_CHECK_EQUAL(edges[1].input_nr, 0u);
  BOOST_CHECK(mg::tensor({2, 0, 2}).dim() == 1);
  static_assert(std::is_same_v<decltype(mg::tensor({2, 0, 2})), mg::BasicTensor<std::int64_t>>);
  static_assert(std::is_same_v<decltype(mg::tensor({1, 2.5})), mg::Tensor>);
  BOOST_CHECK(mg::tensor({3.}).is_nonzero());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(libtorch_conditions)

BOOST_AUTO_TEST_CASE(a_condition_used_as_numbers) {
  auto v = mg::tensor({-1., 2., 0.5}, mg::requires_grad());
  mg::Tensor mask = v > 0.;  // a copy of the values 0 and 1, no history
  check::close(mask, {0., 1., 1.});
  BOOST_CHECK(!mask.requires_grad());
  auto y = v.masked_fill(mask, 0.);  // nonzero means true
  check::close(y, {-1., 0., 0.});
  y.sum().backward();
  check::close(v.grad(), {1., 0., 0.});
  mg::Tensor idx = mg::tensor({2, 0, 2});
  check::close(idx, {2., 0., 2.});
}

BOOST_AUTO_TEST_CASE(integer_tensors_promote_like_pytorch) {
  // results and types from python3-torch 1.13 (default dtype float64): an
  // integer tensor meeting a fraction is promoted, `/` is true division; an
  // integer operand keeps the type. (Before, a * 2.5 truncated 2.5 to 2 and
  // a / 2 divided as integers, silently.)
  const auto a = mg::tensor({1, 2});
  const auto b = mg::tensor({3, 5});
  static_assert(std::is_same_v<decltype(a * 2.5), mg::Tensor>);
  static_assert(std::is_same_v<decltype(a / 2), mg::Tensor>);
  static_assert(std::is_same_v<decltype(a * 2), mg::BasicTensor<std::int64_t>>);
  static_assert(std::is_same_v<decltype(a * mg::tensor<float>({1.f})), mg::BasicTensor<float>>);
  BOOST_CHECK_EQUAL(mg::repr(a * 2.5), "tensor([2.5000, 5.0000])");
  BOOST_CHECK_EQUAL(mg::repr(a / 2), "tensor([0.5000, 1.0000])");
  BOOST_CHECK_EQUAL(mg::repr(a / b), "tensor([0.3333, 0.4000])");
  BOOST_CHECK_EQUAL(mg::repr(2 / a), "tensor([2., 1.])");
  BOOST_CHECK_EQUAL(mg::repr(0.5 - a), "tensor([-0.5000, -1.5000])");
  BOOST_CHECK_EQUAL(mg::repr(a * 2), "tensor([2, 4])");
  BOOST_CHECK_EQUAL(mg::repr(a.clamp(0.5, 1.5)), "tensor([1.0000, 1.5000])");
  BOOST_CHECK_EQUAL(mg::repr(mg::clamp(a, 0.5)), "tensor([1., 2.])");
  BOOST_CHECK_EQUAL(mg::repr(a.clamp(1, 1)), "tensor([1, 1])");
  // abs, sign, relu, square, neg keep the integer type (64-bit: no truncation to int)
  const auto c = mg::tensor({-3, 0, 2});
  static_assert(std::is_same_v<decltype(mg::abs(c)), mg::BasicTensor<std::int64_t>>);
  BOOST_CHECK_EQUAL(mg::repr(mg::abs(c)), "tensor([3, 0, 2])");
  BOOST_CHECK_EQUAL(mg::repr(c.relu()), "tensor([0, 0, 2])");
  BOOST_CHECK_EQUAL(mg::repr(mg::sign(c)), "tensor([-1,  0,  1])");
  BOOST_CHECK_EQUAL(mg::repr(mg::square(c)), "tensor([9, 0, 4])");
  BOOST_CHECK_EQUAL(mg::repr(-c), "tensor([ 3,  0, -2])");
  BOOST_CHECK_EQUAL(mg::repr(mg::tensor({std::int64_t{-5000000000}}).abs()), "tensor([5000000000])");
  // a floating operand that requires grad gets the floating op's gradient
  auto x = mg::tensor({0.5, 0.25}, mg::requires_grad());
  auto y = (a * x + x / b - (x > 0.3) * x + 2 * (x - a)).sum();
  BOOST_CHECK_CLOSE(y.item(), 0.5 + 0.5 + 0.5 / 3 + 0.05 - 0.5 + 2 * (-0.5 - 1.75), 1e-12);
  y.backward();
  check::close(x.grad(), {1. + 1. / 3 - 1. + 2., 2. + 0.2 + 2.});
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "SumBackward0");
}

BOOST_AUTO_TEST_SUITE_END()
