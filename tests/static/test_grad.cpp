// tests/static/test_grad.cpp — mg::grad: one fused sweep over scalars, float
// and Eigen (fixed and dynamic), checked against `d` and finite differences.
#include <boost/test/unit_test.hpp>
#include <metagrad/static.hpp>

#include <Eigen/Core>
#include <cmath>
#include <type_traits>

namespace mg = metagrad;
using namespace mg::literals;

namespace {
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;
constexpr auto A = mg::var<"A">;
constexpr auto B = mg::var<"B">;
constexpr auto v = mg::var<"v">;
constexpr auto s = mg::var<"s">;
}  // namespace

BOOST_AUTO_TEST_SUITE(static_grad)

BOOST_AUTO_TEST_CASE(scalar_grad_equals_symbolic_d) {
  constexpr auto f = mg::exp(x * y) / (1.0 + mg::pow(x, 2_c)) + mg::sqrt(y) * mg::sin(x) - mg::abs(x - y);
  auto g = mg::grad(f, x = 0.4, y = 1.7);
  BOOST_CHECK_CLOSE(g.value, f(x = 0.4, y = 1.7), 1e-13);
  BOOST_CHECK_CLOSE(g[x], mg::d(f, x)(x = 0.4, y = 1.7), 1e-12);
  BOOST_CHECK_CLOSE(g[y], mg::d(f, y)(x = 0.4, y = 1.7), 1e-12);
  auto gs = mg::grad(f, y = 1.7, x = 0.4, mg::var<"unused"> = 2.0);  // order and extras do not matter
  BOOST_CHECK_EQUAL(gs[x], g[x]);
  BOOST_CHECK_EQUAL(gs[mg::var<"unused">], 0.0);
}

BOOST_AUTO_TEST_CASE(shared_subexpressions_and_float) {
  constexpr auto u = mg::sin(x) * y;
  constexpr auto f = u * u + u;  // the same subtree used three times
  auto g = mg::grad(f, x = 0.3, y = 2.0);
  const double uv = std::sin(0.3) * 2.0;
  BOOST_CHECK_CLOSE(g[x], (2 * uv + 1) * std::cos(0.3) * 2.0, 1e-12);
  BOOST_CHECK_CLOSE(g[y], (2 * uv + 1) * std::sin(0.3), 1e-12);
  auto gf = mg::grad(f, x = 0.3f, y = 2.0f);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(gf[x])>, float>);
  BOOST_CHECK_CLOSE(gf[x], static_cast<float>(g[x]), 1e-4);
}

BOOST_AUTO_TEST_CASE(eigen_elementwise_with_scalar_broadcast) {
  Eigen::Vector3d xv(0.5, -1.0, 2.0), yv(1.5, 0.25, -0.5);
  constexpr auto f = mg::sum(mg::exp(x) * y + s * x * x);
  auto g = mg::grad(f, x = xv, y = yv, s = 0.7);
  double value = 0, gs = 0;
  for (int i = 0; i < 3; ++i) {
    value += std::exp(xv[i]) * yv[i] + 0.7 * xv[i] * xv[i];
    gs += xv[i] * xv[i];
    BOOST_CHECK_CLOSE(g[x][i], std::exp(xv[i]) * yv[i] + 1.4 * xv[i], 1e-12);
    BOOST_CHECK_CLOSE(g[y][i], std::exp(xv[i]), 1e-12);
  }
  BOOST_CHECK_CLOSE(g.value, value, 1e-12);
  BOOST_CHECK_CLOSE(g[s], gs, 1e-12);  // a broadcast scalar's gradient is the sum
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(g[x])>, Eigen::Vector3d>);
}

BOOST_AUTO_TEST_CASE(eigen_reductions_with_integer_powers) {
  Eigen::VectorXd xv(4);
  xv << 0.5, -1.5, 2.0, 0.75;
  constexpr auto f = mg::mean(mg::pow(x, 3_c) + mg::pow(x, -2_c) * s + mg::log(s));
  auto g = mg::grad(f, x = xv, s = 1.3);
  double value = 0, gs = 0;
  for (int i = 0; i < 4; ++i) {
    const double xi = xv[i];
    value += (xi * xi * xi + 1.3 / (xi * xi) + std::log(1.3)) / 4;
    gs += (1 / (xi * xi) + 1 / 1.3) / 4;
    BOOST_CHECK_CLOSE(g[x][i], (3 * xi * xi - 2 * 1.3 / (xi * xi * xi)) / 4, 1e-12);
  }
  BOOST_CHECK_CLOSE(g.value, value, 1e-12);
  BOOST_CHECK_CLOSE(g[s], gs, 1e-12);
  Eigen::VectorXd wrong(3);
  wrong << 1, 2, 3;
  BOOST_CHECK_THROW(mg::grad(mg::sum(x * y), x = xv, y = wrong), mg::Error);
}

