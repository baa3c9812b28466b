// tests/dynamic/test_engine.cpp — the engine: accumulation, retain_graph,
// retain_grad, autograd::grad, create_graph and higher order, functional
// jacobian/hessian/vjp/jvp, deep graphs, threads, memory and leaks.
#include <functional>
#include <thread>

#include "support/check.hpp"

using check::values;

BOOST_AUTO_TEST_SUITE(engine)

BOOST_AUTO_TEST_CASE(accumulation_and_retain_graph) {
  auto x = mg::tensor({3.}, mg::requires_grad());
  auto y = x * 2 + x.pow(2) + 3;
  y.backward({}, true);
  check::close(x.grad(), {8.});
  y.backward();
  check::close(x.grad(), {16.});
}

BOOST_AUTO_TEST_CASE(summed_gradients_are_added_in_place_only_into_unseen_contiguous_buffers) {
  // a's gradient is summed from three uses: passed through (Add), transposed
  // (a strided view) and scaled; the engine adds in place only into a buffer
  // nothing else sees, never reading a strided one as if it were contiguous
  auto x = mg::tensor({{1., 2.}, {3., 4.}}, mg::requires_grad());
  auto a = x * 2.0;
  mg::Tensor seen;
  a.register_hook([&](const mg::Tensor& g) { seen = g; });
  auto w = mg::tensor({{1., 10.}, {100., 1000.}});
  ((a + a.t()) * w + a * 3.0).sum().backward({}, true);  // (a's MulBackward0 is run again below)
  check::close(seen, {5., 113., 113., 2003.});  // w + w^T + 3
  check::close(x.grad(), {10., 226., 226., 4006.});
  const auto first = seen, keep = seen.clone();
  (a * w + a).sum().backward();  // a second backward leaves the first's gradient alone
  BOOST_CHECK(mg::equal(first, keep));
  check::close(seen, {2., 11., 101., 1001.});
}

BOOST_AUTO_TEST_CASE(a_second_backward_fails_exactly_where_pytorchs_node_saved_something) {
  // PyTorch saves a wrapped number like any operand (`x * 2`: MulBackward0
  // saves `other`), an index (IndexSelectBackward0, GatherBackward0) and a
  // condition (WhereBackward0, MaskedFillBackward0); after a backward without
  // retain_graph they are freed and a second backward through the node fails.
  // Nodes that saved nothing (`x + 2`, `2 - x`, sum, views, cat, a mean over a
  // dimension in PyTorch 2) run again. (Outcomes checked with python3-torch.)
  const auto second = [](auto f) {
    auto x = mg::tensor({{1., 2., 3.}, {0.5, -1., 4.}}, mg::requires_grad());
    auto y = f(x).sum();
    y.backward();
    try {
      y.backward();
    } catch (const mg::Error& e) {
      BOOST_CHECK(std::string(e.what()).find("backward through the graph a second time") != std::string::npos);
      return false;
    }
    auto once = x.detach().clone().requires_grad_();
    f(once).sum().backward();
    check::close(x.grad(), once.grad() * 2.);  // (both backwards added their gradients)
    return true;
  };
  using T = const mg::Tensor&;
  BOOST_CHECK(!second([](T x) { return x * 2.; }));
  BOOST_CHECK(!second([](T x) { return 2. * x; }));
  BOOST_CHECK(!second([](T x) { return x / 2.; }));
  BOOST_CHECK(!second([](T x) { return x.pow(2.); }));
  BOOST_CHECK(!second([](T x) { return mg::pow(2., x); }));
  BOOST_CHECK(!second([](T x) { return mg::where(x > 1., x, x * 0.); }));
  BOOST_CHECK(!second([](T x) { return x.masked_fill(x > 1., 0.); }));
  BOOST_CHECK(!second([](T x) { return x.index_select(1, mg::tensor({2, 0})); }));
  BOOST_CHECK(!second([](T x) { return x.gather(1, mg::tensor({{2}, {0}})); }));
  BOOST_CHECK(!second([](T x) { return mg::nn::functional::nll_loss(x, mg::tensor({2, 0})); }));
  BOOST_CHECK(second([](T x) { return x + 2.; }));
  BOOST_CHECK(second([](T x) { return 2. - x; }));
  BOOST_CHECK(second([](T x) { return -x; }));
  BOOST_CHECK(second([](T x) { return x.t(); }));
  BOOST_CHECK(second([](T x) { return x.mean(0); }));
  BOOST_CHECK(second([](T x) { return mg::cat({x, x}); }));
  BOOST_CHECK(second([](T x) { return x.narrow(1, 0, 2); }));
}

