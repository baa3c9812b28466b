// tests/dynamic/test_views.cpp — views sharing storage, in-place ops, slice
// assignment recorded as CopySlices, and the version counter.
#include "support/check.hpp"

using check::values;

BOOST_AUTO_TEST_SUITE(views)

BOOST_AUTO_TEST_CASE(views_share_storage_and_route_gradients) {
  auto x = values({3, 4});
  auto r = x[1];
  BOOST_CHECK_EQUAL(r.grad_fn()->name(), "SelectBackward0");
  BOOST_CHECK_EQUAL(x.index({mg::Slice(), mg::Slice(1, 3)}).grad_fn()->name(), "SliceBackward0");
  BOOST_CHECK_EQUAL(x.t().grad_fn()->name(), "TBackward0");
  BOOST_CHECK_EQUAL(x.view({12}).grad_fn()->name(), "ViewBackward0");
  BOOST_CHECK_EQUAL(x.reshape({4, 3}).grad_fn()->name(), "ViewBackward0");
  BOOST_CHECK_EQUAL(r.data_ptr(), x.data_ptr() + 4);
  BOOST_CHECK_EQUAL(x.index({-1, -1}).item(), x.at({2, 3}));
  auto f = [](const std::vector<mg::Tensor>& in) {
    const auto& x = in[0];
    return x[1] * x.index({mg::Slice(), 2}).sum() + x.t()[0].pow(2).sum() + x.view({12}).index({mg::Slice(2, 11, 3)}).exp().sum() +
           x.t().reshape({2, 6}).sin().sum(0).sum();
  };
  check::gradients(f, {x});
}

BOOST_AUTO_TEST_CASE(expand_to_its_own_shape_is_a_view) {
  // PyTorch: x.expand(x.shape) is a view of x with ExpandBackward0; written
  // in place, its base takes CopySlices and the view AsStridedBackward0
  // (references from python3-torch 1.13)
  auto x = mg::tensor({{1., 2., 3.}, {4., 5., 6.}}, mg::requires_grad());
  auto y = x.expand({2, 3});
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "ExpandBackward0");
  BOOST_CHECK(!y.is_leaf());
  BOOST_CHECK_EQUAL(y.data_ptr(), x.data_ptr());
  (y * 2).sum().backward();
  check::close(x.grad(), {2., 2., 2., 2., 2., 2.});

  auto b = x * 1;
  auto w = b.expand({2, 3});
  BOOST_CHECK_EQUAL(w.grad_fn()->name(), "ExpandBackward0");
  w.mul_(3);
  BOOST_CHECK_EQUAL(b.grad_fn()->name(), "CopySlices");
  BOOST_CHECK_EQUAL(w.grad_fn()->name(), "AsStridedBackward0");
  check::close(b, {3., 6., 9., 12., 15., 18.});
  (w * w).sum().backward();
  check::close(x.grad(), {20., 38., 56., 74., 92., 110.});

  // a transposed (strided) tensor expanded to its own shape: the same elements
  auto t = (x * 2).t();
  auto e = t.expand({3, 2});
  BOOST_CHECK_EQUAL(e.data_ptr(), t.data_ptr());
  BOOST_CHECK(!e.is_contiguous());
  check::close(e, {2., 8., 4., 10., 6., 12.});
  BOOST_CHECK(mg::autograd::gradcheck([](const std::vector<mg::Tensor>& in) { return in[0].t().expand({3, 2}) * in[0].t(); },
                            {mg::tensor({{1., 2., 3.}, {4., 5., 6.}}, mg::requires_grad())}));
  BOOST_CHECK(mg::autograd::gradgradcheck([](const std::vector<mg::Tensor>& in) { return in[0].expand({2, 3}) * in[0]; },
                                {mg::tensor({{1., 2., 3.}, {4., 5., 6.}}, mg::requires_grad())}));
}