BOOST_AUTO_TEST_CASE(eigen_matmul_dot_transpose_mean) {
  Eigen::MatrixXd a(2, 3), b(3, 2);
  a << 0.1, -0.4, 0.7, 1.2, 0.3, -0.5;
  b << 0.9, -0.2, 0.4, 0.6, -1.1, 0.8;
  Eigen::VectorXd w(2);
  w << 0.3, -0.7;
  constexpr auto f = mg::sum(mg::tanh(mg::matmul(A, B))) + mg::dot(v, v) * mg::mean(mg::transpose(A));
  auto eval_f = [&](const Eigen::MatrixXd& a_, const Eigen::MatrixXd& b_, const Eigen::VectorXd& w_) {
    return (a_ * b_).array().tanh().sum() + w_.squaredNorm() * a_.mean();
  };
  auto g = mg::grad(f, A = a, B = b, v = w);
  BOOST_CHECK_CLOSE(g.value, eval_f(a, b, w), 1e-12);
  const double e = 1e-6;
  for (int i = 0; i < a.size(); ++i) {
    Eigen::MatrixXd ap = a, am = a;
    ap(i) += e;
    am(i) -= e;
    BOOST_CHECK_CLOSE(g[A](i), (eval_f(ap, b, w) - eval_f(am, b, w)) / (2 * e), 1e-6);
  }
  for (int i = 0; i < b.size(); ++i) {
    Eigen::MatrixXd bp = b, bm = b;
    bp(i) += e;
    bm(i) -= e;
    BOOST_CHECK_CLOSE(g[B](i), (eval_f(a, bp, w) - eval_f(a, bm, w)) / (2 * e), 1e-6);
  }
  BOOST_CHECK_CLOSE(g[v](0), 2 * w(0) * a.mean(), 1e-12);
}

BOOST_AUTO_TEST_CASE(fixed_size_eigen) {
  Eigen::Matrix2d a;
  a << 1, 2, 3, 4;
  Eigen::Vector2d b(0.5, -0.5);
  constexpr auto f = mg::dot(mg::matmul(A, v), mg::matmul(A, v));  // |A v|^2
  auto g = mg::grad(f, A = a, v = b);
  const Eigen::Vector2d av = a * b;
  BOOST_CHECK_CLOSE(g.value, av.squaredNorm(), 1e-12);
  const Eigen::Vector2d gv = 2 * a.transpose() * av;
  const Eigen::Matrix2d ga = 2 * av * b.transpose();
  BOOST_CHECK((g[v] - gv).norm() < 1e-12);
  BOOST_CHECK((g[A] - ga).norm() < 1e-12);
}

BOOST_AUTO_TEST_CASE(prod_reduction) {
  Eigen::VectorXd xv(5);
  xv << 1.5, 2.0, -0.5, 3.0, 0.8;
  constexpr auto f = mg::prod(x * s) + mg::sum(x);
  auto g = mg::grad(f, x = xv, s = 2.0);
  const double p = (xv.array() * 2.0).prod();
  BOOST_CHECK_CLOSE(g.value, p + xv.sum(), 1e-12);
  for (int i = 0; i < 5; ++i) BOOST_CHECK_CLOSE(g[x][i], p / xv[i] + 1, 1e-12);
  BOOST_CHECK_CLOSE(g[s], 5 * p / 2.0, 1e-12);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(mg::d(mg::prod(x), x))>,
                               std::remove_cvref_t<decltype(mg::sum(mg::prod_others(x)))>>);
  xv[2] = 0;  // zero input: the product of the others
  auto gz = mg::grad(mg::prod(x), x = xv);
  BOOST_CHECK_EQUAL(gz.value, 0.0);
  BOOST_CHECK_CLOSE(gz[x][2], 1.5 * 2.0 * 3.0 * 0.8, 1e-12);
  BOOST_CHECK_EQUAL(gz[x][0], 0.0);
}

