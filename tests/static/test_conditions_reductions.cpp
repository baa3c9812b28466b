// tests/static/test_conditions_reductions.cpp — static comparisons, `where`,
// `clamp` (rules/select.hpp) and the full reductions logsumexp, max/amax and
// norm (rules/reductions.hpp): constexpr values and derivatives, mg::grad on
// numbers and on Eigen vectors (the packet pass, tails included), mg::d to
// second order, mg::hessian, the bridge against op by op (with create_graph),
// float, and the edge cases — all against PyTorch's numbers
// (tests/reference/ops_r2.py) or central finite differences.
#include <boost/test/unit_test.hpp>
#include <metagrad/metagrad.hpp>

#include "reference/ops_r2.hpp"
#include "support/finite_difference.hpp"

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <span>
#include <string>

namespace mg = metagrad;
using namespace mg::literals;

namespace {
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;

// ---- constant evaluation (both compilers check these)
static_assert((x < y)(x = 1.0, y = 2.0) && !(x >= y)(x = 1.0, y = 2.0) && (x != y)(x = 1.0, y = 2.0));
static_assert((x <= 2.0)(x = 2.0) && (x == 2.0)(x = 2.0) && !(x > 2.0)(x = 2.0));
static_assert(std::is_same_v<decltype((x < y)(x = 1.0, y = 2.0)), bool>, "a comparison evaluates to a bool");
static_assert(std::is_same_v<decltype(mg::d(x < y, x)), mg::IntC<0>>, "no derivative flows through a condition");
/// where: the branch not taken never reaches the value or the derivative.
static_assert(mg::where(x > 0, mg::log(x), 0.0)(x = -1.0) == 0.0);
static_assert(mg::d(mg::where(x > 0, mg::log(x), 0.0), x)(x = -1.0) == 0.0);
static_assert(mg::d(mg::where(x > 0, x * x * x, -x), x)(x = 2.0) == 12.0);
static_assert(mg::d(mg::where(x > 0, x * x * x, -x), x)(x = -2.0) == -1.0);
static_assert(mg::d(mg::where(x > 0, x * x * x, -x), x, x)(x = 2.0) == 12.0, "second order through where");
static_assert(mg::d(mg::where(x > y, x * y, 2.0 * y), y)(x = 1.0, y = 3.0) == 2.0);
/// masked_fill(e, mask, v) is where(mask, v, e): no gradient into e where the mask holds.
static_assert(mg::masked_fill(x * x, x > 1.0, 7.0)(x = 3.0) == 7.0 && mg::masked_fill(x * x, x > 1.0, 7.0)(x = 0.5) == 0.25);
static_assert(mg::d(mg::masked_fill(x * x, x > 1.0, 7.0), x)(x = 3.0) == 0.0 && mg::d(mg::masked_fill(x * x, x > 1.0, 7.0), x)(x = 0.5) == 1.0);
static_assert(mg::d(mg::masked_fill(x, x > 1.0, y * y), y)(x = 3.0, y = 2.0) == 4.0, "an expression as the fill value gets the gradient where the mask holds");
static_assert(std::is_same_v<decltype(mg::masked_fill(mg::sin(x), x > 0, 1.0f)(x = 0.5f)), float>);
/// clamp passes the gradient where lo <= x <= hi, bounds included (ClampBackward1).
static_assert(mg::clamp(x, -1.0, 1.0)(x = 3.0) == 1.0 && mg::clamp(x, -1.0, 1.0)(x = -3.0) == -1.0);
static_assert(mg::d(mg::clamp(x, -1.0, 1.0), x)(x = 1.0) == 1.0 && mg::d(mg::clamp(x, -1.0, 1.0), x)(x = -1.0) == 1.0);
static_assert(mg::d(mg::clamp(x, -1.0, 1.0), x)(x = 1.5) == 0.0 && mg::d(mg::clamp(x, -1.0, 1.0), x)(x = -1.5) == 0.0);
static_assert(mg::d(mg::clamp(x * x, 0.0, y), y)(x = 2.0, y = 3.0) == 1.0, "a bound that is an expression gets the gradient where it binds");
static_assert(mg::d(mg::clamp_min(x, y), y)(x = 2.0, y = 3.0) == 1.0 && mg::d(mg::clamp_max(x, y), x)(x = 2.0, y = 3.0) == 1.0);
/// float stays float.
static_assert(std::is_same_v<decltype(mg::clamp(x, -1.0, 1.0)(x = 0.5f)), float>);
static_assert(std::is_same_v<decltype(mg::where(x > 0, mg::sin(x), x)(x = 0.5f)), float>);
static_assert(std::is_same_v<decltype(mg::d(mg::where(x > 0, mg::sin(x), x), x)(x = 0.5f)), float>);
/// A number is its own reduction.
static_assert(mg::logsumexp(x)(x = 2.5) == 2.5 && mg::max(x)(x = -2.5) == -2.5 && mg::norm(x)(x = -2.5) == 2.5);
static_assert(mg::d(mg::norm(x), x)(x = -2.5) == -1.0);  // (at 0 it is 0: checked at run time, 0 / 0 is no constant)
static_assert(mg::d(mg::logsumexp(x * x), x)(x = 1.5) == 3.0);
// softmax / log_softmax of a number: 1 and 0, constexpr, float kept
static_assert(mg::softmax(x)(x = 2.5) == 1.0 && mg::log_softmax(x)(x = -2.5) == 0.0);
static_assert(std::is_same_v<decltype(mg::softmax(x)(x = 0.5f)), float>);

Eigen::VectorXd vec(std::span<const double> v) {
  return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}
void check_close(double a, double b, double tol = 1e-12) {
  BOOST_CHECK_MESSAGE(std::abs(a - b) <= tol * (1 + std::abs(b)), "got " << a << ", expected " << b);
}
template <class A, class B>
void check_all(const A& got, const B& expected, double tol = 1e-12) {
  BOOST_REQUIRE_EQUAL(got.size(), static_cast<Eigen::Index>(std::size(expected)));
  for (Eigen::Index i = 0; i < got.size(); ++i) check_close(got.reshaped()(i), expected[i], tol);
}
mg::Tensor tensor_of(std::span<const double> v) {
  auto t = mg::zeros({static_cast<std::int64_t>(v.size())});
  for (std::size_t i = 0; i < v.size(); ++i) t.data_ptr()[i] = v[i];
  return t.requires_grad_();
}
using check::central_difference;
}  // namespace

