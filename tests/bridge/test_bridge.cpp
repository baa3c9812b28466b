// tests/bridge/test_bridge.cpp — a static expression on tensors is one fused
// node whose gradients equal the op-by-op dynamic graph's.
#define BOOST_TEST_MODULE metagrad_bridge
#include "support/check.hpp"

using namespace mg::literals;
using check::values;

namespace {
constexpr auto u = mg::var<"u">;
constexpr auto v = mg::var<"v">;
constexpr auto c = mg::var<"c">;
constexpr auto f = mg::exp(u) * v + mg::sin(u * v) - mg::sigmoid(u) / (v * v + 1.0) + mg::pow(u, 3_c) * c;
mg::Tensor op_by_op(const mg::Tensor& tu, const mg::Tensor& tv, double cv) {
  return mg::exp(tu) * tv + mg::sin(tu * tv) - mg::sigmoid(tu) / (tv * tv + 1.0) + tu.pow(3) * cv;
}
}  // namespace

BOOST_AUTO_TEST_CASE(one_node_same_values_same_gradients) {
  auto tu = values({2, 3}), tv = values({2, 3}, 0.3, 1.2);
  mg::Tensor out = f(u = tu, v = tv, c = 0.5);
  BOOST_CHECK_EQUAL(out.grad_fn()->name(), "StaticExprBackward0");
  BOOST_CHECK_EQUAL(out.grad_fn()->next_functions().size(), 2u);
  auto ref = op_by_op(tu, tv, 0.5);
  check::close(out, ref, 1e-14);
  auto w = values({2, 3}, -1, 1, false);
  auto g1 = mg::autograd::grad({out}, {tu, tv}, {w});
  auto g2 = mg::autograd::grad({ref}, {tu, tv}, {w});
  check::close(g1[0], g2[0], 1e-13);
  check::close(g1[1], g2[1], 1e-13);
}

BOOST_AUTO_TEST_CASE(broadcasting_and_constant_tensors) {
  auto tu = values({3, 1}), tv = values({4}, 0.3, 1.2), k = values({}, 0.5, 0.5, false);
  mg::Tensor out = f(u = tu, v = tv, c = k);
  BOOST_CHECK(out.sizes() == mg::Sizes({3, 4}));
  BOOST_CHECK_EQUAL(out.grad_fn()->next_functions().size(), 3u);
  BOOST_CHECK(!out.grad_fn()->next_functions()[2].first);
  check::gradients([&](const std::vector<mg::Tensor>& in) { return f(u = in[0], v = in[1], c = 0.5); }, {tu, tv});
  check::close(out, op_by_op(tu, tv, 0.5), 1e-14);
}

BOOST_AUTO_TEST_CASE(composes_with_the_graph_views_and_retain_graph) {
  auto x = values({4});
  auto y = x * 2;
  mg::Tensor out = f(u = y.index({mg::Slice(0, 4, 2)}), v = x[1], c = 1.0);
  auto loss = (out * out).sum();
  loss.backward({}, true);
  auto first = x.grad().clone();
  loss.backward();
  check::close(x.grad(), first * 2, 1e-13);
  check::gradients([&](const std::vector<mg::Tensor>& in) {
    auto y = in[0] * 2;
    return f(u = y.index({mg::Slice(0, 4, 2)}), v = in[0][1], c = 1.0);
  }, {x});
}

BOOST_AUTO_TEST_CASE(create_graph_through_the_fused_node) {
  auto tu = values({3}), tv = values({3}, 0.3, 1.2);
  // second derivatives of the fused node equal the op-by-op graph's
  auto h1 = mg::autograd::grad({f(u = tu, v = tv, c = 0.5).sum()}, {tu}, {}, std::nullopt, true)[0];
  auto h2 = mg::autograd::grad({op_by_op(tu, tv, 0.5).sum()}, {tu}, {}, std::nullopt, true)[0];
  auto s1 = mg::autograd::grad({h1.sum()}, {tu, tv});
  auto s2 = mg::autograd::grad({h2.sum()}, {tu, tv});
  check::close(s1[0], s2[0], 1e-12);
  check::close(s1[1], s2[1], 1e-12);
}