// mg::d of prod never divides by an element: d prod = sum(prod_others(x) dx),
// d^2 prod = sum_{i != j} prod_{k != i, j} x_k dx_i dx_j, exact with zeros
// (written as y / x_i these were NaN at a 0). Values by hand: at (2, 0, 3)
// the gradient is (0, 6, 0) and the Hessian's off-diagonal pairs are
// x_2 = 3, x_1 = 0, x_0 = 2.
BOOST_AUTO_TEST_CASE(prod_symbolic_derivatives_with_zeros) {
  Eigen::VectorXd v(3);
  v << 2, 0, 3;
  const auto p = mg::prod(x);
  BOOST_CHECK_EQUAL(mg::d(p, x)(x = v), 6.0);
  BOOST_CHECK_EQUAL(mg::d(p, x, x)(x = v), 2 * (3.0 + 0.0 + 2.0));
  BOOST_CHECK_EQUAL(mg::to_string(mg::d(p, x, x)), "sum(prod_others_jvp(x, 1))");
  Eigen::VectorXd two_zeros(3);
  two_zeros << 0, 0, 3;
  BOOST_CHECK_EQUAL(mg::d(p, x)(x = two_zeros), 0.0);
  BOOST_CHECK_EQUAL(mg::d(p, x, x)(x = two_zeros), 6.0);
  // d(prod(x^2)) twice along ones at a zero: 2 (sum prod_others)^2 = 72
  BOOST_CHECK_EQUAL(mg::d(mg::prod(x * x), x, x)(x = v), 72.0);
  // A sweep through them: d/dx_l sum_i prod_others_i = sum_{i != l} prod_{k != i, l} x_k,
  // and through the second order 2 sum over pairs {i, j} avoiding l of prod_{k != i, j, l} x_k.
  const Eigen::VectorXd g1 = mg::grad(mg::d(p, x), x = v)[x];
  BOOST_CHECK_EQUAL(g1, Eigen::Vector3d(3, 5, 2));
  Eigen::VectorXd w(4);
  w << 2, 0, 3, 5;
  const Eigen::VectorXd g2 = mg::grad(mg::d(p, x, x), x = w)[x];
  BOOST_CHECK_EQUAL(g2, Eigen::Vector4d(2 * (5 + 3 + 0), 2 * (5 + 3 + 2), 2 * (5 + 0 + 2), 2 * (3 + 0 + 2)));
  // Away from zeros they agree with y / x_i, and with mg::grad and mg::hessian.
  Eigen::VectorXd u(4);
  u << 1.5, -2.0, 0.5, 3.0;
  const double y = u.prod();
  BOOST_CHECK_CLOSE(mg::d(p, x)(x = u), (y / u.array()).sum(), 1e-12);
  BOOST_CHECK_CLOSE(mg::d(p, x)(x = u), mg::grad(p, x = u)[x].sum(), 1e-12);
  BOOST_CHECK_CLOSE(mg::d(p, x, x)(x = u), mg::hessian(p, x = u)[x].sum(), 1e-12);
  // mg::hessian runs the same rule on duals (it did not compile for prod: the
  // sweep's in-place gradient took a copy of a dual array's ArrayBase).
  Eigen::Matrix3d h;
  h << 0, 3, 0, 3, 0, 2, 0, 2, 0;
  BOOST_CHECK_EQUAL(Eigen::Matrix3d(mg::hessian(p, x = v)[x]), h);
  // float stays float; a scalar is its own product (others: 1, then 0).
  static_assert(std::is_same_v<decltype(mg::d(p, x)(x = Eigen::VectorXf(3))), float>);
  BOOST_CHECK_EQUAL(mg::d(p, x)(x = Eigen::VectorXf(v.cast<float>())), 6.0f);
  static_assert(mg::d(p, x)(x = 2.0) == 1.0 && mg::d(p, x, x)(x = 2.0) == 0.0);
}