BOOST_AUTO_TEST_CASE(expand_is_a_stride_0_view) {
  // PyTorch: expand copies nothing; broadcast dims read one element (stride
  // 0). References from python3-torch 1.13.
  auto x = mg::tensor({{1.}, {2.}}, mg::requires_grad());
  auto e = x.expand({2, 3});
  BOOST_CHECK(e.strides() == (mg::Sizes{1, 0}));
  BOOST_CHECK(x.expand({-1, 3}).strides() == (mg::Sizes{1, 0}));
  BOOST_CHECK(x.expand({2, 2, 3}).strides() == (mg::Sizes{0, 1, 0}));
  BOOST_CHECK(x.expand({2, 2, 3}).sizes() == (mg::Sizes{2, 2, 3}));
  BOOST_CHECK(mg::tensor(3., mg::requires_grad()).expand({2, 2}).strides() == (mg::Sizes{0, 0}));
  BOOST_CHECK(!e.is_contiguous());
  BOOST_CHECK(x.expand_as(mg::zeros({4, 2, 5})).strides() == (mg::Sizes{0, 1, 0}));
  BOOST_CHECK(mg::broadcast_to(x, {2, 3}).strides() == (mg::Sizes{1, 0}));
  BOOST_CHECK_EQUAL(x.broadcast_to({2, 3}).grad_fn()->name(), "ExpandBackward0");
  BOOST_CHECK(x.expand_as(mg::zeros({4, 2, 5})).strides() == (mg::Sizes{0, 1, 0}));
  BOOST_CHECK(mg::broadcast_to(x, {2, 3}).strides() == (mg::Sizes{1, 0}));
  BOOST_CHECK_EQUAL(x.broadcast_to({2, 3}).grad_fn()->name(), "ExpandBackward0");
  BOOST_CHECK_EQUAL(e.data_ptr(), x.data_ptr());
  BOOST_CHECK_EQUAL(e.grad_fn()->name(), "ExpandBackward0");
  BOOST_CHECK_EQUAL(mg::repr(x.detach().expand({2, 3})), "tensor([[1., 1., 1.],\n        [2., 2., 2.]])");
  const auto c = mg::tensor({{1., 2., 3.}, {4., 5., 6.}});
  (e * c).sum().backward();
  check::close(x.grad(), {6., 15.});

  // PyTorch's phrases for sizes it cannot expand to
  check::throws([&] { x.expand({3}); },
                "expand(torch.DoubleTensor{[2, 1]}, size=[3]): the number of sizes provided (1) must be greater or "
                "equal to the number of dimensions in the tensor (2)");
  check::throws([&] { x.expand({3, 3}); },
                "The expanded size of the tensor (3) must match the existing size (2) at non-singleton dimension 0.  "
                "Target sizes: [3, 3].  Tensor sizes: [2, 1]");
  check::throws([&] { x.expand({-1, -1, 3}); },
                "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 0");
  check::throws([&] { e.view({6}); }, "view size is not compatible with input tensor's size and stride");
  check::close(e.reshape({6}), {1., 1., 1., 2., 2., 2.});

  // ops that read what they write refuse an expanded tensor; fill_ does not
  const char* overlap =
      "unsupported operation: more than one element of the written-to tensor refers to a single memory location. "
      "Please clone() the tensor before performing the operation.";
  check::throws([&] { e.detach().add_(1.); }, overlap);
  check::throws([&] { e.detach().mul_(c); }, overlap);
  check::throws([&] { e.detach().copy_(c); }, overlap);
  auto ones = mg::ones({2, 1});
  ones.expand({2, 3}).fill_(5.);
  check::close(ones, {5., 5.});
  ones.expand({2, 3}).select(1, 2).add_(1.);  // one column: no element twice
  check::close(ones, {6., 6.});

  // a column of an expanded view written in place: CopySlices on the base
  x.mutable_grad() = mg::Tensor();
  auto y = x * 1;
  auto w = y.expand({2, 3});
  w.select(1, 0).mul_(2.);
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "CopySlices");
  BOOST_CHECK_EQUAL(w.grad_fn()->name(), "AsStridedBackward0");
  check::close(y, {2., 4.});
  check::close(w, {2., 2., 2., 4., 4., 4.});
  (w * c).sum().backward();
  check::close(x.grad(), {12., 30.});
  // the whole base overwritten through an expanded view: no gradient reaches x
  // (PyTorch 1.13's own CopySlices raises the overlap error here)
  x.mutable_grad() = mg::Tensor();
  auto y2 = x * 1;
  auto w2 = y2.expand({2, 3});
  w2.fill_(7.);
  check::close(y2, {7., 7.});
  (w2 * c).sum().backward();
  check::close(x.grad(), {0., 0.});

  // an expanded operand of a matrix product
  auto v = mg::tensor({1., 2., 3., 4.}, mg::requires_grad());
  auto M = mg::tensor({{1., 2.}, {3., 4.}, {5., 6.}, {7., 8.}}, mg::requires_grad());
  auto r = v.expand({3, 4}).matmul(M);
  check::close(r, {50., 60., 50., 60., 50., 60.});
  (r * r).sum().backward();
  check::close(v.grad(), {1020., 2340., 3660., 4980.});
  check::close(M.grad(), {300., 360., 600., 720., 900., 1080., 1200., 1440.});

  const std::vector<mg::Tensor> in{mg::tensor({{0.5}, {-1.25}}, mg::requires_grad()),
                                   mg::tensor({0.3, -0.7, 1.1}, mg::requires_grad())};
  auto f = [](const std::vector<mg::Tensor>& a) {
    return (a[0].expand({2, 3}) * a[1].expand({4, 2, 3})).sin() + a[1].expand({2, 3}).matmul(a[0].t().expand({3, 2})).sum();
  };
  BOOST_CHECK(mg::autograd::gradcheck(f, in));
  BOOST_CHECK(mg::autograd::gradgradcheck(f, in));
}