BOOST_AUTO_TEST_CASE(a_nodes_gradient_is_overwritten_in_place_only_when_nothing_else_holds_it) {
  // An elementwise node writes its input's gradient over the gradient it was
  // handed when that buffer is exclusively its own: here a hook, retain_grad
  // and autograd::grad's captured input each hold the gradient of y, so the
  // sin node must not reuse it; without them it does (no new tensor).
  auto x = values({8});  // (deterministic: x2 and x3 below hold the same values)
  auto y = mg::sin(x);
  mg::Tensor seen;
  y.register_hook([&](const mg::Tensor& g) { seen = g; });
  y.retain_grad();
  (mg::exp(y) * 2.0).sum().backward();
  const auto dy = (mg::exp(mg::sin(x.detach())) * 2.0);
  check::close(seen, dy);
  check::close(y.grad(), dy);
  check::close(x.grad(), dy * mg::cos(x.detach()));
  auto x2 = values({8});
  auto y2 = mg::sin(x2);
  const auto both = mg::autograd::grad({(mg::exp(y2) * 2.0).sum()}, {y2, x2});
  check::close(both[0], dy);
  check::close(both[1], dy * mg::cos(x.detach()));
  // a chain of elementwise nodes with no one watching: same values
  auto x3 = values({8});
  (mg::tanh(mg::sin(x3) * 3.0) * x3).sum().backward();
  const auto xd = x.detach(), t = mg::tanh(mg::sin(xd) * 3.0);
  check::close(x3.grad(), t + xd * (1.0 - t * t) * 3.0 * mg::cos(xd));
}

BOOST_AUTO_TEST_CASE(passed_through_gradients_are_never_shared) {
  // Add hands the same gradient to both inputs; their .grad must not alias
  auto a = mg::tensor({1., 2.}, mg::requires_grad()), b = mg::tensor({3., 4.}, mg::requires_grad());
  auto r = a + b;
  r.retain_grad();
  (r - 1.0).sum().backward();
  a.mutable_grad().zero_();
  r.mutable_grad().mul_(5.0);
  check::close(b.grad(), {1., 1.});
  check::close(a.grad(), {0., 0.});
  check::close(r.grad(), {5., 5.});
}

BOOST_AUTO_TEST_CASE(graph_structure) {
  auto x = mg::ones({1});
  auto w = mg::ones({1}, mg::requires_grad());
  auto b = mg::ones({1}, mg::requires_grad());
  auto z = w * x + b;
  auto nf = z.grad_fn()->next_functions();
  BOOST_REQUIRE_EQUAL(nf.size(), 2u);
  BOOST_CHECK_EQUAL(nf[0].first->name(), "MulBackward0");
  BOOST_CHECK_EQUAL(nf[1].first->name(), "AccumulateGrad");
  auto mf = nf[0].first->next_functions();
  BOOST_CHECK_EQUAL(mf[0].first->name(), "AccumulateGrad");
  BOOST_CHECK(!mf[1].first);
  // one AccumulateGrad per leaf, shared by every use
  auto z2 = w * 3;
  BOOST_CHECK_EQUAL(z2.grad_fn()->next_functions()[0].first, mf[0].first);
  BOOST_CHECK(!w.grad_fn());
  BOOST_CHECK(w.is_leaf() && !z.is_leaf() && x.is_leaf());
  const auto dot = mg::to_dot(z);
  BOOST_CHECK(dot.find("AddBackward0") != std::string::npos);
  BOOST_CHECK(dot.find("AccumulateGrad\\nleaf [1]") != std::string::npos);
  BOOST_CHECK(dot.find("MulBackward0\\nsaved [1]") != std::string::npos);  // w * x saved x
  BOOST_REQUIRE_EQUAL(nf[0].first->saved_sizes().size(), 1u);
  z.backward({}, true);
  BOOST_CHECK_EQUAL(nf[0].first->saved_sizes().size(), 1u);  // retained
  auto q = w * x;
  auto qf = q.grad_fn();
  q.sum().backward();
  BOOST_CHECK(qf->saved_sizes().empty());  // freed by backward
}