// A subexpression used several times is one node of the tape: evaluated once,
// its adjoint gathered from every use before it is propagated.
BOOST_AUTO_TEST_CASE(common_subexpressions_are_one_tape_node) {
  constexpr auto e = mg::exp(x * y);
  constexpr auto f = e * e + mg::sin(e) / e;  // tree: 4 copies of exp(x*y)
  using T = mg::detail::Tape<double, std::remove_cvref_t<decltype(f)>, decltype(x = 0.0), decltype(y = 0.0)>;
  static_assert(T::K == 8);  // x, y, x*y, exp, e*e, sin, sin/e, +
  // Runtime constants are numbered, so equal-looking constants stay apart.
  constexpr auto h = (x + 2.0) * (x + 3.0);
  using H = mg::detail::Tape<double, std::remove_cvref_t<decltype(h)>, decltype(x = 0.0)>;
  static_assert(H::K == 6);
  auto g = mg::grad(f, x = 0.3, y = 0.7);
  BOOST_CHECK_CLOSE(g.value, f(x = 0.3, y = 0.7), 1e-13);
  BOOST_CHECK_CLOSE(g[x], mg::d(f, x)(x = 0.3, y = 0.7), 1e-12);
  BOOST_CHECK_CLOSE(g[y], mg::d(f, y)(x = 0.3, y = 0.7), 1e-12);
  auto gh = mg::grad(h, x = 1.5);
  BOOST_CHECK_CLOSE(gh.value, 3.5 * 4.5, 1e-13);
  BOOST_CHECK_CLOSE(gh[x], 3.5 + 4.5, 1e-13);
}

// The fused pass runs in packets: every size (full packets, a tail, fewer
// elements than one packet), sum and mean, against the symbolic derivative.
BOOST_AUTO_TEST_CASE(fused_reduction_every_size_and_tail) {
  constexpr auto inner = mg::exp(-mg::pow((x - y) / s, 2_c)) * mg::log(s) + mg::sin(x) * y;
  for (int n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 33, 100}) {
    Eigen::VectorXd xv(n), yv(n);
    for (int i = 0; i < n; ++i) xv[i] = std::sin(0.7 * i + 0.1), yv[i] = std::cos(0.3 * i);
    const double sv = 1.3;
    auto gs = mg::grad(mg::sum(inner), x = xv, y = yv, s = sv);
    auto gm = mg::grad(mg::mean(inner), x = xv, y = yv, s = sv);
    double value = 0, ds = 0;
    for (int i = 0; i < n; ++i) {
      value += inner(x = xv[i], y = yv[i], s = sv);
      ds += mg::d(inner, s)(x = xv[i], y = yv[i], s = sv);
      BOOST_CHECK_CLOSE(gs[x][i], mg::d(inner, x)(x = xv[i], y = yv[i], s = sv), 1e-11);
      BOOST_CHECK_CLOSE(gs[y][i], mg::d(inner, y)(x = xv[i], y = yv[i], s = sv), 1e-11);
      BOOST_CHECK_CLOSE(gm[x][i] * n, gs[x][i], 1e-11);
    }
    BOOST_CHECK_CLOSE(gs.value, value, 1e-11);
    BOOST_CHECK_CLOSE(gs[s], ds, 1e-10);
    BOOST_CHECK_CLOSE(gm.value * n, value, 1e-11);
    BOOST_CHECK_CLOSE(gm[s] * n, ds, 1e-10);
  }
}

// Reductions inside a larger expression (log-sum-exp), a reduction of a
// binding that is not contiguous, float, row-major, and non-finite values.
BOOST_AUTO_TEST_CASE(nested_and_strided_reductions) {
  Eigen::VectorXd xv(11);
  for (int i = 0; i < 11; ++i) xv[i] = 0.2 * i - 1;
  auto g = mg::grad(mg::log(mg::sum(mg::exp(x))), x = xv);
  const double total = xv.array().exp().sum();
  BOOST_CHECK_CLOSE(g.value, std::log(total), 1e-13);
  for (int i = 0; i < 11; ++i) BOOST_CHECK_CLOSE(g[x][i], std::exp(xv[i]) / total, 1e-12);

  Eigen::MatrixXd m(3, 4);
  for (int i = 0; i < 12; ++i) m(i % 3, i / 3) = 0.1 * i + 0.05;
  auto gb = mg::grad(mg::sum(mg::pow(x, 2_c) * s), x = m.block(1, 1, 2, 3), s = 2.0);  // strided: copied once
  BOOST_REQUIRE_EQUAL(gb[x].rows(), 2);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) BOOST_CHECK_CLOSE(gb[x](r, c), 4 * m(1 + r, 1 + c), 1e-13);
  BOOST_CHECK_CLOSE(gb[s], m.block(1, 1, 2, 3).array().square().sum(), 1e-13);

  Eigen::Matrix<double, 2, 3, Eigen::RowMajor> rm;
  rm << 1, 2, 3, 4, 5, 6;
  auto gr = mg::grad(mg::sum(x * mg::sum(x)), x = rm);  // nested: sum(x) * sum(x)
  for (int i = 0; i < 6; ++i) BOOST_CHECK_CLOSE(gr[x](i / 3, i % 3), 2 * 21.0, 1e-13);

  Eigen::VectorXf xf = Eigen::VectorXf::LinSpaced(37, -1.f, 1.f);
  auto gf = mg::grad(mg::sum(mg::tanh(x) * 2.f), x = xf);
  static_assert(std::is_same_v<decltype(gf.value), float>);
  for (int i = 0; i < 37; ++i) BOOST_CHECK_CLOSE(gf[x][i], 2 * (1 - std::tanh(xf[i]) * std::tanh(xf[i])), 1e-4);

  Eigen::VectorXd bad(10);
  bad.setOnes();
  bad[9] = std::numeric_limits<double>::infinity();  // in the tail packet
  auto gi = mg::grad(mg::sum(x * s), x = bad, s = 2.0);
  BOOST_CHECK(std::isinf(gi.value));
  BOOST_CHECK(std::isinf(gi[s]));
  BOOST_CHECK_EQUAL(gi[x][9], 2.0);
}

