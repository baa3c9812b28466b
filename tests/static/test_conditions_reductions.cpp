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
#include <vector>

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
  BOOST_CHECK_EQUAL(mg::to_string(mg::log_softmax(x)), "log_softmax(x)");

  // dynamic mode's softmax(0) / log_softmax(0) (SoftmaxBackward0 / LogSoftmaxBackward0) on the same
  // vector; the bridge fuses elementwise expressions only (a static_assert says so), so the
  // reductions stay op by op there
  auto tx = tensor_of(vs), tw = tensor_of(ws);
  auto op = (tx.softmax(0) * tw + tx.log_softmax(0) * tw).sum();
  check_close(op.item(), 3.296847042670633 - 31.963437592950427, 1e-13);
  auto go = mg::autograd::grad({op}, {tx});
  for (std::int64_t i = 0; i < 5; ++i) check_close(go[0].data_ptr()[i], sm_g[i] + lsm_g[i], 1e-12);
}

/// softmax, log_softmax, max, amax and norm of a vector at extremes, as python3-torch's
/// torch.softmax(x, 0) / torch.log_softmax(x, 0): shifted by the largest
/// element before the logarithm (not x - logsumexp(x), which loses -log 2 to
/// the rounding of 1e308 + log 2), NaN everywhere when the largest element is
/// infinite; each engine (value, grad, mg::d, Hessian on duals) agrees.
BOOST_AUTO_TEST_CASE(softmax_log_softmax_and_max_of_a_vector_at_extremes_like_pytorch) {
  const double inf = std::numeric_limits<double>::infinity();
  const double big[] = {1e308, 1e308, 1.0}, ws[] = {1., 2., 3.};
  const Eigen::VectorXd v = vec(big), w = vec(ws);
  const double lsm_y[] = {-0.6931471805599453, -0.6931471805599453, -1e308}, sm_y[] = {0.5, 0.5, 0.0};
  check_all(mg::log_softmax(x)(x = v), lsm_y);
  check_all(mg::softmax(x)(x = v), sm_y);
  const double lsm_g[] = {-2., -1., 3.}, sm_g[] = {-0.25, 0.25, 0.};
  check_all(mg::grad(mg::sum(mg::log_softmax(x) * y), x = v, y = w)[x], lsm_g);
  check_all(mg::grad(mg::sum(mg::softmax(x) * y), x = v, y = w)[x], sm_g);
  for (const double first : {inf, -inf}) {
    const double vals[] = {first, 1.0, 2.0};
    const Eigen::VectorXd u = vec(vals);
    const Eigen::VectorXd ls = mg::log_softmax(x)(x = u), sm = mg::softmax(x)(x = u);
    if (first > 0) {
      BOOST_CHECK(ls.array().isNaN().all() && sm.array().isNaN().all());
    } else {
      BOOST_CHECK_EQUAL(ls[0], -inf);
      BOOST_CHECK_EQUAL(sm[0], 0.0);
      check_close(ls[2], -0.31326168751822286);
    }
  }
  // max and amax where the largest element is a NaN: max() gives g to the NaNs,
  // amax NaN to every element (torch.max(x) / torch.amax(x, 0))
  const double with_nan[] = {std::numeric_limits<double>::quiet_NaN(), 1.0, 2.0}, max_g[] = {2., 0., 0.};
  const Eigen::VectorXd n = vec(with_nan);
  check_all(mg::grad(2.0 * mg::max(x), x = n)[x], max_g);
  BOOST_CHECK(mg::grad(2.0 * mg::amax(x), x = n)[x].array().isNaN().all());
  BOOST_CHECK_EQUAL(mg::to_string(mg::amax(x)), "amax(x)");
  // norm neither overflows nor underflows (PyTorch's gives inf and 0 here); its
  // Hessian (I - u u') / |x|, u = x / |x|, stays finite at 1e-200
  for (const double scale : {1e200, 1e-200}) {
    const double e[] = {3.0 * scale, 4.0 * scale}, unit[] = {0.6, 0.8};
    const auto g = mg::grad(mg::norm(x), x = vec(e));
    BOOST_CHECK_CLOSE(g.value, 5.0 * scale, 1e-12);
    check_all(g[x], unit);
    const auto H = mg::hessian(mg::norm(x), x = vec(e))[x];
    BOOST_CHECK_CLOSE(H(0, 0), 0.64 / (5.0 * scale), 1e-10);
    BOOST_CHECK_CLOSE(H(0, 1), -0.48 / (5.0 * scale), 1e-10);
  }
  // mg::d and the Hessian through the rules, against mg::grad at ordinary values
  const double vs[] = {0.5, -1.0, 2.0, 2.0, -0.3}, ws5[] = {1., 2., 3., 4., 5.};
  const Eigen::VectorXd a = vec(vs), b = vec(ws5);
  for (int which = 0; which < 2; ++which) {
    auto run = [&](auto f) {
      const auto g = mg::grad(f, x = a, y = b)[x];
      check_close(mg::d(f, x)(x = a, y = b), g.sum(), 1e-12);
      const auto H = mg::hessian(f, x = a, y = b)[x];
      BOOST_CHECK_SMALL((H - H.transpose()).cwiseAbs().maxCoeff(), 1e-15);
      for (int i = 0; i < 5; ++i) check_close(H.col(i).sum(), mg::grad(mg::d(f, x), x = a, y = b)[x][i], 1e-12);
    };
    if (which == 0) run(mg::sum(mg::log_softmax(x * x) * y));
    else run(mg::sum(mg::softmax(mg::sin(x)) * y));
  }
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

BOOST_AUTO_TEST_SUITE(static_reductions_along_a_dimension)

// sum(op(X, d) * W) for X below, W linspace(-0.7, 1.3) of op's result shape;
// its value, op(X, d), W, the gradient and the Hessian-vector product with U
// (matrices column by column, as Eigen stores them): python3-torch 1.13.
struct AlongRef {
  const char* op;
  int dim;
  double value;
  std::vector<double> out, w, grad, hvp;
};
const AlongRef along_refs[] = {
    {"sum", 0, 0.0, {2.0, -0.75, 1.25}, {-0.7, 0.30000000000000004, 1.3}, {-0.7, -0.7, 0.30000000000000004, 0.30000000000000004, 1.3, 1.3}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"sum", 1, 0.2500000000000002, {1.5, 1.0}, {-0.7, 1.3}, {-0.7, 1.3, -0.7, 1.3, -0.7, 1.3}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"mean", 0, 0.0, {1.0, -0.375, 0.625}, {-0.7, 0.30000000000000004, 1.3}, {-0.35, -0.35, 0.15000000000000002, 0.15000000000000002, 0.65, 0.65}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"mean", 1, 0.08333333333333337, {0.5, 0.3333333333333333}, {-0.7, 1.3}, {-0.2333333333333333, 0.43333333333333335, -0.2333333333333333, 0.43333333333333335, -0.2333333333333333, 0.43333333333333335}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"prod", 0, -2.55, {0.75, -0.25, -1.5}, {-0.7, 0.30000000000000004, 1.3}, {-1.0499999999999998, -0.35, 0.07500000000000001, -0.30000000000000004, -0.9750000000000001, 2.6}, {-0.49, -0.13999999999999999, 0.030000000000000002, -0.09, -0.5199999999999999, 0.6499999999999999}},
    {"prod", 1, 0.3343749999999999, {-1.0, -0.28125}, {-0.7, 1.3}, {1.4, -0.24375000000000002, -0.7, -1.4625000000000001, 0.35, 0.48750000000000004}, {0.7700000000000001, -0.22749999999999995, -0.45500000000000007, -1.4625, 0.24500000000000002, 0.4224999999999999}},
    {"logsumexp", 0, 1.5618534088450144, {1.8132616875182228, 0.501929081345373, 2.0619675890031988}, {-0.7, 0.30000000000000004, 1.3}, {-0.18825899495899656, -0.5117410050410034, 0.06681004164759266, 0.23318995835240736, 1.22188735477379, 0.07811264522620989}, {0.06881417663451864, -0.06881417663451861, -0.020772574439099644, 0.020772574439099644, 0.06607720623450264, -0.06607720623450264}},
    {"logsumexp", 1, 0.8109564845693813, {2.241311296657157, 1.830672609407224}, {-0.7, 1.3}, {-0.12270327449802568, 0.9339724434963844, -0.02737880128948121, 0.26758758519694703, -0.549917924212493, 0.09843997130666857}, {0.026518978166834205, 0.19314300082332098, 0.019606584490079036, -0.10521615490231509, -0.04612556265691328, -0.08792684592100586}},
    {"amax", 0, 1.6250000000000002, {1.5, 0.25, 2.0}, {-0.7, 0.30000000000000004, 1.3}, {-0.0, -0.7, 0.0, 0.30000000000000004, 1.3, 0.0}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"amax", 1, 0.5500000000000003, {2.0, 1.5}, {-0.7, 1.3}, {-0.0, 1.3, -0.0, 0.0, -0.7, 0.0}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"norm", 0, 1.9792369580905893, {1.5811388300841898, 1.0307764064044151, 2.1360009363293826}, {-0.7, 0.30000000000000004, 1.3}, {-0.22135943621178655, -0.6640783086353595, -0.2910427500435996, 0.0727606875108999, 1.217227930839758, -0.45646047406490925}, {0.013281566172707177, -0.004427188724235809, 0.0017120161767270603, 0.006848064706908227, -0.042519605803306604, -0.11338561547548431}},
    {"norm", 1, 0.6003557512811684, {2.29128784747792, 1.695582495781317}, {-0.7, 1.3}, {-0.15275252316519466, 1.1500472580081977, 0.30550504633038933, 0.19167454300136627, -0.6110100926607787, -0.5750236290040989}, {-0.020367003088692624, -0.013333881252268975, 0.010183501544346316, -0.01500061640880257, 0.010183501544346302, -0.03166796797413879}},
    {"softmax", 0, 0.9821341079744443, {0.2689414213699951, 0.7310585786300049, 0.22270013882530884, 0.7772998611746911, 0.9399133498259924, 0.06008665017400762}, {-0.7, 0.5, -0.29999999999999993, 0.9, 0.10000000000000009, 1.3}, {-0.2359343198897782, 0.2359343198897782, -0.2077257443909964, 0.20772574439099642, -0.06777149357384886, 0.06777149357384885}, {0.054514648603769054, -0.05451464860376905, 0.046081856065626155, -0.046081856065626134, 0.05366445256940861, -0.05366445256940862}},
    {"softmax", 1, 0.5870357424597832, {0.1752903921400367, 0.7184403411510649, 0.039112573270687456, 0.20583660399765152, 0.7855970345892759, 0.07572305485128351}, {-0.7, 0.5, -0.29999999999999993, 0.9, 0.10000000000000009, 1.3}, {-0.1129085131282532, -0.1026745258872653, -0.009548265308153248, 0.05291789741701334, 0.12245677843640645, 0.04975662847025199}, {0.017125598082966792, 0.040900080343357535, 0.005214122185344686, -0.003006085788837166, -0.022339720268311485, -0.03789399455452039}},
    {"log_softmax", 0, -2.6752597359080577, {-1.3132616875182228, -0.31326168751822286, -1.501929081345373, -0.25192908134537295, -0.061967589003198625, -2.8119675890031988}, {-0.7, 0.5, -0.29999999999999993, 0.9, 0.10000000000000009, 1.3}, {-0.646211715726001, 0.646211715726001, -0.43362008329518525, 0.4336200832951853, -1.2158786897563894, 1.2158786897563894}, {-0.01966119332414818, 0.019661193324148177, 0.04154514887819929, -0.04154514887819929, -0.07116006825254126, 0.0711600682525413}},
    {"log_softmax", 1, -2.775635878408065, {-1.7413112966571571, -0.3306726094072241, -3.241311296657157, -1.580672609407224, -0.24131129665715703, -2.580672609407224}, {-0.7, 0.5, -0.29999999999999993, 0.9, 0.10000000000000009, 1.3}, {-0.542238647073967, -1.4397889211078754, -0.26479868405638124, 0.3442411692063408, 0.8070373311303483, 1.0955477519015346}, {-0.034095829071643984, -0.4011431555561281, -0.02520846577295876, 0.21852586018173134, 0.059304294844602756, 0.1826172953743968}},
    {"cumsum", 0, 2.1, {0.5, 2.0, -1.0, -0.75, 2.0, 1.25}, {-0.7, 0.5, -0.29999999999999993, 0.9, 0.10000000000000009, 1.3}, {-0.19999999999999996, 0.5, 0.6000000000000001, 0.9, 1.4000000000000001, 1.3}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"cumsum", 1, 3.575, {0.5, 1.5, -0.5, 1.75, 1.5, 1.0}, {-0.7, 0.5, -0.29999999999999993, 0.9, 0.10000000000000009, 1.3}, {-0.8999999999999998, 2.7, -0.19999999999999984, 2.2, 0.10000000000000009, 1.3}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}},
};