BOOST_AUTO_TEST_CASE(retain_grad_and_detach) {
  auto x = mg::tensor({1., 2.}, mg::requires_grad());
  auto y = x * 3;
  y.retain_grad();
  auto z = (y * y).sum();
  z.backward();
  check::close(y.grad(), {6., 12.});
  check::close(x.grad(), {18., 36.});
  auto d = y.detach();
  BOOST_CHECK(!d.requires_grad() && d.is_leaf());
  auto q = x * 1;
  BOOST_CHECK(!q.grad().defined());
}

BOOST_AUTO_TEST_CASE(grad_mode_is_thread_local) {
  auto x = mg::ones({2}, mg::requires_grad());
  mg::NoGradGuard ng;
  BOOST_CHECK(!mg::is_grad_enabled());
  bool other_thread_enabled = false, other_requires = false;
  std::thread t([&] {
    other_thread_enabled = mg::is_grad_enabled();
    other_requires = (x * 2).requires_grad();
  });
  t.join();
  BOOST_CHECK(other_thread_enabled && other_requires);
  BOOST_CHECK(!(x * 2).requires_grad());
  {
    mg::AutoGradMode on(true);
    BOOST_CHECK((x * 2).requires_grad());
  }
}

BOOST_AUTO_TEST_CASE(autograd_grad_does_not_touch_dot_grad) {
  auto x = mg::tensor({1., 2.}, mg::requires_grad());
  auto u = mg::tensor({5.}, mg::requires_grad());
  auto y = (x * x).sum();
  auto g = mg::autograd::grad({y}, {x}, {}, true);
  check::close(g[0], {2., 4.});
  BOOST_CHECK(!x.grad().defined());
  check::throws([&] { mg::autograd::grad({y}, {x, u}, {}, true); }, "inputs[1], of shape [1]");
  auto g2 = mg::autograd::grad({y}, {x, u}, {}, true, false, true);
  BOOST_CHECK(g2[0].defined() && !g2[1].defined());
  // gradient with respect to a non-leaf
  auto a = x * 2;
  auto b = (a * a).sum();
  check::close(mg::autograd::grad({b}, {a})[0], {4., 8.});
}