// Reductions whose elementwise part reads non-elementwise subexpressions
// (frontiers: matmul(X, w), a nested sum), and variables read both by a fused
// reduction and elsewhere: gradients against central finite differences.
BOOST_AUTO_TEST_CASE(fused_reductions_with_frontiers_match_finite_differences) {
  constexpr auto X = mg::var<"X">;
  constexpr auto w = mg::var<"w">;
  constexpr auto f = mg::sum(-0.5 * mg::pow((y - mg::matmul(X, w) - s) / s, 2_c) - mg::log(s)) +
                     mg::dot(w, w) * mg::mean(mg::exp(y * 0.1) * mg::tanh(mg::matmul(X, w))) + mg::sum(w) * s;
  for (int n : {1, 5, 19}) {
    Eigen::MatrixXd Xm(n, 3);
    Eigen::VectorXd yv(n), wv(3);
    for (int i = 0; i < n * 3; ++i) Xm.data()[i] = std::sin(0.7 * i + 0.2);
    for (int i = 0; i < n; ++i) yv[i] = std::cos(0.4 * i);
    wv << 0.3, -0.2, 0.5;
    const double sv = 1.3;
    auto g = mg::grad(f, X = Xm, y = yv, w = wv, s = sv);
    auto value = [&](const Eigen::MatrixXd& Xa, const Eigen::VectorXd& ya, const Eigen::VectorXd& wa, double sa) {
      const Eigen::ArrayXd p = (Xa * wa).array();
      const double a = (-0.5 * ((ya.array() - p - sa) / sa).square() - std::log(sa)).sum();
      return a + wa.dot(wa) * ((ya.array() * 0.1).exp() * p.tanh()).mean() + wa.sum() * sa;
    };
    BOOST_CHECK_CLOSE(g.value, value(Xm, yv, wv, sv), 1e-11);
    const double h = 1e-6;
    for (int k = 0; k < 3; ++k) {
      Eigen::VectorXd wp = wv, wm = wv;
      wp[k] += h, wm[k] -= h;
      BOOST_CHECK_SMALL(g[w][k] - (value(Xm, yv, wp, sv) - value(Xm, yv, wm, sv)) / (2 * h), 1e-7);
    }
    for (int i = 0; i < n * 3; ++i) {
      Eigen::MatrixXd Xp = Xm, Xq = Xm;
      Xp.data()[i] += h, Xq.data()[i] -= h;
      BOOST_CHECK_SMALL(g[X].data()[i] - (value(Xp, yv, wv, sv) - value(Xq, yv, wv, sv)) / (2 * h), 1e-7);
    }
    for (int i = 0; i < n; ++i) {
      Eigen::VectorXd yp = yv, yq = yv;
      yp[i] += h, yq[i] -= h;
      BOOST_CHECK_SMALL(g[y][i] - (value(Xm, yp, wv, sv) - value(Xm, yq, wv, sv)) / (2 * h), 1e-7);
    }
    BOOST_CHECK_SMALL(g[s] - (value(Xm, yv, wv, sv + h) - value(Xm, yv, wv, sv - h)) / (2 * h), 1e-7);
  }
  // x read by two fused reductions and directly: each adds its part.
  Eigen::VectorXd xv = Eigen::VectorXd::LinSpaced(13, -1.0, 1.2);
  auto g2 = mg::grad(mg::sum(mg::exp(x)) * mg::sum(x * 2.0) + mg::dot(x, x), x = xv);
  const double se = xv.array().exp().sum(), sx = 2 * xv.sum();
  for (int i = 0; i < 13; ++i) BOOST_CHECK_CLOSE(g2[x][i], std::exp(xv[i]) * sx + 2 * se + 2 * xv[i], 1e-11);
}