template <bool WithHessian = false, class Op>
void check_along(const AlongRef& r, Op op) {
  Eigen::MatrixXd X(2, 3), U(2, 3);
  X << 0.5, -1.0, 2.0, 1.5, 0.25, -0.75;
  U << 0.2, -0.3, 0.5, 0.7, 0.1, -0.4;
  const bool keeps_shape = r.out.size() == 6;
  const Eigen::MatrixXd W = keeps_shape ? Eigen::MatrixXd(Eigen::Map<const Eigen::MatrixXd>(r.w.data(), 2, 3))
                                        : Eigen::MatrixXd(vec(r.w));
  for (int dim : {r.dim, r.dim - 2}) {  // the same dimension counted from the end
    BOOST_TEST_CONTEXT(r.op << " along " << dim) {
      BOOST_CHECK_EQUAL(mg::to_string(op(x, dim)), std::string(r.op) + "(x, " + std::to_string(dim) + ")");
      check_all(op(x, dim)(x = X), r.out);
      const auto f = mg::sum(op(x, dim) * y);
      const auto g = mg::grad(f, x = X, y = mg::data(W));
      check_close(g.value, r.value);
      check_all(g[x], r.grad);
      const auto hv = mg::hvp(f, U, x = X, y = mg::data(W));
      check_all(hv[x], r.hvp, 1e-11);
      if constexpr (WithHessian) {  // (one per kind: a Hessian is another sweep type to compile)
        const auto H = mg::hessian(f, x = X, y = mg::data(W));
        BOOST_CHECK_EQUAL((H[x] - H[x].transpose()).cwiseAbs().maxCoeff(), 0.0);
        check_all(H[x] * U.reshaped(), r.hvp, 1e-11);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(every_reduction_of_a_matrix_equals_pytorch_to_second_order) {
  std::size_t seen = 0;
  for (const auto& r : along_refs) {
    const std::string op = r.op;
    seen += 1;
    if (op == "sum") check_along(r, [](auto e, int d) { return mg::sum(e, d); });
    else if (op == "mean") check_along(r, [](auto e, int d) { return mg::mean(e, d); });
    else if (op == "prod") check_along<true>(r, [](auto e, int d) { return mg::prod(e, d); });
    else if (op == "logsumexp") check_along(r, [](auto e, int d) { return mg::logsumexp(e, d); });
    else if (op == "amax") check_along(r, [](auto e, int d) { return mg::amax(e, d); });
    else if (op == "norm") check_along(r, [](auto e, int d) { return mg::norm(e, d); });
    else if (op == "softmax") check_along<true>(r, [](auto e, int d) { return mg::softmax(e, d); });
    else if (op == "log_softmax") check_along(r, [](auto e, int d) { return mg::log_softmax(e, d); });
    else if (op == "cumsum") check_along(r, [](auto e, int d) { return mg::cumsum(e, d); });
    else {
      BOOST_ERROR("no static function for " << op);
      seen -= 1;
    }
  }
  BOOST_CHECK_EQUAL(seen, 18u);
}

BOOST_AUTO_TEST_CASE(a_vector_reduces_to_a_number_and_a_number_to_itself) {
  Eigen::VectorXd v(4), w(4);
  v << 0.5, -1.0, 2.0, 0.25;
  w << 0.3, -0.2, 0.7, 1.1;
  // op(v, 0) (a reduction) or sum(op(v, 0) * w), and the gradient: python3-torch 1.13
  auto check = [&](auto e, double value, std::vector<double> grad) {
    const auto g = mg::grad(e, x = v, y = mg::data(w));
    check_close(g.value, value);
    check_all(g[x], grad);
  };
  static_assert(std::is_same_v<decltype(mg::logsumexp(x, 0)(x = v)), double>, "a vector reduces to a number");
  check(mg::sum(x, 0), 1.75, {1.0, 1.0, 1.0, 1.0});
  check(mg::mean(x, -1), 0.4375, {0.25, 0.25, 0.25, 0.25});
  check(mg::prod(x, 0), -0.25, {-0.5, 0.25, -0.125, -1.0});
  check(mg::logsumexp(x, 0), 2.3692789984482534, {0.1542348252841622, 0.034414441266120206, 0.6912325307415308, 0.12011820270818684});
  check(mg::amax(x, 0), 2.0, {0.0, 0.0, 1.0, 0.0});
  check(mg::norm(x, -1), 2.3048861143232218, {0.21693045781865616, -0.4338609156373123, 0.8677218312746247, 0.10846522890932808});
  check(mg::sum(mg::softmax(x, 0) * y), 0.6553803538301017,
        {-0.05481202678240949, -0.029437436947079156, 0.0308425509428104, 0.053406912786678154});
  check(mg::sum(mg::log_softmax(x, -1) * y), -2.4766300970516815,
        {0.006953831960091797, -0.2653874384056284, -0.6133418084089085, 0.8717754148544451});
  check(mg::sum(mg::cumsum(x, 0) * y), 3.225, {1.9, 1.6, 1.8, 1.1});
  // its Jacobian, as torch.autograd.functional.jacobian gives it
  const auto J = mg::jacobian(mg::softmax(x, 0), x = v);
  const double softmax_j[4][4] = {{0.13044644395372618, -0.00530790533593211, -0.10661212860964929, -0.01852641000814478},
                                  {-0.00530790533593211, 0.03323008749846097, -0.02378838133043604, -0.00413380083209282},
                                  {-0.10661212860964929, -0.02378838133043604, 0.21343011918618948, -0.08302960924610418},
                                  {-0.01852641000814478, -0.00413380083209282, -0.08302960924610418, 0.10568982008634177}};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) check_close(J[x](i, j), softmax_j[i][j]);
  const auto Jc = mg::jacobian(mg::cumsum(x, 0), x = v);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) BOOST_CHECK_EQUAL(Jc[x](i, j), j <= i ? 1.0 : 0.0);
  // a number (PyTorch's 0-d tensor) is its own reduction; softmax of it is 1
  const auto gs = mg::grad(mg::logsumexp(x, 0) + mg::softmax(x, -1) + mg::norm(x, 0) + mg::cumsum(x, 0), x = -2.0);
  BOOST_CHECK_EQUAL(gs.value, -2.0 + 1.0 + 2.0 - 2.0);
  BOOST_CHECK_EQUAL(gs[x], 1.0 + 0.0 - 1.0 + 1.0);
}

BOOST_AUTO_TEST_CASE(ties_zeros_and_extremes_follow_pytorch) {
  Eigen::MatrixXd X(2, 3);
  X << 2.0, 0.0, -800.0, 2.0, 3.0, -801.0;
  const auto ga = mg::grad(mg::sum(mg::amax(x, 0)), x = X);  // a tie in column 0 shares the gradient
  check_all(ga[x], std::vector<double>{0.5, 0.5, 0.0, 1.0, 1.0, 0.0});
  const auto gp = mg::grad(mg::sum(mg::prod(x, 1)), x = X);  // exact at 0: no y / x
  check_all(gp[x], std::vector<double>{0.0, -2403.0, -1600.0, -1602.0, 0.0, 6.0});
  check_close(mg::logsumexp(x, 0)(x = X)(2), -800.0 + std::log(1.0 + std::exp(-1.0)));  // no underflow
  const auto gn = mg::grad(mg::sum(mg::norm(x, 0)), x = Eigen::MatrixXd::Zero(2, 3).eval());
  BOOST_CHECK_EQUAL(gn[x].cwiseAbs().maxCoeff(), 0.0);  // 0 at the origin, not NaN
}

BOOST_AUTO_TEST_CASE(a_strided_binding_equals_its_copy) {
  // A block of a larger matrix (its columns further apart than its rows) is
  // read with its stride: values and gradients equal those of a plain copy.
  Eigen::MatrixXd M(4, 5);
  for (int i = 0; i < 20; ++i) M.data()[i] = 0.03 * i * i + 0.1 * i - 0.7;
  const Eigen::MatrixXd B = M.block(1, 1, 2, 3);
  for (int dim : {0, 1}) {
    const auto e = mg::sum(mg::softmax(x, dim) * mg::cumsum(x, dim)) + mg::sum(mg::logsumexp(x, dim));
    const auto gb = mg::grad(e, x = M.block(1, 1, 2, 3));
    const auto gc = mg::grad(e, x = B);
    BOOST_CHECK_EQUAL(gb.value, gc.value);
    BOOST_CHECK_EQUAL((gb[x] - gc[x]).cwiseAbs().maxCoeff(), 0.0);
  }
}

BOOST_AUTO_TEST_CASE(a_dimension_out_of_range_is_pytorchs_error) {
  const Eigen::MatrixXd X = Eigen::MatrixXd::Ones(2, 3);
  const Eigen::VectorXd v = Eigen::VectorXd::Ones(3);
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const mg::Error& err) {
      return std::string(err.what());
    }
    return std::string("no error");
  };
  BOOST_CHECK_EQUAL(message([&] { (void)mg::logsumexp(x, 2)(x = X); }),
                    "Dimension out of range (expected to be in range of [-2, 1], but got 2) (logsumexp)");
  BOOST_CHECK_EQUAL(message([&] { (void)mg::grad(mg::sum(mg::softmax(x, -3)), x = X); }),
                    "Dimension out of range (expected to be in range of [-2, 1], but got -3) (softmax)");
  BOOST_CHECK_EQUAL(message([&] { (void)mg::cumsum(x, 1)(x = v); }),
                    "Dimension out of range (expected to be in range of [-1, 0], but got 1) (cumsum)");
  BOOST_CHECK_EQUAL(message([&] { (void)mg::sum(x, 1)(x = 2.0); }),
                    "Dimension out of range (expected to be in range of [-1, 0], but got 1) (sum)");
  const Eigen::MatrixXd empty(0, 3);
  BOOST_CHECK_EQUAL(message([&] { (void)mg::amax(x, 0)(x = empty); }), "amax(): Expected reduction dim 0 to have non-zero size.");
  BOOST_CHECK_EQUAL(mg::logsumexp(x, 0)(x = empty)(1), -std::numeric_limits<double>::infinity());  // as PyTorch
  BOOST_CHECK_EQUAL(mg::prod(x, 0)(x = empty)(2), 1.0);
  BOOST_CHECK_EQUAL(mg::softmax(x, 0)(x = empty).size(), 0);
}