BOOST_AUTO_TEST_CASE(a_long_chain_of_views_of_views) {
  // each view shares the chain of steps of the tensor it was made from; a
  // chain of 200,000 links is freed without recursion, and an in-place op at
  // its end still writes the base
  auto x = mg::zeros({4});
  mg::Tensor v = x;
  for (int i = 0; i < 200000; ++i) v = v.view({4});
  v.add_(1.);
  check::close(x, {1., 1., 1., 1.});
  v = mg::Tensor();
  // ... and a short one with history: CopySlices replays its steps from the base
  auto a = mg::tensor({1., 2., 3., 4.}, mg::requires_grad());
  auto b = a * 1;
  auto w = b.view({2, 2}).t().select(0, 1);
  w.mul_(3.);
  check::close(b, {1., 6., 3., 12.});
  b.sum().backward();
  check::close(a.grad(), {1., 3., 1., 3.});
}

BOOST_AUTO_TEST_CASE(python_slice_semantics) {
  auto a = mg::arange(10);
  check::close(a.index({mg::Slice(2, 8, 3)}), {2, 5});
  check::close(a.index({mg::Slice(-3)}), {7, 8, 9});
  check::close(a.index({mg::Slice(std::nullopt, -8)}), {0, 1});
  BOOST_CHECK_EQUAL(a.index({mg::Slice(8, 2)}).numel(), 0);
  check::throws([&] { a.slice(0, 0, 5, 0); }, "slice step must be positive");
  {  // libtorch's spelling: using namespace torch::indexing
    using namespace mg::indexing;
    check::close(a.index({Slice(7, None)}), {7, 8, 9});
    check::close(a.index({Slice(None, 2)}), {0, 1});
    check::close(a.index({Slice(None, None, 4)}), {0, 4, 8});
  }
}

BOOST_AUTO_TEST_CASE(seed000_slice_assignment_vjp) {
  auto x = mg::tensor({2., 3.}, mg::requires_grad());
  auto y = mg::zeros({2});
  y[0] = x[0].pow(2) + x[1] * 3;
  y[1] = x[0] * 2 + x[1].pow(2);
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "CopySlices");
  BOOST_CHECK(!y.is_leaf());
  y.backward(mg::tensor({1., 1.}));
  check::close(x.grad(), {6., 9.});  // v^T J with J = [[4, 3], [2, 6]]
}

BOOST_AUTO_TEST_CASE(jacobian_loop_with_zeroed_grads) {
  auto x = mg::tensor({2., 3.}, mg::requires_grad());
  auto y = mg::zeros({2});
  y[0] = x[0].pow(2) + x[1] * 3;
  y[1] = x[0] * 2 + x[1].pow(2);
  auto jac = mg::zeros({2, 2});
  for (int r = 0; r < 2; ++r) {
    auto v = mg::zeros({2});
    v[r] = 1.0;
    if (x.grad().defined()) x.mutable_grad().zero_();
    y.backward(v, true);
    jac.index({r, mg::Slice()}) = x.grad();
  }
  check::close(jac, {4., 3., 2., 6.});
  BOOST_CHECK(!jac.requires_grad());
}