// mg::data: read like any binding, no gradient computed for it.
BOOST_AUTO_TEST_CASE(data_bindings_get_no_gradient) {
  constexpr auto X = mg::var<"X">;
  constexpr auto w = mg::var<"w">;
  Eigen::MatrixXd Xm(7, 2);
  for (int i = 0; i < 14; ++i) Xm.data()[i] = std::sin(0.5 * i);
  Eigen::VectorXd yv = Eigen::VectorXd::LinSpaced(7, -1, 1), wv(2);
  wv << 0.4, -0.3;
  constexpr auto f = mg::sum(mg::pow(y - mg::matmul(X, w), 2_c) * s);
  auto full = mg::grad(f, X = Xm, y = yv, w = wv, s = 2.0);
  auto part = mg::grad(f, X = mg::data(Xm), y = mg::data(yv), w = wv, s = 2.0);
  BOOST_CHECK_EQUAL(part.value, full.value);
  for (int k = 0; k < 2; ++k) BOOST_CHECK_CLOSE(part[w][k], full[w][k], 1e-13);
  BOOST_CHECK_CLOSE(part[s], full[s], 1e-13);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(std::get<0>(part.grads))>, char>);  // nothing for X
  auto sc = mg::grad(x * y + mg::exp(x), x = 0.5, y = mg::data(3.0));
  BOOST_CHECK_CLOSE(sc[x], 3.0 + std::exp(0.5), 1e-13);
  BOOST_CHECK_EQUAL(mg::eval(x * y, x = 2.0, y = mg::data(4.0)), 8.0);
}

// grad_into recomputes into a previous result: the same numbers as a fresh
// mg::grad, gradient arrays reused while the shapes hold, resized when they
// change; for every way the sweep writes a gradient (the direct fused pass,
// an exclusive reduction, several contributions gathered on the tape, scalars
// summed from broadcasts, fixed sizes, data bindings).
template <class E, class... Bs>
void check_into(const E& e, const Bs&... bs) {
  auto r = mg::grad(e, bs...);
  const auto fresh = mg::grad(e, bs...);
  auto same = [](const auto& a, const auto& b) {
    if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(a)>>) BOOST_CHECK_EQUAL(a, b);
    else BOOST_CHECK((a.array() == b.array()).all());
  };
  for (int round = 0; round < 2; ++round) {  // twice: stale values must not leak in
    mg::grad_into(r, e, bs...);
    BOOST_CHECK_EQUAL(r.value, fresh.value);
    same(std::get<0>(r.grads), std::get<0>(fresh.grads));
    same(std::get<sizeof...(Bs) - 1>(r.grads), std::get<sizeof...(Bs) - 1>(fresh.grads));
  }
}

BOOST_AUTO_TEST_CASE(eigen_expressions_bound_are_evaluated) {
  // 2.0 * v, v.reverse(), a.array() + 1 have no memory of their own: a
  // binding evaluates them once (they once reached the fused pass as if they
  // were numbers, a compile error deep in packet_pass.hpp, once there were
  // two bindings)
  Eigen::VectorXd a(4), b(4);
  a << 1, 2, 3, 4;
  b << 0.5, -1, 2, 3;
  Eigen::MatrixXd M(2, 2);
  M << 1, 2, 3, 4;
  auto check = [&](const auto& g, const Eigen::VectorXd& yv) {
    BOOST_CHECK_CLOSE(g.value, a.dot(yv), 1e-12);
    for (int i = 0; i < 4; ++i) {
      BOOST_CHECK_CLOSE(g[x](i), yv(i), 1e-12);
      BOOST_CHECK_CLOSE(g[y](i), a(i), 1e-12);
    }
  };
  check(mg::grad(mg::sum(x * y), x = a, y = 2.0 * b), 2.0 * b);
  check(mg::grad(mg::sum(x * y), x = a, y = b.reverse()), b.reverse());
  check(mg::grad(mg::sum(x * y), x = a, y = (b.array() + 1.0).matrix()), (b.array() + 1.0).matrix());
  check(mg::grad(mg::sum(x * y), x = a, y = M.reshaped()), M.reshaped());
  const auto lazy = 3.0 * b;  // an lvalue expression: evaluated too
  check(mg::grad(mg::sum(x * y), x = a, y = lazy), 3.0 * b);
  static_assert(std::is_same_v<decltype((y = 2.0 * b).value), Eigen::VectorXd>);
  static_assert(std::is_same_v<decltype((y = b).value), const Eigen::VectorXd&>);
  // mg::eval and a matrix expression
  BOOST_CHECK_CLOSE(mg::eval(mg::sum(mg::matmul(A, B)), A = M.transpose(), B = M * 2.0), (M.transpose() * M * 2.0).sum(), 1e-12);
}