BOOST_AUTO_TEST_CASE(float_keeps_float) {
  Eigen::MatrixXf X(2, 3);
  X << 0.5f, -1.0f, 2.0f, 1.5f, 0.25f, -0.75f;
  const auto e = mg::sum(mg::log_softmax(x, 1)) + mg::sum(mg::logsumexp(x, 0)) + mg::sum(mg::cumsum(x, 1) * x);
  const auto g = mg::grad(e, x = X);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(g.value)>, float>);
  static_assert(std::is_same_v<decltype(mg::softmax(x, 0)(x = X))::Scalar, float>);
  const Eigen::MatrixXd Xd = X.cast<double>();
  const auto gd = mg::grad(e, x = Xd);
  for (int i = 0; i < 6; ++i) BOOST_CHECK_CLOSE(static_cast<double>(g[x].reshaped()(i)), gd[x].reshaped()(i), 1e-4);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(static_losses)

BOOST_AUTO_TEST_CASE(equal_pytorch_to_second_order) {
  namespace F = mg::nn::functional;
  // bce_with_logits(z, y) + 2 mse_loss(z, y) + l1_loss(z, y), z = 0 included
  // (where sigmoid(0) - y is the gradient, not what max and |z| would give)
  // and z = 30 (no overflow); value, gradients and the Hessian-vector product
  // with (1, 1, 1, 1) for z: python3-torch 1.13
  Eigen::VectorXd Z(4), Y(4);
  Z << 0.0, -1.5, 2.0, 30.0;
  Y << 1.0, 0.0, 0.25, 0.5;
  const auto e = F::binary_cross_entropy_with_logits(x, y) + 2.0 * F::mse_loss(x, y) + F::l1_loss(x, y);
  const auto g = mg::grad(e, x = Z, y = Y);
  check_close(g.value, 451.09912211739646);
  check_all(g[x], std::vector<double>{-1.375, -1.7043936190484108, 2.1576992694944708, 29.874999999999975});
  check_all(g[y], std::vector<double>{1.25, 2.125, -2.5, -37.25});
  const auto hv = mg::hvp(e, Eigen::VectorXd::Ones(4).eval(), x = Z, y = Y);
  check_all(hv[x], std::vector<double>{1.0625, 1.0372866130175833, 1.0262483963508766, 1.0000000000000233});
  check_all(hv[y], std::vector<double>{-1.25, -1.25, -1.25, -1.25});
  // infinite logits as PyTorch's (1 - y) z - log sigmoid(z): inf at z = +inf for
  // y < 1, NaN at z = -inf for y > 0
  const double inf = std::numeric_limits<double>::infinity();
  BOOST_CHECK_EQUAL(F::binary_cross_entropy_with_logits(x, y)(x = inf, y = 0.5), inf);
  BOOST_CHECK(std::isnan(F::binary_cross_entropy_with_logits(x, y)(x = -inf, y = 1.0)));
  Eigen::VectorXd Zi(3), Yi(3);
  Zi << inf, inf, -800.0;
  Yi << 0.0, 0.25, 0.0;
  BOOST_CHECK_EQUAL(F::binary_cross_entropy_with_logits(x, y)(x = Zi, y = Yi), inf);
  // numbers: log 2 + 1, and (sigmoid(0) - 1) + 2 (0 - 1)
  const auto gs = mg::grad(F::binary_cross_entropy_with_logits(x, y) + F::mse_loss(x, y), x = 0.0, y = 1.0);
  check_close(gs.value, std::log(2.0) + 1.0);
  check_close(gs[x], -2.5);
  check_close(gs[y], 2.0);
  BOOST_CHECK_EXCEPTION((void)F::mse_loss(x, y)(x = Z, y = Eigen::VectorXd::Ones(3).eval()), mg::Error, [](const mg::Error& err) {
    return std::string(err.what()) == "mse_loss: target size (3x1) must be the same as input size (4x1)";
  });
  // the dynamic losses run the same rules (rules/losses.hpp), one node each
  auto tz = mg::tensor({0.0, -1.5, 2.0, 30.0}, mg::requires_grad()), ty = mg::tensor({1.0, 0.0, 0.25, 0.5}, mg::requires_grad());
  BOOST_CHECK_EQUAL(F::mse_loss(tz, ty).grad_fn()->name(), "MseLossBackward0");
  BOOST_CHECK_EQUAL(F::binary_cross_entropy_with_logits(tz, ty).grad_fn()->name(), "BinaryCrossEntropyWithLogitsBackward0");
  const auto l = F::binary_cross_entropy_with_logits(tz, ty) + 2.0 * F::mse_loss(tz, ty) + F::l1_loss(tz, ty);
  const auto gd = mg::autograd::grad({l}, {tz, ty}, {}, false, true);
  const auto hd = mg::autograd::grad({gd[0].sum()}, {tz, ty});
  for (int i = 0; i < 4; ++i) {
    check_close(gd[0].data_ptr()[i], g[x](i), 1e-14);
    check_close(gd[1].data_ptr()[i], g[y](i), 1e-14);
    check_close(hd[0].data_ptr()[i], hv[x](i), 1e-14);
    check_close(hd[1].data_ptr()[i], hv[y](i), 1e-14);
  }
}

BOOST_AUTO_TEST_SUITE_END()