BOOST_AUTO_TEST_SUITE(static_conditions)

BOOST_AUTO_TEST_CASE(printing) {
  BOOST_CHECK_EQUAL(mg::to_string(mg::where(x > 0_c, mg::log(x), 0_c)), "where(x > 0, log(x), 0)");
  BOOST_CHECK_EQUAL(mg::to_string(mg::where(x + y <= y * 2_c, x, y)), "where(x + y <= 2 * y, x, y)");
  BOOST_CHECK_EQUAL(mg::to_string(mg::d(mg::where(x > 0_c, mg::log(x), 0_c), x)), "where(x > 0, 1 / x, 0)");
  BOOST_CHECK_EQUAL(mg::to_string(mg::clamp(x, -1.0, 2.0)), "clamp(x, -1, 2)");
  BOOST_CHECK_EQUAL(mg::to_string(mg::logsumexp(x) + mg::max(x) * mg::norm(x)), "logsumexp(x) + max(x) * norm(x)");
}

/// where and clamp in one expression of two vectors (7 elements: with
/// AVX-512 one full packet and no tail, with SSE/AVX a tail) against PyTorch.
BOOST_AUTO_TEST_CASE(where_and_clamp_on_vectors_equal_pytorch) {
  const auto e = mg::where(x > y, mg::sin(x) * y, mg::exp(x * y)) + mg::clamp(x, -1.0, 2.0) * y;
  const double xs[] = {1.0, 3.0, -2.0, 3.0, 0.5, 2.0, -1.0}, ys[] = {0.5, -1.0, 2.0, 1.0, 0.25, 2.0, 0.7};
  const Eigen::VectorXd a = vec(xs), b = vec(ys);
  check_all(e(x = a, y = b), reference::where_clamp_y);
  const auto g = mg::grad(mg::sum(e), x = a, y = b);
  check_close(g.value, vec(reference::where_clamp_y).sum());
  check_all(g[x], reference::where_clamp_gx);
  check_all(g[y], reference::where_clamp_gy);
  // d/dx of sum(dE/dx) (the Hessian's row sums over x): PyTorch's second derivative.
  const auto H = mg::hessian(mg::sum(e), x = a, y = b);
  check_all(H[x].rowwise().sum().eval(), reference::where_clamp_gxx, 1e-11);
  BOOST_CHECK(H[x].isApprox(H[x].transpose()));
  // Each element alone, through the scalar sweep: the same numbers.
  for (int i = 0; i < 7; ++i) {
    const auto gi = mg::grad(e, x = xs[i], y = ys[i]);
    check_close(gi.value, reference::where_clamp_y[i]);
    check_close(gi[x], reference::where_clamp_gx[i]);
    check_close(gi[y], reference::where_clamp_gy[i]);
  }
}