BOOST_AUTO_TEST_CASE(grad_into_reuses_the_result) {
  Eigen::VectorXd xv(13), yv(13);
  for (int i = 0; i < 13; ++i) xv[i] = std::sin(0.7 * i + 0.1), yv[i] = std::cos(0.3 * i);
  const double sv = 1.3;
  check_into(mg::sum(-0.5 * mg::pow((x - y) / s, 2_c) - mg::log(s)), x = xv, y = yv, s = sv);  // direct pass
  check_into(mg::log(mg::sum(mg::exp(x))) * s, x = xv, s = sv);                               // exclusive reduction
  check_into(mg::sum(x * y) + mg::prod(x) + mg::dot(x, x) * s, x = xv, y = yv, s = sv);      // gathered on the tape
  check_into(mg::sum(mg::exp(x * s)) + s * s, s = sv, x = mg::data(xv));                      // scalar of a broadcast
  Eigen::Vector3d f3(0.1, 0.2, 0.3);
  check_into(mg::sum(mg::sin(x) * x), x = f3);                                                // fixed size
  Eigen::MatrixXd Am = Eigen::MatrixXd::Random(4, 3), Bm = Eigen::MatrixXd::Random(3, 5);
  check_into(mg::sum(mg::tanh(mg::matmul(A, B))), A = Am, B = Bm);                           // frontiers

  // Storage is kept while the shapes hold, and follows them when they change.
  auto r = mg::grad(mg::sum(x * y), x = xv, y = yv);
  const double* kept = r[x].data();
  Eigen::VectorXd x2 = 2 * xv;
  mg::grad_into(r, mg::sum(x * y), x = x2, y = yv);
  BOOST_CHECK_EQUAL(r[x].data(), kept);
  BOOST_CHECK_CLOSE(r.value, 2 * xv.dot(yv), 1e-12);
  BOOST_CHECK((r[y].array() == x2.array()).all());
  Eigen::VectorXd x5 = xv.head(5), y5 = yv.head(5);
  mg::grad_into(r, mg::sum(x * y), x = x5, y = y5);
  BOOST_CHECK_EQUAL(r[x].size(), 5);
  BOOST_CHECK((r[x].array() == y5.array()).all());
  BOOST_CHECK_CLOSE(r.value, x5.dot(y5), 1e-12);
}

