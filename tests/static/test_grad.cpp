// tests/static/test_grad.cpp — mg::grad: one fused sweep over scalars, float
// and Eigen (fixed and dynamic), checked against `d` and finite differences.
#include <boost/test/unit_test.hpp>
#include <metagrad/static.hpp>

#include <Eigen/Core>
#include <cmath>

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

BOOST_AUTO_TEST_SUITE_END()