// Store or recompute: the forward keeps the values of expensive nodes the
// reverse sweep reads (exp: its own VJP reads y; sin inside a product: the
// product's VJP reads it) and the backward does not compute again a node the
// reverse sweep does not read (sin under a sum: its VJP reads only x).
BOOST_AUTO_TEST_CASE(forward_keeps_what_the_backward_reads) {
  using Tb = decltype(u = std::declval<const mg::Tensor&>());
  using Vb = decltype(v = std::declval<const mg::Tensor&>());
  using Tr = mg::detail::BridgeTraits<double, Tb, Vb>;
  auto kept = [](auto e) { return Tr::kept_count<typename mg::detail::numbered<decltype(e)>::type>(); };
  BOOST_CHECK_EQUAL(kept(mg::exp(u) * v + mg::sin(u * v)), 1u);             // exp
  BOOST_CHECK_EQUAL(kept(mg::sin(u) * v), 1u);                              // sin, read by the product
  BOOST_CHECK_EQUAL(kept(mg::sin(u) + v), 0u);                              // its VJP reads u only
  BOOST_CHECK_EQUAL(kept(u * v + mg::sqrt(u)), 0u);                         // cheap: computed again
  BOOST_CHECK_EQUAL(kept(mg::tanh(0.8 * (u + 0.04 * u * u * u)) * u), 1u);  // GELU's tanh
  // The kept values serve every backward of a retained graph, and a 0-d
  // operand's kept subexpression (computed once, not per element) too.
  auto tu = values({37}), tv = values({37}, 0.3, 1.2);
  auto k = values({}, 0.2, 0.2);
  auto out = mg::Tensor((mg::exp(u) * mg::tanh(v) + mg::exp(c) * mg::sin(u) * v)(u = tu, v = tv, c = k));
  auto ref = mg::exp(tu) * mg::tanh(tv) + mg::exp(k) * mg::sin(tu) * tv;
  check::close(out, ref, 1e-14);
  auto w = values({37}, -1, 1, false);
  auto a = mg::autograd::grad({out}, {tu, tv, k}, {w}, true);
  auto b = mg::autograd::grad({out}, {tu, tv, k}, {w});  // again, from the same kept values
  auto r = mg::autograd::grad({ref}, {tu, tv, k}, {w});
  for (int i = 0; i < 3; ++i) {
    check::close(a[i], r[i], 1e-13);
    check::close(b[i], r[i], 1e-13);
  }
  BOOST_CHECK_EXCEPTION(mg::autograd::grad({out}, {tu}, {w}), mg::Error, [](const mg::Error& e) {
    return std::string(e.what()).find("Trying to backward through the graph a second time") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(no_grad_makes_no_node) {
  auto tu = values({3});
  mg::NoGradGuard ng;
  mg::Tensor out = f(u = tu, v = 2.0, c = 1.0);
  BOOST_CHECK(!out.grad_fn());
}

// The backward is the fused packet pass: many packets and a tail, 0-d and
// broadcast operands (expanded, gradients summed back), non-contiguous inputs
// and upstream gradients, a bound tensor the expression does not read.
BOOST_AUTO_TEST_CASE(packet_backward_every_layout) {
  constexpr auto x = mg::var<"x">;
  constexpr auto mu = mg::var<"mu">;
  constexpr auto s = mg::var<"s">;
  constexpr auto unused = mg::var<"unused">;
  constexpr auto normal = -0.5 * mg::pow((x - mu) / s, 2_c) - mg::log(s);
  auto by_ops = [](const mg::Tensor& tx, const mg::Tensor& tm, const mg::Tensor& ts) {
    return -0.5 * ((tx - tm) / ts).pow(2) - mg::log(ts);
  };
  for (std::int64_t n : {1, 7, 8, 9, 1003}) {
    auto tx = values({n}, -2, 3), tm = values({}, 0.2, 0.2), ts = values({}, 1.3, 1.3), tz = values({n});
    mg::Tensor out = normal(x = tx, mu = tm, s = ts, unused = tz);
    auto ref = by_ops(tx, tm, ts);
    check::close(out, ref, 1e-14);
    auto w = values({n}, -1, 1, false);
    auto g1 = mg::autograd::grad({out}, {tx, tm, ts, tz}, {w});
    auto g2 = mg::autograd::grad({ref}, {tx, tm, ts}, {w});
    for (int k = 0; k < 3; ++k) check::close(g1[k], g2[k], 1e-12 * static_cast<double>(n));
    check::close(g1[3], mg::zeros({n}), 0.0);
  }
  // Only 0-d operands are read (the shape comes from an unread one): the whole
  // expression is computed once and its gradients summed over the output.
  {
    auto tm = values({}, 0.2, 0.2), ts = values({}, 1.3, 1.3), tz = values({5, 3});
    mg::Tensor out = normal(x = tm, mu = tm * 0.5, s = ts, unused = tz);
    auto ref = by_ops(tm, tm * 0.5, ts).expand({5, 3});
    check::close(out, ref, 1e-14);
    auto w = values({5, 3}, -1, 1, false);
    auto g1 = mg::autograd::grad({out}, {tm, ts, tz}, {w});
    auto g2 = mg::autograd::grad({ref}, {tm, ts}, {w});
    check::close(g1[0], g2[0], 1e-13);
    check::close(g1[1], g2[1], 1e-13);
    check::close(g1[2], mg::zeros({5, 3}), 0.0);
  }
  // Transposed (non-contiguous) input and a non-contiguous upstream gradient.
  auto a = values({5, 3}), b = values({3, 5}, 0.3, 1.2);
  auto at = a.t();
  mg::Tensor out = f(u = at, v = b, c = 0.25);
  auto ref = op_by_op(at, b, 0.25);
  auto w = values({5, 3}, -1, 1, false).t();
  BOOST_CHECK(!w.is_contiguous());
  auto g1 = mg::autograd::grad({out}, {a, b}, {w});
  auto g2 = mg::autograd::grad({ref}, {a, b}, {w});
  check::close(g1[0], g2[0], 1e-13);
  check::close(g1[1], g2[1], 1e-13);
  check::gradients([&](const std::vector<mg::Tensor>& in) { return f(u = in[0].t(), v = in[1], c = 0.25); }, {a, b});
}

BOOST_AUTO_TEST_CASE(packet_backward_in_float) {
  auto tu = (mg::arange<float>(37) * 0.08f - 1.5f).detach().requires_grad_();
  auto tv = (mg::arange<float>(37) * 0.02f + 0.4f).detach().requires_grad_();
  constexpr auto h = mg::exp(u) * v - u / (v * v + 1.0) + mg::tanh(u * v);
  mg::FloatTensor out = h(u = tu, v = tv);
  auto ref = mg::exp(tu) * tv - tu / (tv * tv + 1.0) + mg::tanh(tu * tv);
  auto g1 = mg::autograd::grad<float>({out.sum()}, {tu, tv});
  auto g2 = mg::autograd::grad<float>({ref.sum()}, {tu, tv});
  for (int k = 0; k < 2; ++k)
    for (int i = 0; i < 37; ++i) BOOST_CHECK_CLOSE_FRACTION(g1[k].data_ptr()[i], g2[k].data_ptr()[i], 1e-5f);
}