// autograd::grad / backward, cat and stack are templates whose element type
// defaults to double (a braced list deduces nothing): braced lists, vectors of
// Tensor and vectors of FloatTensor all resolve, to the same results.
BOOST_AUTO_TEST_CASE(list_taking_functions_resolve_for_braced_lists_and_vectors) {
  auto x = mg::tensor({1., 2.}, mg::requires_grad());
  auto y = (x * x * x).sum();
  const std::vector<mg::Tensor> ys{y}, xs{x};
  check::close(mg::autograd::grad(ys, xs, {}, true)[0], {3., 12.});
  check::close(mg::autograd::grad({y}, xs, {}, true)[0], {3., 12.});
  mg::autograd::backward({y}, {mg::tensor(2.)}, true);
  check::close(x.grad(), {6., 24.});
  mg::autograd::backward(ys);
  check::close(x.grad(), {9., 36.});

  auto xf = mg::tensor<float>({1.f, 2.f}, mg::requires_grad());
  const std::vector<mg::FloatTensor> yf{(xf * xf).sum()}, xfs{xf};
  const auto gf = mg::autograd::grad(yf, xfs, {}, true);
  static_assert(std::is_same_v<decltype(gf), const std::vector<mg::FloatTensor>>);
  BOOST_CHECK_EQUAL(mg::repr(gf[0]), "tensor([2., 4.], dtype=torch.float32)");
  mg::autograd::backward(yf);
  BOOST_CHECK_EQUAL(mg::repr(xf.grad()), "tensor([2., 4.], dtype=torch.float32)");

  const std::vector<mg::FloatTensor> parts{xf, xf * 3.f};
  BOOST_CHECK_EQUAL(mg::repr(mg::cat(parts).detach()), "tensor([1., 2., 3., 6.], dtype=torch.float32)");
  BOOST_CHECK(mg::stack(parts, 1).sizes() == mg::Sizes({2, 2}));
  BOOST_CHECK_EQUAL(mg::cat({x, x}).grad_fn()->name(), "CatBackward0");
  BOOST_CHECK_EQUAL(mg::repr(!(x > 1.)), "tensor([ True, False])");
}
BOOST_AUTO_TEST_CASE(higher_order_derivatives) {
  auto x = mg::tensor(2.0, mg::requires_grad());
  auto y = x.pow(3);
  auto d1 = mg::autograd::grad({y}, {x}, {}, std::nullopt, true)[0];
  auto d2 = mg::autograd::grad({d1}, {x}, {}, std::nullopt, true)[0];
  auto d3 = mg::autograd::grad({d2}, {x}, {}, std::nullopt, true)[0];
  BOOST_CHECK_CLOSE(d1.item(), 12.0, 1e-12);
  BOOST_CHECK_CLOSE(d2.item(), 12.0, 1e-12);
  BOOST_CHECK_CLOSE(d3.item(), 6.0, 1e-12);
  // backward(create_graph) then backward of .grad
  auto w = mg::tensor({0.5, -1.0}, mg::requires_grad());
  auto l = (mg::sin(w) * w).sum();
  l.backward({}, std::nullopt, true);
  BOOST_REQUIRE(w.grad().requires_grad());
  auto gw = w.grad();
  w.mutable_grad() = mg::Tensor();
  gw.sum().backward();
  // d/dw (cos w * w + sin w) = 2 cos w - w sin w
  check::close(w.grad(), {2 * std::cos(0.5) - 0.5 * std::sin(0.5), 2 * std::cos(-1.0) + std::sin(-1.0)});
}

BOOST_AUTO_TEST_CASE(second_derivatives_through_views_and_copyslices) {
  auto p = values({3});
  check::gradients([](const std::vector<mg::Tensor>& in) {
    auto y = mg::zeros({3});
    y[0] = in[0][1] * in[0][2];
    y.index({mg::Slice(1, 3)}) = in[0].index({mg::Slice(0, 2)}).exp();
    return (y * in[0]).t();
  }, {p});
}

BOOST_AUTO_TEST_CASE(functional_api) {
  auto f = [](const mg::Tensor& x) {
    auto y = mg::zeros({2});
    y[0] = x[0].pow(2) + x[1] * 3;
    y[1] = x[0] * 2 + x[1].pow(2);
    return y;
  };
  auto x = mg::tensor({2., 3.});
  auto J = mg::autograd::functional::jacobian(f, x);
  BOOST_CHECK(J.sizes() == mg::Sizes({2, 2}));
  check::close(J, {4., 3., 2., 6.});
  auto v = mg::tensor({1., -2.});
  auto [fx, vj] = mg::autograd::functional::vjp(f, x, v);
  check::close(fx, {13., 13.});
  check::close(vj, {4. - 4., 3. - 12.});
  auto [fx2, jv] = mg::autograd::functional::jvp(f, x, v);
  check::close(jv, {4. - 6., 2. - 12.});
  // Hessian of sum(x^3) + x0*x1 is diag(6x) + offdiag 1
  auto h = mg::autograd::functional::hessian([](const mg::Tensor& x) { return x.pow(3).sum() + x[0] * x[1]; }, x);
  check::close(h, {12., 1., 1., 18.});
  auto h2 = mg::autograd::functional::hessian([](const mg::Tensor& x) { return mg::exp(x[0]) * mg::sin(x[1]); }, x);
  const double e = std::exp(2.0), s = std::sin(3.0), c = std::cos(3.0);
  check::close(h2, {e * s, e * c, e * c, -e * s});
  auto J2 = mg::autograd::functional::jacobian([](const mg::Tensor& m) { return m.sum(0); }, mg::ones({2, 3}));
  BOOST_CHECK(J2.sizes() == mg::Sizes({3, 2, 3}));
}

