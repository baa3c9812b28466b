// tests/static/test_no_alloc.cpp — mg::grad_into allocates nothing on the heap
// once a result has been made: gradient arrays, intermediate values (matrix
// products), reduction buffers and adjoints all come from the result's kept
// tape. Eigen counts its own allocations here: EIGEN_RUNTIME_NO_MALLOC makes
// every Eigen heap allocation call eigen_assert, which this file (its own
// executable, since it configures Eigen differently) turns into a counter.
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
std::size_t eigen_refusals = 0;
/// Eigen's assertions: a refused heap allocation is counted (and goes on);
/// any other failure stops the program as an assert would.
inline void eigen_check(bool ok, const char* what) {
  if (ok) return;
  if (std::strstr(what, "heap allocation") != nullptr) {
    ++eigen_refusals;
    return;
  }
  std::fprintf(stderr, "Eigen assertion failed: %s\n", what);
  std::abort();
}
}  // namespace
#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x) eigen_check(static_cast<bool>(x), #x)

#define BOOST_TEST_MODULE metagrad_no_alloc
#include <boost/test/unit_test.hpp>
#include <metagrad/static.hpp>

#include <Eigen/Core>
#include <cmath>

namespace mg = metagrad;
using namespace mg::literals;

namespace {
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;
constexpr auto s = mg::var<"s">;
constexpr auto A = mg::var<"A">;
constexpr auto B = mg::var<"B">;
constexpr auto W = mg::var<"W">;
constexpr auto X = mg::var<"X">;
constexpr auto T = mg::var<"T">;
constexpr auto w = mg::var<"w">;
constexpr auto W1 = mg::var<"W1">;
constexpr auto W2 = mg::var<"W2">;
constexpr auto h = mg::var<"h">;
constexpr auto e = mg::var<"e">;
constexpr auto mu = mg::var<"mu">;
constexpr auto phi = mg::var<"phi">;

Eigen::MatrixXd matrix(long r, long c, double phase) {
  Eigen::MatrixXd m(r, c);
  for (long i = 0; i < r * c; ++i) m.data()[i] = std::sin(0.37 * static_cast<double>(i) + phase);
  return m;
}

/// Heap allocations Eigen makes while f runs.
template <class F>
std::size_t allocations(F&& f) {
  eigen_refusals = 0;
  Eigen::internal::set_is_malloc_allowed(false);
  f();
  Eigen::internal::set_is_malloc_allowed(true);
  return eigen_refusals;
}

/// mg::grad allocates (gradients, tape); grad_into with the same shapes
/// must not, and must give the same numbers.
template <class E, class... Bs>
void check_no_alloc(const char* what, const E& e, const Bs&... bs) {
  BOOST_TEST_CONTEXT(what) {
    const auto fresh = mg::grad(e, bs...);
    auto r = mg::grad(e, bs...);
    BOOST_CHECK_EQUAL(allocations([&] { mg::grad_into(r, e, bs...); }), 0u);
    BOOST_CHECK_EQUAL(allocations([&] { mg::grad_into(r, e, bs...); }), 0u);
    BOOST_CHECK_EQUAL(r.value, fresh.value);
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      auto same = [](const auto& a, const auto& b) {
        if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(a)>>) BOOST_CHECK_EQUAL(a, b);
        else BOOST_CHECK((a.array() == b.array()).all());
      };
      (same(std::get<J>(r.grads), std::get<J>(fresh.grads)), ...);
    }(std::index_sequence_for<Bs...>{});
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(the_counter_sees_eigen_allocations) {
  BOOST_CHECK_GE(allocations([] { Eigen::VectorXd v(100); v.setZero(); }), 1u);
  BOOST_CHECK_EQUAL(allocations([] { Eigen::Vector4d v; v.setZero(); }), 0u);
}

BOOST_AUTO_TEST_CASE(grad_into_allocates_nothing) {
  const Eigen::VectorXd xv = matrix(37, 1, 0.1), yv = matrix(37, 1, 0.5);
  // The benchmark suite's workloads (bench/workloads.hpp) at small sizes.
  check_no_alloc("sum", mg::sum(x), x = xv);
  check_no_alloc("prod", mg::prod(x), x = Eigen::VectorXd((1.0 + 0.01 * xv.array()).matrix()));
  check_no_alloc("log-sum-exp", mg::log(mg::sum(mg::exp(x))), x = xv);
  check_no_alloc("normal", mg::sum(-0.5 * mg::pow((x - y) / s, 2_c) - mg::log(s)), x = xv, y = 0.3, s = 1.7);
  for (long k : {2, 3, 8}) {
    const Eigen::MatrixXd a = matrix(k, k, 0.1), b = matrix(k, k, 0.5), wm = matrix(k, k, 0.9);
    check_no_alloc("matrix product", mg::sum(W * mg::matmul(A, B)), A = a, B = b, W = mg::data(wm));
  }
  const Eigen::MatrixXd Xm = matrix(40, 8, 0.2);
  const Eigen::VectorXd wv = matrix(8, 1, 0.6) * 0.5, y40 = matrix(40, 1, 0.4);
  check_no_alloc("linear regression", mg::sum(-0.5 * mg::pow((y - mg::matmul(X, w) - x) / s, 2_c) - mg::log(s)),
                 X = mg::data(Xm), y = mg::data(y40), w = wv, x = 0.3, s = 1.7);
  const Eigen::MatrixXd w1 = matrix(16, 16, 0.1) * 0.2, w2 = matrix(16, 16, 0.7) * 0.2;
  const Eigen::VectorXd x16 = matrix(16, 1, 0.3), t16 = matrix(16, 1, 1.1);
  check_no_alloc("mlp", mg::mean(mg::pow(mg::matmul(W2, mg::tanh(mg::matmul(W1, X))) - T, 2_c)), W1 = w1, W2 = w2,
                 X = mg::data(x16), T = mg::data(t16));
  // A variable fed by two products and an elementwise term (the second
  // product adds into the kept gradient), a product of a product.
  const Eigen::MatrixXd a = matrix(5, 4, 0.1), b = matrix(4, 3, 0.2), c = matrix(4, 3, 0.3), d = matrix(3, 2, 0.4);
  check_no_alloc("shared operand",
                 mg::sum(mg::tanh(mg::matmul(A, B))) + mg::sum(mg::matmul(A, W) * mg::matmul(A, B)) + mg::sum(A * A),
                 A = a, B = b, W = c);
  check_no_alloc("chained products", mg::sum(mg::exp(mg::matmul(mg::matmul(A, B), T))), A = a, B = b, T = d);
  // Slices over several of the fused pass's blocks, and a scan (its reverse
  // loop's gradient for xs is kept on the tape).
  const Eigen::VectorXd long_x = matrix(5000, 1, 0.3);
  check_no_alloc("rosenbrock through head and tail",
                 mg::sum(100_c * mg::pow(mg::tail(x, 4999) - mg::pow(mg::head(x, 4999), 2_c), 2_c) +
                         mg::pow(1_c - mg::head(x, 4999), 2_c)),
                 x = long_x);
  const auto latent = mg::scan(mu + phi * (h - mu) + s * e, h, mu, e, x);
  check_no_alloc("stochastic volatility (scan)",
                 mg::sum(-0.5 * mg::pow(x, 2_c)) + mg::sum(-0.5 * latent - 0.5 * mg::pow(y, 2_c) * mg::exp(-latent)), x = xv,
                 y = mg::data(yv), mu = -0.5, phi = 0.9, s = 0.3);
}

/// The multivariate normal through solve and logdet: the factorisation's
/// cache, A^-1 and solve's dB live in buffers kept per thread, and the
/// backward formulas write into the gradients, so a gradient with a
/// different covariance matrix every call allocates nothing either (own
/// Cholesky loops at k = 8, Eigen's LLT at k = 60).
BOOST_AUTO_TEST_CASE(multivariate_normal_allocates_nothing) {
  constexpr auto mvn = -0.5 * (mg::dot(x - mu, mg::linalg::solve(A, x - mu)) + mg::logdet(A));
  for (long k : {8, 60}) {
    BOOST_TEST_CONTEXT("k = " << k) {
      const Eigen::MatrixXd r = matrix(k, k, 0.2);
      const Eigen::MatrixXd s1 = r * r.transpose() / static_cast<double>(k) + Eigen::MatrixXd::Identity(k, k);
      const Eigen::MatrixXd s2 = 1.5 * s1;
      const Eigen::VectorXd xk = matrix(k, 1, 0.3), mk = matrix(k, 1, 0.8);
      check_no_alloc("multivariate normal", mvn, x = mg::data(xk), mu = mk, A = s1);
      auto g = mg::grad(mvn, x = mg::data(xk), mu = mk, A = s1);
      mg::grad_into(g, mvn, x = mg::data(xk), mu = mk, A = s2);
      BOOST_CHECK_EQUAL(allocations([&] {
                          mg::grad_into(g, mvn, x = mg::data(xk), mu = mk, A = s1);
                          mg::grad_into(g, mvn, x = mg::data(xk), mu = mk, A = s2);
                        }),
                        0u);
      const Eigen::VectorXd a = s2.llt().solve(xk - mk);  // df/dS = (a a^T - S^-1) / 2
      BOOST_CHECK_SMALL((g[A] - 0.5 * (a * a.transpose() - s2.inverse())).norm(), 1e-10);
      BOOST_CHECK_SMALL((g[mu] - a).norm(), 1e-10);
    }
  }
}

BOOST_AUTO_TEST_CASE(new_shapes_reallocate_then_settle) {
  constexpr auto f = mg::sum(W * mg::matmul(A, B));
  const Eigen::MatrixXd a3 = matrix(3, 3, 0.1), a6 = matrix(6, 6, 0.1);
  auto r = mg::grad(f, A = a3, B = a3, W = mg::data(a3));
  BOOST_CHECK_GT(allocations([&] { mg::grad_into(r, f, A = a6, B = a6, W = mg::data(a6)); }), 0u);
  BOOST_CHECK_EQUAL(allocations([&] { mg::grad_into(r, f, A = a6, B = a6, W = mg::data(a6)); }), 0u);
  const Eigen::MatrixXd want = a6 * a6.transpose();  // d/dA sum(W * (A B)) = W B^T
  BOOST_CHECK_SMALL((r[A] - want).norm(), 1e-12);
}