BOOST_AUTO_TEST_CASE(overwritten_region_takes_the_new_graph) {
  // y = a*2 (requires grad); y[1] = b^2; the old y[1] gets no gradient
  auto a = mg::tensor({1., 2., 3.}, mg::requires_grad());
  auto b = mg::tensor(5.0, mg::requires_grad());
  auto y = a * 2;
  y[1] = b.pow(2);
  check::close(y, {2., 25., 6.});
  y.backward(mg::tensor({1., 10., 100.}));
  check::close(a.grad(), {2., 0., 200.});
  check::close(b.grad(), {100.});
}

BOOST_AUTO_TEST_CASE(repeated_and_overlapping_assignments) {
  auto p = mg::tensor({1.5, -0.5}, mg::requires_grad());
  auto f = [](const std::vector<mg::Tensor>& in) {
    const auto& p = in[0];
    auto y = mg::zeros({2, 3});
    y.index({mg::Slice(), mg::Slice(0, 2)}) = p.exp();       // broadcast of a [2] row into [2, 2]
    y.index({mg::Slice(), mg::Slice(1, 3)}) = p * p[0] * 3;   // overlaps the previous region
    y[0][2] = p[1].sin();                                     // assignment into a view of a view
    y.index({1, mg::Slice(0, 3, 2)}) = p.pow(3);              // stepped slice
    y[1] = y[1] * 2;                                          // reads the base, then writes it
    return y;
  };
  auto y = f({p});
  const double p0 = 1.5, p1 = -0.5;
  check::close(y, {std::exp(p0), p0 * p0 * 3, std::sin(p1), 2 * p0 * p0 * p0, 2 * p0 * p0 * 3, 2 * p1 * p1 * p1});
  check::gradients(f, {p});
}

BOOST_AUTO_TEST_CASE(assignment_of_constants_and_column_slices) {
  auto w = mg::tensor({{1., 2.}, {3., 4.}}, mg::requires_grad());
  auto y = w * 1;
  y.index({mg::Slice(), 1}) = 5.0;
  y.backward(mg::ones({2, 2}));
  check::close(y, {1., 5., 3., 5.});
  check::close(w.grad(), {1., 0., 1., 0.});
}

BOOST_AUTO_TEST_CASE(base_without_grad_value_with_grad) {
  auto x = mg::tensor({2.0}, mg::requires_grad());
  auto n = mg::zeros({1, 2});
  BOOST_CHECK(!n.requires_grad());
  n[0][1] = x[0] * 4;
  BOOST_CHECK(n.requires_grad());
  n.sum().backward();
  check::close(x.grad(), {4.});
  auto view_before = mg::zeros({3});
  auto v0 = view_before[0];
  view_before[2] = x[0];
  BOOST_CHECK(v0.requires_grad());  // a view's history follows its base's
  BOOST_CHECK_EQUAL(v0.grad_fn()->name(), "AsStridedBackward0");
}