BOOST_AUTO_TEST_CASE(gradcheck_reports_the_failing_element) {
  auto x = values({3});
  try {
    mg::autograd::gradcheck([](const std::vector<mg::Tensor>& in) {
      // wrong on purpose: detach one factor so the analytic gradient misses it
      return in[0] * in[0].detach();
    }, {x});
    BOOST_ERROR("gradcheck accepted a wrong gradient");
  } catch (const mg::Error& e) {
    BOOST_CHECK(std::string(e.what()).find("input 0") != std::string::npos);
    BOOST_CHECK(std::string(e.what()).find("element") != std::string::npos);
  }
}

// Found by the fuzzer (tests/fuzz/regressions/gradcheck_identity_output_
// aliases_input): a function returning its input, or a view of it, must pass;
// the finite differences once read the output after the input was restored.
BOOST_AUTO_TEST_CASE(gradcheck_of_functions_returning_their_input) {
  BOOST_CHECK(mg::autograd::gradcheck([](const std::vector<mg::Tensor>& in) { return in[0]; }, {values({})}));
  BOOST_CHECK(mg::autograd::gradcheck([](const std::vector<mg::Tensor>& in) { return in[0][1]; }, {values({3})}));
  BOOST_CHECK(mg::autograd::gradgradcheck([](const std::vector<mg::Tensor>& in) { return in[0].t(); }, {values({2, 3})}));
}

BOOST_AUTO_TEST_CASE(million_node_chain_backprops_and_is_destroyed) {
  auto x = mg::tensor(1.0, mg::requires_grad());
  {
    auto y = x;
    for (int i = 0; i < 1000000; ++i) y = y * 1.0000001;
    y.backward();
  }
  BOOST_CHECK_CLOSE(x.grad().item(), std::pow(1.0000001, 1000000), 1e-6);
  {
    auto y = x;  // destroyed without ever running backward
    for (int i = 0; i < 1000000; ++i) y = y + 1.0;
  }
  BOOST_CHECK(true);
}

BOOST_AUTO_TEST_CASE(wide_fan_in) {
  auto x = mg::tensor({1.0}, mg::requires_grad());
  mg::Tensor acc = mg::zeros({1});
  for (int i = 0; i < 100000; ++i) acc = acc + x;
  acc.backward(mg::ones({1}));
  check::close(x.grad(), {100000.});
}

BOOST_AUTO_TEST_CASE(memory_returns_to_baseline) {
  const auto base = mg::detail::live_storage_bytes();
  auto x = values({1000});
  const auto with_x = mg::detail::live_storage_bytes();
  {
    auto y = x;
    for (int i = 0; i < 50; ++i) y = mg::sin(y) * 1.5;
    y.sum().backward();  // frees every saved tensor
  }
  x.mutable_grad() = mg::Tensor();
  BOOST_CHECK_EQUAL(mg::detail::live_storage_bytes(), with_x);
  x = mg::Tensor();
  BOOST_CHECK_EQUAL(mg::detail::live_storage_bytes(), base);
}

namespace {
/// A node that counts its live instances; `Pad` doubles grow it past the pool's classes.
template <int Pad>
struct CountedNode final : mg::BasicNode<double> {
  static inline int live = 0;
  explicit CountedNode(bool fail) {
    if (fail) throw std::runtime_error("CountedNode: refused");
    ++live;
  }
  ~CountedNode() override { --live; }
  std::string name() const override { return "CountedBackward"; }
  void apply(mg::Tensor, mg::Tensor*) override {}
  double pad[Pad] = {};
};
}  // namespace