// A result keeps the tape of its last sweep (intermediate products, reduction
// buffers, adjoints) for grad_into: what it holds must never leak into the
// next call, whatever changes between calls — shapes, values, the expression,
// the runtime constants of an expression of the same type — and a copied
// result starts afresh. Products write into kept buffers, adding when a
// variable is reached twice; checked against central finite differences.
BOOST_AUTO_TEST_CASE(grad_into_keeps_the_tape_and_nothing_leaks) {
  constexpr auto W = mg::var<"W">;
  constexpr auto f = mg::sum(mg::tanh(mg::matmul(A, B))) + mg::sum(mg::matmul(A, W) * mg::matmul(A, B)) + mg::sum(A * A);
  constexpr auto other = mg::sum(mg::exp(mg::matmul(A, B) * 0.1)) + mg::sum(W * W);  // same binding types
  auto value = [](const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, const Eigen::MatrixXd& w) {
    const Eigen::MatrixXd ab = a * b;
    return ab.array().tanh().sum() + ((a * w).array() * ab.array()).sum() + a.array().square().sum();
  };
  auto data = [](long r, long c, double phase) {
    Eigen::MatrixXd m(r, c);
    for (long i = 0; i < r * c; ++i) m.data()[i] = 0.8 * std::sin(0.61 * static_cast<double>(i) + phase);
    return m;
  };
  auto same = [&](const auto& r, const auto& fresh) {
    BOOST_CHECK_CLOSE(r.value, fresh.value, 1e-12);
    BOOST_CHECK_SMALL((r[A] - fresh[A]).norm(), 1e-12);
    BOOST_CHECK_SMALL((r[B] - fresh[B]).norm(), 1e-12);
    BOOST_CHECK_SMALL((r[W] - fresh[W]).norm(), 1e-12);
  };
  const Eigen::MatrixXd a1 = data(5, 4, 0.1), b1 = data(4, 3, 0.2), w1 = data(4, 3, 0.3);
  const Eigen::MatrixXd a2 = data(2, 6, 0.4), b2 = data(6, 7, 0.5), w2 = data(6, 7, 0.6);
  auto r = mg::grad(f, A = a1, B = b1, W = w1);
  mg::grad_into(r, f, A = a2, B = b2, W = w2);  // other shapes
  same(r, mg::grad(f, A = a2, B = b2, W = w2));
  const double h = 1e-6;
  for (long i = 0; i < a2.size(); ++i) {
    Eigen::MatrixXd p = a2, q = a2;
    p.data()[i] += h, q.data()[i] -= h;
    BOOST_CHECK_SMALL(r[A].data()[i] - (value(p, b2, w2) - value(q, b2, w2)) / (2 * h), 1e-7);
  }
  for (long i = 0; i < b2.size(); ++i) {
    Eigen::MatrixXd p = b2, q = b2;
    p.data()[i] += h, q.data()[i] -= h;
    BOOST_CHECK_SMALL(r[B].data()[i] - (value(a2, p, w2) - value(a2, q, w2)) / (2 * h), 1e-7);
  }
  mg::grad_into(r, other, A = a1, B = b1, W = w1);  // another expression, then back
  same(r, mg::grad(other, A = a1, B = b1, W = w1));
  mg::grad_into(r, f, A = a1, B = b1, W = w1);
  same(r, mg::grad(f, A = a1, B = b1, W = w1));

  // Same expression type, other runtime constants: the kept tape reads this call's.
  auto scaled = [](double c) { return mg::sum(c * mg::matmul(A, B)); };
  auto rc = mg::grad(scaled(2.0), A = a1, B = b1);
  mg::grad_into(rc, scaled(3.0), A = a1, B = b1);
  const auto fc = mg::grad(scaled(3.0), A = a1, B = b1);
  BOOST_CHECK_CLOSE(rc.value, fc.value, 1e-12);
  BOOST_CHECK_SMALL((rc[A] - fc[A]).norm(), 1e-12);
  const Eigen::MatrixXd ones = Eigen::MatrixXd::Ones(5, 3);
  const Eigen::MatrixXd want = 3.0 * (ones * b1.transpose());  // d/dA sum(c A B) = c 1 B^T
  BOOST_CHECK_SMALL((rc[A] - want).norm(), 1e-12);

  // A copy starts with no tape; each result's storage stays its own.
  auto copy = r;
  mg::grad_into(copy, f, A = a2, B = b2, W = w2);
  same(copy, mg::grad(f, A = a2, B = b2, W = w2));
  same(r, mg::grad(f, A = a1, B = b1, W = w1));
}

// Signs of zero as PyTorch's (torch 1.13): a gradient whose one contribution is
// -0 is -0 (y.grad of x * y at x = -0), the sum of -0 and -0 is -0, and a
// variable the expression does not read gets +0.
BOOST_AUTO_TEST_CASE(a_negative_zero_gradient_keeps_its_sign) {
  constexpr auto z = mg::var<"z">;
  const auto a = mg::grad(mg::sin(x) * y + x * x, x = -0.0, y = 2.0);
  BOOST_CHECK_EQUAL(a[x], 2.0);
  BOOST_CHECK(a[y] == 0.0 && std::signbit(a[y]));
  const auto b = mg::grad(x * y + x * z, x = 3.0, y = -0.0, z = -0.0);
  BOOST_CHECK(b[x] == 0.0 && std::signbit(b[x]));
  BOOST_CHECK_EQUAL(b[y], 3.0);
  const auto c = mg::grad(x * y + x * z, x = 3.0, y = -0.0, z = 0.0);
  BOOST_CHECK(c[x] == 0.0 && !std::signbit(c[x]));
  const auto d = mg::grad(x * x, x = -0.0, y = 1.0);
  BOOST_CHECK(d[x] == 0.0 && std::signbit(d[x]));  // 2 x
  BOOST_CHECK(d[y] == 0.0 && !std::signbit(d[y]));
  const auto f = mg::grad(x * y, x = -0.0f, y = 2.0f);
  BOOST_CHECK(f[y] == 0.0f && std::signbit(f[y]));
}

BOOST_AUTO_TEST_SUITE_END()