// select and slice record rules::Select / rules::SliceDim (nothing saved);
// their backward functions are ops with their own rules, so a second
// derivative goes through SelectBackwardBackward0 / SliceBackwardBackward0,
// PyTorch's nodes, and reads the region back.
BOOST_AUTO_TEST_CASE(select_and_slice_backward_are_rules_with_adjoints) {
  auto x = values({3, 4});
  auto g = mg::autograd::grad({(x.select(1, 2) * x.select(1, 2)).sum()}, {x}, {}, std::nullopt, true)[0];
  BOOST_CHECK(x.select(1, 2).grad_fn()->saved_sizes().empty());
  BOOST_CHECK(x.slice(0, 1, 3).grad_fn()->saved_sizes().empty());
  const auto xc = x.detach();
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t j = 0; j < 4; ++j) BOOST_CHECK_EQUAL(g.at({i, j}), j == 2 ? 2 * xc.at({i, j}) : 0.0);
  auto s = mg::select_backward(x.select(1, 2), x.sizes(), 1, 2);
  BOOST_CHECK_EQUAL(s.grad_fn()->name(), "SelectBackwardBackward0");
  auto sl = mg::slice_backward(x.slice(1, 0, 4, 2), x.sizes(), 1, 0, 4, 2);
  BOOST_CHECK_EQUAL(sl.grad_fn()->name(), "SliceBackwardBackward0");
  check::close(sl.detach(), x.detach() * mg::tensor({1., 0., 1., 0.}));
  check::throws([&] { mg::select_backward(x, x.sizes(), 1, 2); }, "select_backward: the gradient's shape [3, 4] must be [3]");
  check::gradients([](const std::vector<mg::Tensor>& in) { return (in[0].select(0, 1) * in[0].select(1, 3).sum()).exp(); },
                   {values({3, 4})});
  check::gradients([](const std::vector<mg::Tensor>& in) { return in[0].slice(1, 1, 4, 2).sin() * in[0].narrow(1, 0, 2); },
                   {values({3, 4})});
  check::gradients([](const std::vector<mg::Tensor>& in) {
    return mg::select_backward(in[0], {2, 3}, 0, 1).sin() + mg::slice_backward(in[1], {2, 3}, 1, 0, 3, 2).exp();
  }, {values({3}), values({2, 2})});
}

BOOST_AUTO_TEST_CASE(a_regenerated_view_history_is_a_rule_of_its_base) {
  auto x = values({2, 3});
  auto b = x * 1.0;
  auto v = b.slice(1, 1, 3).t();
  b.mul_(2.0);  // the base changes in place after the view was taken
  BOOST_CHECK_EQUAL(v.grad_fn()->name(), "AsStridedBackward0");
  BOOST_CHECK(v.grad_fn()->saved_sizes().empty());
  auto g = mg::autograd::grad({(v * mg::tensor({{1., 2.}, {3., 4.}})).sum()}, {x})[0];
  check::close(g, {0., 2., 6., 0., 4., 8.});
}

BOOST_AUTO_TEST_CASE(inplace_ops_record_history) {
  auto a = values({3});
  auto b = values({3}, 0.5, 2.0);
  auto f = [](const std::vector<mg::Tensor>& in) {
    auto y = in[0] * 1;
    y += in[1];
    y *= in[1];
    y -= in[0] * 0.5;
    y /= in[1];
    y.mul_(2.0).add_(1.0).div_(3.0).sub_(0.25);
    return y;
  };
  auto y = f({a, b});
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "SubBackward0");
  check::gradients(f, {a, b});
  auto c = mg::zeros({2});
  c.copy_(mg::tensor({1., 2.}));
  c.fill_(3.0);
  BOOST_CHECK_EQUAL(c._version(), 2u);
  check::close(c.zero_(), {0., 0.});
}

BOOST_AUTO_TEST_CASE(inplace_ops_with_a_broadcast_operand) {
  // the in-place node keeps the other operand's shape only when it was
  // broadcast (InputShape): its gradient is summed back to [3] and [2, 1]
  // (references from python3-torch 1.13)
  auto x = mg::tensor({{1., 2., 3.}, {4., 5., 6.}}, mg::requires_grad());
  auto b = mg::tensor({0.5, -1., 2.}, mg::requires_grad());
  auto c = mg::tensor({{3.}, {-2.}}, mg::requires_grad());
  auto y = x * 1;
  y.mul_(b);
  y.add_(c);
  y.div_(b);
  BOOST_CHECK_EQUAL(y.grad_fn()->name(), "DivBackward0");
  check::close(y, {7., -1., 4.5, 0., 7., 5.});
  (y * y).sum().backward();
  check::close(x.grad(), {14., -2., 9., 0., 14., 10.});
  check::close(b.grad(), {-168., 34., -1.75});
  check::close(c.grad(), {34.5, -9.});
}