BOOST_AUTO_TEST_CASE(nodes_in_shared_size_class_blocks_are_destroyed_once) {
  // make_node builds every node type inside a pooled block of its size class
  // and destroys it through the virtual destructor.
  using Small = CountedNode<1>;
  using Big = CountedNode<200>;  // 1.6 KB: beyond the small-object pool
  std::weak_ptr<mg::BasicNode<double>> watch;
  {
    auto n = mg::make_node<double, Small>(false);
    std::shared_ptr<mg::BasicNode<double>> base = n;
    watch = base;
    BOOST_CHECK_EQUAL(Small::live, 1);
    BOOST_CHECK_EQUAL(base.use_count(), 2);
    n.reset();
    BOOST_CHECK_EQUAL(Small::live, 1);
    BOOST_CHECK_EQUAL(base->name(), "CountedBackward");
  }
  BOOST_CHECK_EQUAL(Small::live, 0);
  BOOST_CHECK(watch.expired());
  {
    auto b = mg::make_node<double, Big>(false);
    b->pad[199] = 1.0;
    BOOST_CHECK_EQUAL(Big::live, 1);
  }
  BOOST_CHECK_EQUAL(Big::live, 0);
  // A constructor that throws leaves nothing to destroy.
  BOOST_CHECK_THROW((mg::make_node<double, Small>(true)), std::runtime_error);
  BOOST_CHECK_THROW((mg::make_node<double, Big>(true)), std::runtime_error);
  BOOST_CHECK_EQUAL(Small::live, 0);
  BOOST_CHECK_EQUAL(Big::live, 0);
  // Real ops' nodes of several size classes, reached through the graph.
  auto x = values({3});
  auto y = (mg::sin(x) * x + 2.0).sum();
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "SumBackward0");
  BOOST_CHECK_EQUAL(y.grad_fn()->next_functions()[0].first->name(), "AddBackward0");
  y.backward();
  check::close(x.grad(), (mg::sin(x) + x * mg::cos(x)).detach());
}

BOOST_AUTO_TEST_CASE(create_graph_makes_no_reference_cycle) {
  std::weak_ptr<mg::TensorImpl<double>> leaf_alive, grad_alive;
  const auto base = mg::detail::live_storage_bytes();
  {
    auto w = values({500});
    auto loss = (w * w * w).sum();
    loss.backward({}, std::nullopt, true);  // w.grad's graph refers to w
    BOOST_CHECK(w.grad().requires_grad());
    leaf_alive = w.impl_ptr();
    grad_alive = w.grad().impl_ptr();
  }
  BOOST_CHECK(leaf_alive.expired());
  BOOST_CHECK(grad_alive.expired());
  BOOST_CHECK_EQUAL(mg::detail::live_storage_bytes(), base);
}