BOOST_AUTO_TEST_CASE(the_branch_not_taken_stays_out) {
  // torch.where(x > 0, log(x), 0): no NaN in the value or the gradient.
  const double xs[] = {1.0, 3.0, -2.0, 3.0, 0.5, 2.0, -1.0};
  const Eigen::VectorXd a = vec(xs);
  const auto safe = mg::where(x > 0_c, mg::log(x), 0_c);
  check_all(safe(x = a), reference::safe_log_y);
  const auto g = mg::grad(mg::sum(safe), x = a);
  check_all(g[x], reference::safe_log_g);
  // A longer vector, so that every packet width meets a tail and mixed packets.
  Eigen::VectorXd v(37);
  for (int i = 0; i < 37; ++i) v[i] = std::sin(1.3 * i) * 3.0;
  // (exp(x) x, not sqrt(x) x: the untaken branch's own derivative must be
  // finite, as in PyTorch — 0 * sqrt'(-1) is NaN there too.)
  const auto e = mg::where(x >= 0.25, mg::exp(x) * x, mg::clamp(x, -2.0, 1.0) * 3.0);
  const auto gv = mg::grad(mg::sum(e), x = v);
  auto f = [&](const Eigen::VectorXd& w) { return mg::sum(e)(x = w); };
  for (int i = 0; i < 37; ++i) {
    const double expected = v[i] >= 0.25 ? std::exp(v[i]) * (1 + v[i]) : (v[i] >= -2.0 && v[i] <= 1.0 ? 3.0 : 0.0);
    check_close(gv[x][i], expected);
    check_close(gv[x][i], central_difference(f, v, i), 1e-6);
  }
}

BOOST_AUTO_TEST_CASE(nan_is_kept_by_clamp) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  BOOST_CHECK(std::isnan(mg::clamp(x, -1.0, 1.0)(x = nan)));
  const auto g = mg::grad(mg::clamp(x, -1.0, 1.0), x = nan);
  BOOST_CHECK_EQUAL(g[x], 0.0);  // as PyTorch: NaN >= -1 is false
}

BOOST_AUTO_TEST_CASE(bridge_equals_op_by_op_to_second_order) {
  const double xs[] = {1.0, 3.0, -2.0, 3.0, 0.5, 2.0, -1.0}, ys[] = {0.5, -1.0, 2.0, 1.0, 0.25, 2.0, 0.7};
  auto tx = tensor_of(xs), ty = tensor_of(ys);
  const auto e = mg::where(x > y, mg::sin(x) * y, mg::exp(x * y)) + mg::clamp(x, -1.0, 2.0) * y;
  auto fused = e(x = tx, y = ty);
  BOOST_CHECK_EQUAL(fused.grad_fn()->name(), "StaticExprBackward0");
  auto op = mg::where(tx > ty, mg::sin(tx) * ty, mg::exp(tx * ty)) + mg::clamp(tx, -1.0, 2.0) * ty;
  for (std::int64_t i = 0; i < 7; ++i) {
    check_close(fused.data_ptr()[i], reference::where_clamp_y[i]);
    check_close(op.data_ptr()[i], reference::where_clamp_y[i]);
  }
  auto gf = mg::autograd::grad({fused.sum()}, {tx, ty}, {}, true, true);
  auto go = mg::autograd::grad({op.sum()}, {tx, ty}, {}, true, true);
  for (std::int64_t i = 0; i < 7; ++i) {
    check_close(gf[0].data_ptr()[i], reference::where_clamp_gx[i]);
    check_close(gf[1].data_ptr()[i], reference::where_clamp_gy[i]);
    check_close(go[0].data_ptr()[i], reference::where_clamp_gx[i]);
  }
  // create_graph through the fused node records its backward with keep_where on tensors.
  auto g2f = mg::autograd::grad({gf[0].sum()}, {tx});
  auto g2o = mg::autograd::grad({go[0].sum()}, {tx});
  for (std::int64_t i = 0; i < 7; ++i) {
    check_close(g2f[0].data_ptr()[i], reference::where_clamp_gxx[i], 1e-11);
    check_close(g2o[0].data_ptr()[i], reference::where_clamp_gxx[i], 1e-11);
  }
}