BOOST_AUTO_TEST_CASE(inplace_ops_refuse_a_partial_overlap_like_pytorch) {
  // an in-place op whose other operand shares some, not all, of the elements
  // it writes is PyTorch's error (python3-torch 1.13: each case below); the
  // same elements, disjoint ranges and strided views it cannot judge are fine
  const char* phrase = "some elements of the input tensor and the written-to tensor refer to a single memory location";
  auto x = mg::arange(5);
  auto mid = x.index({mg::Slice(1, 3)});
  check::throws([&] { mid.add_(x.index({mg::Slice(0, 2)})); }, phrase);
  check::throws([&] { mid.copy_(x.index({mg::Slice(0, 2)})); }, phrase);
  check::throws([&] { x.index({mg::Slice(1, 3)}) = x.index({mg::Slice(0, 2)}); }, phrase);  // (a temporary view: `=` writes)
  check::throws([&] { x.index({mg::Slice(0, 2)}).mul_(x[0]); }, phrase);
  auto m = mg::arange(4).reshape({2, 2});
  check::throws([&] { m.add_(m.t()); }, phrase);
  check::close(x, {0., 1., 2., 3., 4.});  // every refused op left x as it was
  check::close(m, {0., 1., 2., 3.});
  mid.add_(mid);
  mid.mul_(x[0]);
  x.index({mg::Slice(3, 5)}).add_(x.index({mg::Slice(0, 2)}));
  check::close(x, {0., 0., 0., 3., 4.});
  auto r = mg::arange(6).reshape({2, 3});
  r.index({mg::Slice(), mg::Slice(0, 2)}).add_(r.index({mg::Slice(), mg::Slice(1, 3)}));  // reads the old values
  check::close(r, {1., 3., 2., 7., 9., 5.});
}

BOOST_AUTO_TEST_CASE(version_counter_errors_name_shape_and_node) {
  auto x = mg::tensor({1., 2.}, mg::requires_grad());
  auto a = x * 1;
  auto b = a * a;  // MulBackward0 saves a (output 0 of MulBackward0)
  a.mul_(2);
  try {
    b.sum().backward();
    BOOST_ERROR("expected an error");
  } catch (const mg::Error& e) {
    const std::string m = e.what();
    BOOST_CHECK(m.find("modified by an inplace operation") != std::string::npos);
    BOOST_CHECK(m.find("[torch.DoubleTensor [2]]") != std::string::npos);
    BOOST_CHECK(m.find("output 0 of MulBackward0") != std::string::npos);
    BOOST_CHECK(m.find("is at version 1; expected version 0") != std::string::npos);
  }
  // a view modified through its base invalidates what was saved from the view
  auto base = x * 1;
  auto v = base[0];
  auto e = v.exp();  // saves its output only
  auto s = v.sin();  // saves v
  base.add_(1.0);
  check::throws([&] { s.backward(); }, "modified by an inplace operation");
  (void)e;
}

BOOST_AUTO_TEST_CASE(no_false_alarm_when_the_modified_tensor_was_not_saved) {
  auto x = mg::tensor({1., 2.}, mg::requires_grad());
  auto a = x * 1;
  auto b = a + 3;   // AddBackward0 saves nothing
  a.mul_(2);
  auto c = a * 1;   // uses the new a
  (b.sum() + c.sum()).backward();
  check::close(x.grad(), {3., 3.});
}

BOOST_AUTO_TEST_CASE(leaf_rules_and_optimizer_updates_under_no_grad) {
  auto w = mg::tensor({1., 2.}, mg::requires_grad());
  check::throws([&] { w[0] = 3.0; }, "a view of a leaf Variable that requires grad is being used in an in-place operation");
  check::throws([&] { w *= 2.0; }, "a leaf Variable that requires grad is being used in an in-place operation");
  for (int step = 0; step < 3; ++step) {
    auto loss = (w * w).sum();
    loss.backward();
    {
      mg::NoGradGuard no_grad;
      w -= 0.25 * w.grad();
      w[0] -= 0.0;  // views of leaves too
    }
    w.mutable_grad().zero_();
  }
  check::close(w, {0.125, 0.25});  // w <- w (1 - 2*0.25) three times
  BOOST_CHECK(w.is_leaf());
  BOOST_CHECK(w.requires_grad());
}

BOOST_AUTO_TEST_CASE(detach_shares_storage_and_version) {
  auto x = mg::tensor({1., 2.}, mg::requires_grad());
  auto d = x.detach();
  BOOST_CHECK(!d.requires_grad());
  d[0] = 7.0;
  BOOST_CHECK_EQUAL(x.at({0}), 7.0);
  BOOST_CHECK_EQUAL(x._version(), 1u);
}

BOOST_AUTO_TEST_SUITE_END()