BOOST_AUTO_TEST_CASE(elementwise_nodes_keep_their_saved_output_inside_the_node) {
  // tanh, sigmoid, exp and sqrt save their output (inside their node, not as
  // a tensor of its own: saved_ref.hpp); it must behave as a saved tensor.
  using T = const mg::Tensor&;
  struct Case {
    const char* node;
    std::function<mg::Tensor(T)> f;
    std::function<double(double)> d1, d2;  // first and second derivative
  };
  const auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const std::vector<Case> cases = {
      {"TanhBackward0", [](T x) { return mg::tanh(x); },
       [](double v) { return 1 - std::tanh(v) * std::tanh(v); },
       [](double v) { return -2 * std::tanh(v) * (1 - std::tanh(v) * std::tanh(v)); }},
      {"SigmoidBackward0", [](T x) { return mg::sigmoid(x); }, [=](double v) { return sig(v) * (1 - sig(v)); },
       [=](double v) { return sig(v) * (1 - sig(v)) * (1 - 2 * sig(v)); }},
      {"ExpBackward0", [](T x) { return mg::exp(x); }, [](double v) { return std::exp(v); },
       [](double v) { return std::exp(v); }},
      {"SqrtBackward0", [](T x) { return mg::sqrt(x); }, [](double v) { return 0.5 / std::sqrt(v); },
       [](double v) { return -0.25 / (v * std::sqrt(v)); }},
  };
  const std::vector<double> xs = {0.5, 1.25, 2.0};
  const auto input = [] { return mg::tensor({0.5, 1.25, 2.0}, mg::requires_grad()); };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.node) {
      // the gradient, from a 0-d input and from a strided (transposed) one
      auto x = input();
      c.f(x).sum().backward();
      for (int i = 0; i < 3; ++i) BOOST_CHECK_CLOSE(x.grad()[i].item(), c.d1(xs[i]), 1e-10);
      auto s = mg::tensor(1.25, mg::requires_grad());
      c.f(s).backward();
      BOOST_CHECK_CLOSE(s.grad().item(), c.d1(1.25), 1e-10);
      auto m = mg::tensor({{0.5, 1.25, 2.0}, {3.0, 0.75, 1.5}}, mg::requires_grad());
      c.f(m.t()).mul(mg::tensor({{1., 2.}, {3., 4.}, {5., 6.}})).sum().backward();
      const double mv[2][3] = {{0.5, 1.25, 2.0}, {3.0, 0.75, 1.5}}, wt[2][3] = {{1., 3., 5.}, {2., 4., 6.}};
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j) BOOST_CHECK_CLOSE(m.grad()[i][j].item(), wt[i][j] * c.d1(mv[i][j]), 1e-10);
      // the node holds what it saved, and frees it with the graph
      auto y = c.f(input());
      BOOST_CHECK(y.grad_fn()->saved_sizes() == std::vector<mg::Sizes>{mg::Sizes{3}});
      // an in-place change of the output after it was saved: PyTorch's error
      auto z = c.f(input());
      z.add_(1.);
      check::throws([&] { z.sum().backward(); },
                    std::string("one of the variables needed for gradient computation has been modified by an "
                                "inplace operation: [torch.DoubleTensor [3]], which is output 0 of ") +
                        c.node + ", is at version 1; expected version 0 instead.");
      // a second backward: with retain_graph it adds the same gradient again,
      // without it fails, as PyTorch's node (it saved `result`)
      auto r = input();
      auto l = c.f(r).sum();
      l.backward({}, true);
      l.backward();
      for (int i = 0; i < 3; ++i) BOOST_CHECK_CLOSE(r.grad()[i].item(), 2 * c.d1(xs[i]), 1e-10);
      BOOST_CHECK(l.grad_fn()->next_functions()[0].first->saved_sizes().empty());
      check::throws([&] { l.backward(); }, "backward through the graph a second time");
      // create_graph: the saved output comes back connected to its node
      auto h = input();
      auto d1 = mg::autograd::grad({c.f(h).sum()}, {h}, {}, std::nullopt, true)[0];
      auto d2 = mg::autograd::grad({d1.sum()}, {h})[0];
      for (int i = 0; i < 3; ++i) {
        BOOST_CHECK_CLOSE(d1[i].item(), c.d1(xs[i]), 1e-10);
        BOOST_CHECK_CLOSE(d2[i].item(), c.d2(xs[i]), 1e-9);
      }
    }
  }
  // a binary formula reading the output through broadcasting (pow's exponent
  // side reads y = x^e): the saved output unpacked as a tensor
  auto b = mg::tensor({{0.5, 1.25, 2.0}, {1.5, 0.25, 3.0}}, mg::requires_grad());
  auto e = mg::tensor({2.0, 0.5, -1.0}, mg::requires_grad());
  b.pow(e).sum().backward();
  const double bv[2][3] = {{0.5, 1.25, 2.0}, {1.5, 0.25, 3.0}}, ev[3] = {2.0, 0.5, -1.0};
  for (int j = 0; j < 3; ++j) {
    double de = 0;
    for (int i = 0; i < 2; ++i) {
      de += std::pow(bv[i][j], ev[j]) * std::log(bv[i][j]);
      BOOST_CHECK_CLOSE(b.grad()[i][j].item(), ev[j] * std::pow(bv[i][j], ev[j] - 1), 1e-10);
    }
    BOOST_CHECK_CLOSE(e.grad()[j].item(), de, 1e-10);
  }
}