/// masked_fill on vectors: the packet pass, the scalar sweep and the bridge
/// against dynamic mode's masked_fill (MaskedFillBackward0) op by op.
BOOST_AUTO_TEST_CASE(masked_fill_on_vectors_equals_dynamic) {
  BOOST_CHECK_EQUAL(mg::to_string(mg::masked_fill(mg::sin(x) * y, x > y, 2_c)), "where(x > y, 2, sin(x) * y)");
  const double xs[] = {1.0, 3.0, -2.0, 3.0, 0.5, 2.0, -1.0}, ys[] = {0.5, -1.0, 2.0, 1.0, 0.25, 2.0, 0.7};
  const auto e = mg::masked_fill(mg::sin(x) * y, x > y, 2.0);
  const auto g = mg::grad(mg::sum(e), x = vec(xs), y = vec(ys));
  auto tx = tensor_of(xs), ty = tensor_of(ys);
  auto op = (mg::sin(tx) * ty).masked_fill(tx > ty, 2.0);
  BOOST_CHECK_EQUAL(op.grad_fn()->name(), "MaskedFillBackward0");
  auto fused = e(x = tx, y = ty);
  BOOST_CHECK_EQUAL(fused.grad_fn()->name(), "StaticExprBackward0");
  auto go = mg::autograd::grad({op.sum()}, {tx, ty});
  auto gf = mg::autograd::grad({fused.sum()}, {tx, ty});
  for (std::int64_t i = 0; i < 7; ++i) {
    const bool masked = xs[i] > ys[i];
    const double value = masked ? 2.0 : std::sin(xs[i]) * ys[i];
    check_close(op.data_ptr()[i], value);
    check_close(fused.data_ptr()[i], value);
    check_close(g[x][i], masked ? 0.0 : std::cos(xs[i]) * ys[i]);
    check_close(g[y][i], masked ? 0.0 : std::sin(xs[i]));
    check_close(go[0].data_ptr()[i], g[x][i]);
    check_close(go[1].data_ptr()[i], g[y][i]);
    check_close(gf[0].data_ptr()[i], g[x][i]);
    check_close(gf[1].data_ptr()[i], g[y][i]);
    const auto gi = mg::grad(e, x = xs[i], y = ys[i]);
    check_close(gi[x], g[x][i]);
  }
}