BOOST_AUTO_TEST_CASE(threads_build_and_backprop_their_own_graphs) {
  std::vector<std::thread> ts;
  std::vector<double> results(4);
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([t, &results] {
      auto x = mg::tensor({1.0 + t, 2.0}, mg::requires_grad());
      for (int rep = 0; rep < 200; ++rep) {
        if (x.grad().defined()) x.mutable_grad().zero_();
        auto y = (mg::exp(x) * x).sum();
        if (t % 2) {
          mg::NoGradGuard ng;
          (void)(x * 2);
        }
        y.backward();
      }
      results[static_cast<std::size_t>(t)] = x.grad().data_ptr()[0];
    });
  for (auto& t : ts) t.join();
  for (int t = 0; t < 4; ++t) BOOST_CHECK_CLOSE(results[static_cast<std::size_t>(t)], std::exp(1.0 + t) * (2.0 + t), 1e-10);
}

BOOST_AUTO_TEST_CASE(buffers_under_16_kb_are_reused_and_may_be_freed_on_another_thread) {
  // tensors of 5 to 2,000 elements take their buffers from a per-thread cache
  // (detail/pool.hpp, MediumPool): made on one thread, destroyed on another,
  // then made again, their values stay right and no byte is lost
  const auto base = mg::detail::live_storage_bytes();
  std::vector<mg::Tensor> made;
  std::thread([&] {
    for (std::int64_t n : {5, 9, 64, 100, 511, 2000}) made.push_back(mg::full({n}, static_cast<double>(n)));
  }).join();
  for (const auto& t : made) BOOST_CHECK_EQUAL(t.sum().item(), static_cast<double>(t.numel() * t.numel()));
  made.clear();
  BOOST_CHECK_EQUAL(mg::detail::live_storage_bytes(), base);
  const double* first = nullptr;
  for (int rep = 0; rep < 3; ++rep) {
    auto x = mg::arange(100);
    if (rep == 0) first = x.data_ptr();
    else BOOST_CHECK_EQUAL(x.data_ptr(), first);  // the freed buffer comes back
    BOOST_CHECK_EQUAL(x.sum().item(), 4950.0);
  }
  mg::detail::release_cached_buffers();
  BOOST_CHECK_EQUAL(mg::arange(100).sum().item(), 4950.0);
  BOOST_CHECK_EQUAL(mg::detail::live_storage_bytes(), base);
}

BOOST_AUTO_TEST_CASE(storage_bytes_are_summed_over_threads) {
  // each thread counts the bytes it allocates and frees (detail/pool.hpp,
  // StorageBytes): the sum over live and ended threads is what is held
  const auto base = mg::detail::live_storage_bytes();
  std::vector<mg::Tensor> kept(4);
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t)
    workers.emplace_back([&kept, t] {
      for (int i = 0; i < 200; ++i) {
        auto y = mg::full({64 + i}, 1.0, mg::requires_grad());
        (mg::sin(y) * y).sum().backward();
      }
      kept[static_cast<std::size_t>(t)] = mg::zeros({1000});  // outlives its thread
    });
  for (auto& w : workers) w.join();
  BOOST_CHECK_EQUAL(mg::detail::live_storage_bytes(), base + 4 * 1000 * static_cast<std::int64_t>(sizeof(double)));
  kept.clear();  // freed here, made there
  BOOST_CHECK_EQUAL(mg::detail::live_storage_bytes(), base);
}

BOOST_AUTO_TEST_SUITE_END()