BOOST_AUTO_TEST_CASE(float_vectors) {
  Eigen::VectorXf v(11);
  for (int i = 0; i < 11; ++i) v[i] = static_cast<float>(std::cos(0.9 * i) * 2.0);
  const auto e = mg::where(x > 0.5f, mg::exp(x), mg::clamp(x, -1.0f, 0.5f) * x);
  const auto g = mg::grad(mg::sum(e), x = v);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(g[x])>::Scalar, float>);
  for (int i = 0; i < 11; ++i) {
    const float xi = v[i];
    const float expected = xi > 0.5f ? std::exp(xi) : (xi >= -1.0f ? 2 * xi : -1.0f);
    BOOST_CHECK_CLOSE(g[x][i], expected, 1e-4);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(static_full_reductions)

/// logsumexp, max / amax and norm of a vector with a tie at the maximum:
/// value, gradient (ties share it) and Hessian against PyTorch.
BOOST_AUTO_TEST_CASE(equal_pytorch_to_second_order) {
  const double vs[] = {0.5, -1.0, 2.0, 2.0, -0.3};
  const Eigen::VectorXd v = vec(vs);
  auto one = [&](auto e, std::span<const double> ry, std::span<const double> rg, std::span<const double> rH) {
    check_close(e(x = v), ry[0]);
    const auto g = mg::grad(e, x = v);
    check_close(g.value, ry[0]);
    check_all(g[x], rg);
    const auto H = mg::hessian(e, x = v);
    check_all(H[x], rH, 1e-11);
    // mg::d with respect to the whole vector: the derivative along (1, ..., 1).
    check_close(mg::d(e, x)(x = v), g[x].sum());
  };
  one(mg::logsumexp(x), reference::s_logsumexp_y, reference::s_logsumexp_g, reference::s_logsumexp_H);
  one(mg::max(x), reference::s_max_y, reference::s_max_g, reference::s_max_H);
  one(mg::amax(x), reference::s_amax_y, reference::s_amax_g, reference::s_amax_H);
  one(mg::norm(x), reference::s_norm_y, reference::s_norm_g, reference::s_norm_H);
  // Second order along (1, ..., 1): 1' H 1 (0 for logsumexp: softmax sums to 1).
  check_close(mg::d(mg::logsumexp(x), x, x)(x = v), 0.0);
  check_close(mg::d(mg::logsumexp(mg::sin(x) * x), x, x)(x = v),
              mg::hessian(mg::logsumexp(mg::sin(x) * x), x = v)[x].sum(), 1e-11);
  check_close(mg::d(mg::norm(x * x), x, x)(x = v), mg::hessian(mg::norm(x * x), x = v)[x].sum(), 1e-11);
}

BOOST_AUTO_TEST_CASE(inside_other_expressions) {
  Eigen::VectorXd v(19);
  for (int i = 0; i < 19; ++i) v[i] = std::sin(0.7 * i + 0.2) * 4.0;
  // sum(softmax) = 1 (gradient 0); cross-entropy-like lse(x) - x[3]; a
  // normalised vector's weighted sum; a max inside a fused sum.
  const auto softmax_total = mg::sum(mg::exp(x - mg::logsumexp(x)));
  const auto g0 = mg::grad(softmax_total, x = v);
  check_close(g0.value, 1.0);
  BOOST_CHECK_SMALL(g0[x].cwiseAbs().maxCoeff(), 1e-15);
  const auto ce = mg::logsumexp(x) - x[3];
  const auto unit = mg::sum(mg::sin(x) * x / mg::norm(x)) + mg::sum(mg::exp(x - mg::max(x)));
  for (auto f : {0, 1}) {
    auto value = [&](const Eigen::VectorXd& w) { return f == 0 ? ce(x = w) : unit(x = w); };
    const Eigen::VectorXd g = f == 0 ? Eigen::VectorXd(mg::grad(ce, x = v)[x]) : Eigen::VectorXd(mg::grad(unit, x = v)[x]);
    for (int i = 0; i < 19; ++i) check_close(g[i], central_difference(value, v, i), 1e-6);
  }
}

/// softmax and log_softmax of a vector (compositions with logsumexp): values
/// and the gradient of a weighted sum against PyTorch (torch.softmax(x, 0),
/// python3-torch 1.13), the Hessian symmetric and consistent with mg::d, and
/// dynamic mode's ops on the same vector.
BOOST_AUTO_TEST_CASE(softmax_and_log_softmax_of_a_vector_equal_pytorch) {
  const double vs[] = {0.5, -1.0, 2.0, 2.0, -0.3}, ws[] = {1., 2., 3., 4., 5.};
  const Eigen::VectorXd v = vec(vs), w = vec(ws);
  const double sm_y[] = {0.09402174695698241, 0.02097908745594663, 0.4213762357111993, 0.4213762357111993,
                         0.04224669416467245};
  const double sm_g[] = {-0.21595357144487162, -0.02720666752517296, -0.12508428942255304, 0.29629194628864625,
                         0.0719525821039512};
  const double lsm_y[] = {-2.3642291728633618, -3.8642291728633618, -0.8642291728633619, -0.8642291728633619,
                          -3.1642291728633616};
  const double lsm_g[] = {-0.41032620435473643, 1.6853136881608004, -3.3206435356679895, -2.3206435356679895,
                          4.366299587529913};
  check_all(mg::softmax(x)(x = v), sm_y);
  check_all(mg::log_softmax(x)(x = v), lsm_y);
  const auto fs = mg::sum(mg::softmax(x) * y);
  const auto fl = mg::sum(mg::log_softmax(x) * y);
  const auto gs = mg::grad(fs, x = v, y = w);
  const auto gl = mg::grad(fl, x = v, y = w);
  check_close(gs.value, 3.296847042670633);
  check_close(gl.value, -31.963437592950427);
  check_all(gs[x], sm_g);
  check_all(gl[x], lsm_g);
  const auto H = mg::hessian(fs, x = v, y = w)[x];
  BOOST_CHECK_SMALL((H - H.transpose()).cwiseAbs().maxCoeff(), 1e-15);
  for (int i = 0; i < 5; ++i)
    check_close(H.col(i).sum(), mg::grad(mg::d(fs, x), x = v, y = w)[x][i], 1e-12);
  check_close(mg::softmax(x)(x = 0.3), 1.0);
  check_close(mg::log_softmax(x)(x = 0.3), 0.0);
  BOOST_CHECK_EQUAL(mg::to_string(mg::log_softmax(x)), "x - logsumexp(x)");

  // dynamic mode's softmax(0) / log_softmax(0) (SoftmaxBackward0 / LogSoftmaxBackward0) on the same
  // vector; the bridge fuses elementwise expressions only (a static_assert says so), so the
  // reductions stay op by op there
  auto tx = tensor_of(vs), tw = tensor_of(ws);
  auto op = (tx.softmax(0) * tw + tx.log_softmax(0) * tw).sum();
  check_close(op.item(), 3.296847042670633 - 31.963437592950427, 1e-13);
  auto go = mg::autograd::grad({op}, {tx});
  for (std::int64_t i = 0; i < 5; ++i) check_close(go[0].data_ptr()[i], sm_g[i] + lsm_g[i], 1e-12);
}

BOOST_AUTO_TEST_CASE(edge_cases_follow_pytorch) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  const Eigen::VectorXd empty(0);
  BOOST_CHECK_EQUAL(mg::logsumexp(x)(x = empty), -inf);  // torch.logsumexp of an empty tensor
  try {
    (void)mg::max(x)(x = empty);
    BOOST_ERROR("max of an empty vector must throw");
  } catch (const mg::Error& err) {
    BOOST_CHECK(std::string(err.what()).find("max(): Expected reduction dim to be specified for input.numel() == 0") !=
                std::string::npos);
  }
  Eigen::VectorXd w(3);
  w << 1.0, inf, 2.0;
  BOOST_CHECK_EQUAL(mg::logsumexp(x)(x = w), inf);
  w << 1.0, nan, 2.0;
  BOOST_CHECK(std::isnan(mg::max(x)(x = w)));
  const auto gmax = mg::grad(mg::max(x), x = w);  // the NaN element takes the gradient (PyTorch)
  BOOST_CHECK_EQUAL(gmax[x][0], 0.0);
  BOOST_CHECK_EQUAL(gmax[x][1], 1.0);
  BOOST_CHECK_EQUAL(gmax[x][2], 0.0);
  BOOST_CHECK_EQUAL(mg::d(mg::norm(x), x)(x = 0.0), 0.0);
  BOOST_CHECK_EQUAL(mg::grad(mg::norm(x), x = 0.0)[x], 0.0);
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(4);
  const auto gn = mg::grad(mg::norm(x), x = zero);  // 0, not NaN, at the origin (PyTorch's masked_fill)
  BOOST_CHECK_EQUAL(gn.value, 0.0);
  BOOST_CHECK_EQUAL(gn[x].cwiseAbs().maxCoeff(), 0.0);
  w << -800.0, -799.0, -801.0;  // no underflow: the maximum is taken out first
  check_close(mg::logsumexp(x)(x = w), -799.0 + std::log(1.0 + std::exp(-1.0) + std::exp(-2.0)));
}

BOOST_AUTO_TEST_CASE(float_keeps_float) {
  Eigen::VectorXf v(6);
  v << 0.5f, -1.0f, 2.0f, 2.0f, -0.3f, 1.0f;
  static_assert(std::is_same_v<decltype(mg::logsumexp(x)(x = v)), float>);
  const auto g = mg::grad(mg::logsumexp(x) + mg::norm(x) + mg::max(x), x = v);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(g.value)>, float>);
  const Eigen::VectorXd vd = v.cast<double>();
  const auto gd = mg::grad(mg::logsumexp(x) + mg::norm(x) + mg::max(x), x = vd);
  for (int i = 0; i < 6; ++i) BOOST_CHECK_CLOSE(static_cast<double>(g[x][i]), gd[x][i], 1e-4);
}

BOOST_AUTO_TEST_SUITE_END()
