// tests/rules/test_table_static.cpp — every row of rules/elementwise.hpp in
// static mode, iterating the table's own row list: value, first and second
// derivative in constant evaluation against PyTorch's numbers (static_asserts,
// so both compilers check them), float kept as float, the gradient sweep on
// numbers and on Eigen arrays (the packet pass), Hessian-vector products in
// SIMD dual packets, integral bindings.
#include <boost/test/unit_test.hpp>
#include <metagrad/static.hpp>

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <string_view>

#include "reference/ops_r2.hpp"

namespace mg = metagrad;

namespace {
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;

// ---- the table's rows in constant evaluation, against PyTorch's numbers
constexpr double cabs(double v) { return v < 0 ? -v : v; }
constexpr bool near(double a, double b, double tol) { return cabs(a - b) <= tol * (1 + cabs(b)); }
/// The index of row `name` in PyTorch's reference, or -1. (An index, not a
/// pointer: g++ 12 with -fsanitize=address does not fold pointer comparisons
/// in constant evaluation.)
constexpr int row_index(std::string_view name) {
  for (int i = 0; i < static_cast<int>(std::size(reference::unary_reference)); ++i)
    if (name == reference::unary_reference[i].name) return i;
  return -1;
}
const reference::UnaryReference* find_row(std::string_view name) {
  const int i = row_index(name);
  return i < 0 ? nullptr : &reference::unary_reference[i];
}
/// Value, first and second derivative of row `name` (if PyTorch's reference
/// has it) at its three points, evaluated at compile time.
template <class F, class D, class D2>
consteval bool row_matches(std::string_view name, F f, D df, D2 d2f) {
  const int i = row_index(name);
  if (i < 0) return true;
  const auto& r = reference::unary_reference[i];
  for (int j = 0; j < 3; ++j) {
    if (!near(f(x = r.x[j]), r.y[j], 1e-14)) return false;
    if (!near(df(x = r.x[j]), r.dy[j], 1e-14)) return false;
    if (!near(d2f(x = r.x[j]), r.d2y[j], 1e-13)) return false;
  }
  return true;
}
#define METAGRAD_TEST_ROW(Rule, fn)                                                                        \
  static_assert(row_matches(#fn, mg::fn(x), mg::d(mg::fn(x), x), mg::d(mg::fn(x), x, x)),                \
                "constexpr value or derivative of " #fn " differs from PyTorch's");                       \
  static_assert(std::is_same_v<decltype(mg::fn(x)(x = 0.5f)), float>, #fn " must keep float as float");  \
  static_assert(std::is_same_v<decltype(mg::d(mg::fn(x), x)(x = 0.5f)), float>, "d " #fn " must keep float");
METAGRAD_FOR_EACH_UNARY(METAGRAD_TEST_ROW)
#undef METAGRAD_TEST_ROW

static_assert((x / y)(x = 3, y = 2) == 1.5, "integral bindings evaluate as double");
static_assert(mg::d(mg::log1p(x), x)(x = 1.0) == 0.5);
static_assert(mg::d(mg::atan(x), x)(x = 1.0) == 0.5);
static_assert(mg::atan2(x, y)(x = 1.0, y = 1.0) > 0.785398163397 && mg::atan2(x, y)(x = 1.0, y = 1.0) < 0.785398163398);
static_assert(mg::d(mg::atan2(x, y), y)(x = 1.0, y = 1.0) == -0.5);
static_assert(mg::d(mg::hypot(x, y), x)(x = 3.0, y = 4.0) == 0.6);
static_assert(mg::minimum(x, y)(x = 1.0, y = 2.0) == 1.0 && mg::maximum(x, y)(x = 1.0, y = 2.0) == 2.0);
static_assert(mg::d(mg::minimum(x, y), x)(x = 1.0, y = 2.0) == 1.0 && mg::d(mg::minimum(x, y), y)(x = 1.0, y = 2.0) == 0.0);
static_assert(mg::d(mg::maximum(x, y), x)(x = 2.0, y = 2.0) == 0.5, "a tie splits the gradient");

void check_close(double a, double b, double tol) {
  BOOST_CHECK_MESSAGE(std::abs(a - b) <= tol * (1 + std::abs(b)), "got " << a << ", expected " << b);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(static_table)

BOOST_AUTO_TEST_CASE(gradient_sweep_equals_pytorch_for_every_new_row) {
#define METAGRAD_TEST_ROW(Rule, fn)                                     \
  if (const auto* r = find_row(#fn))                                    \
    for (int j = 0; j < 3; ++j) {                                       \
      const auto g = mg::grad(mg::fn(x), x = r->x[j]);                  \
      check_close(g.value, r->y[j], 1e-14);                             \
      check_close(g[x], r->dy[j], 1e-14);                               \
      Eigen::VectorXd v = Eigen::VectorXd::Constant(5, r->x[j]);        \
      check_close(mg::grad(mg::sum(mg::fn(x)), x = v)[x][4], r->dy[j], 1e-14); \
    }
  METAGRAD_FOR_EACH_UNARY(METAGRAD_TEST_ROW)
#undef METAGRAD_TEST_ROW
}

// mg::hvp and mg::hessian run the fused pass on SIMD dual packets (values
// and tangents in registers of their own, detail/dual_packet.hpp): every row
// on 19 elements (full packets and the one-lane rest, for double and float),
// against PyTorch's second derivatives. f = sum(fn(x) y + x / y) also runs
// the packets' products and quotients with tangents on both sides:
//   (H u)_x = fn''(x) y u,   (H u)_y = (fn'(x) - 1 / y^2) u.
BOOST_AUTO_TEST_CASE(hvp_in_dual_packets_equals_pytorch_for_every_row) {
  constexpr int n = 19;
#define METAGRAD_TEST_ROW(Rule, fn)                                                                      \
  if (const auto* r = find_row(#fn)) {                                                                   \
    Eigen::VectorXd v(n), w(n), u(n);                                                                    \
    for (int i = 0; i < n; ++i) v[i] = r->x[i % 3], w[i] = 1.5 + 0.1 * i, u[i] = 0.5 - 0.07 * i;        \
    const auto hv = mg::hvp(mg::sum(mg::fn(x)), u, x = v);                                               \
    const auto hf = mg::hvp(mg::sum(mg::fn(x)), u.cast<float>().eval(), x = v.cast<float>().eval());     \
    const auto h2 = mg::hvp(mg::sum(mg::fn(x) * y + x / y), u, x = v, y = w);                            \
    for (int i = 0; i < n; ++i) {                                                                        \
      BOOST_TEST_CONTEXT(#fn " element " << i) {                                                         \
        check_close(hv[x][i], r->d2y[i % 3] * u[i], 1e-12);                                              \
        check_close(hf[x][i], r->d2y[i % 3] * u[i], 2e-4);                                               \
        check_close(std::get<0>(hv.gradient)[i], r->dy[i % 3], 1e-13);                                   \
        check_close(h2[x][i], r->d2y[i % 3] * w[i] * u[i], 1e-12);                                       \
        check_close(h2[y][i], (r->dy[i % 3] - 1 / (w[i] * w[i])) * u[i], 1e-12);                         \
      }                                                                                                  \
    }                                                                                                    \
  }
  METAGRAD_FOR_EACH_UNARY(METAGRAD_TEST_ROW)
#undef METAGRAD_TEST_ROW
}

// Comparisons of SIMD dual packets are lane by lane (a mask, as an Eigen
// array's), so a rule's keep_where chooses per lane in a packet as over
// numbers: relu's derivative keeps g at a NaN and drops it at 0 and -0;
// maximum's share is 0, g / 2, g and g / 2 for a lost, tied, NaN and
// infinite tie lane
BOOST_AUTO_TEST_CASE(dual_packets_compare_and_choose_lane_by_lane) {
  using P = mg::DualPacket<double, 4>;
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const P y(Eigen::Array4d(nan, 0.0, -0.0, 2.0), Eigen::Array4d(1.0, 1.0, 1.0, 1.0));
  const P g(Eigen::Array4d::Constant(3.0), Eigen::Array4d::Constant(0.5));
  const auto at_most_0 = y <= 0.0;
  BOOST_CHECK(!at_most_0[0] && at_most_0[1] && at_most_0[2] && !at_most_0[3]);
  const P r = mg::rules::Relu::vjp(y, y, g);
  for (int l = 0; l < 4; ++l) {
    const bool kept = l == 0 || l == 3;
    BOOST_CHECK_EQUAL(r.v[l], kept ? 3.0 : 0.0);
    BOOST_CHECK_EQUAL(r.t[l], kept ? 0.5 : 0.0);
  }
  const P a(Eigen::Array4d(1.0, 2.0, nan, inf), Eigen::Array4d::Zero()), b(Eigen::Array4d(2.0, 2.0, 1.0, inf), Eigen::Array4d::Zero());
  const P da = mg::rules::Maximum::vjp_a(a, b, a, g);
  const double share[] = {0.0, 1.5, 3.0, 1.5};
  for (int l = 0; l < 4; ++l) BOOST_CHECK_EQUAL(da.v[l], share[l]);
}

BOOST_AUTO_TEST_CASE(pytorch_spellings_and_edges) {
  // F.softplus is a static node under its nn::functional name too (it was
  // only mg::softplus); x^0 has derivative 0 at x = 0 (PyTorch), not NaN
  const auto g = mg::grad(mg::nn::functional::softplus(x) + mg::pow(y, 0.0), x = 0.0, y = 0.0);
  BOOST_CHECK_CLOSE(g.value, std::log(2.0) + 1.0, 1e-12);
  BOOST_CHECK_EQUAL(g[x], 0.5);
  BOOST_CHECK_EQUAL(g[y], 0.0);
}

// a^b at a = 0 with b >= 0: d/db is 0 (PyTorch's pow_backward_exponent), not
// 0 * log 0 = NaN; d/da is 0 where b = 0 — in mg::d, mg::grad and over arrays
BOOST_AUTO_TEST_CASE(pow_at_a_zero_base_like_pytorch) {
  const double inf = std::numeric_limits<double>::infinity();
  const double as[] = {0., 0., 0., 2.}, bs[] = {0., 2., -1., 0.}, da[] = {0., 0., -inf, 0.}, db[] = {0., 0., -inf, std::log(2.0)};
  for (int i = 0; i < 4; ++i) {
    const auto g = mg::grad(mg::pow(x, y), x = as[i], y = bs[i]);
    BOOST_CHECK_EQUAL(g[x], da[i]);
    BOOST_CHECK_EQUAL(g[y], db[i]);
    BOOST_CHECK_EQUAL(mg::d(mg::pow(x, y), y)(x = as[i], y = bs[i]), db[i]);
  }
  const Eigen::ArrayXd av = Eigen::Map<const Eigen::ArrayXd>(as, 4), bv = Eigen::Map<const Eigen::ArrayXd>(bs, 4);
  const auto g = mg::grad(mg::sum(mg::pow(x, y)), x = av, y = bv);
  for (int i = 0; i < 4; ++i) {
    BOOST_CHECK_EQUAL(g[x](i), da[i]);
    BOOST_CHECK_EQUAL(g[y](i), db[i]);
  }
}

// sign(NaN) = 0 and abs's derivative there 0, relu's g (python3-torch), in
// mg::d, mg::grad over scalars and over double and float arrays
BOOST_AUTO_TEST_CASE(sign_abs_and_relu_at_nan_like_pytorch) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  BOOST_CHECK_EQUAL(mg::eval(mg::sign(x), x = nan), 0.0);
  BOOST_CHECK_EQUAL(mg::grad(mg::abs(x), x = nan)[x], 0.0);
  BOOST_CHECK_EQUAL(mg::grad(mg::relu(x), x = nan)[x], 1.0);
  BOOST_CHECK_EQUAL(mg::d(mg::abs(x), x)(x = nan), 0.0);
  BOOST_CHECK_EQUAL(mg::d(mg::relu(x), x)(x = nan), 1.0);
  BOOST_CHECK_EQUAL(mg::d(mg::relu(x), x)(x = -0.0), 0.0);
  Eigen::ArrayXd a = Eigen::ArrayXd::Constant(11, nan);
  a(3) = -2, a(4) = 0, a(9) = 5;
  const auto g = mg::grad(mg::sum(mg::abs(x) + 2.0 * mg::relu(x) + mg::sign(x)), x = a);
  for (int i = 0; i < 11; ++i)
    BOOST_CHECK_EQUAL(g[x](i), i == 3 ? -1.0 : i == 4 ? 0.0 : i == 9 ? 3.0 : 2.0);
  Eigen::ArrayXf af = Eigen::ArrayXf::Constant(9, std::numeric_limits<float>::quiet_NaN());
  af(2) = -2;
  const auto gf = mg::grad(mg::sum(mg::abs(x)), x = af);
  for (int i = 0; i < 9; ++i) BOOST_CHECK_EQUAL(gf[x](i), i == 2 ? -1.0f : 0.0f);
}

// minimum / maximum as PyTorch's: a NaN on either side sends g to both, equal
// infinities tie (g / 2 each), a tie of 0 and -0 returns b — in mg::d,
// mg::grad over scalars and over arrays (the SIMD packet pass)
BOOST_AUTO_TEST_CASE(minimum_and_maximum_at_nan_and_infinity_like_pytorch) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const double as[] = {nan, 1., inf, -inf, 3., 1.}, bs[] = {1., nan, inf, -inf, 1., 3.};
  const double gmax_a[] = {1., 1., .5, .5, 1., 0.}, gmin_a[] = {1., 1., .5, .5, 0., 1.};
  for (int i = 0; i < 6; ++i) {
    BOOST_TEST_CONTEXT("a = " << as[i] << ", b = " << bs[i]) {
      const auto gmax = mg::grad(mg::maximum(x, y), x = as[i], y = bs[i]);
      const auto gmin = mg::grad(mg::minimum(x, y), x = as[i], y = bs[i]);
      BOOST_CHECK_EQUAL(gmax[x], gmax_a[i]);
      BOOST_CHECK_EQUAL(gmin[x], gmin_a[i]);
      BOOST_CHECK_EQUAL(gmax[y], gmin_a[i]);  // b's share is a's with the roles swapped
      BOOST_CHECK_EQUAL(gmin[y], gmax_a[i]);
      BOOST_CHECK_EQUAL(mg::d(mg::maximum(x, y), x)(x = as[i], y = bs[i]), gmax_a[i]);
      BOOST_CHECK_EQUAL(mg::d(mg::minimum(x, y), y)(x = as[i], y = bs[i]), gmax_a[i]);
    }
  }
  // 12 elements: packets of 8 and 4 lanes and a scalar tail all see the edge cases
  Eigen::ArrayXd av(12), bv(12);
  for (int i = 0; i < 12; ++i) av(i) = as[i % 6], bv(i) = bs[i % 6];
  const auto gmax = mg::grad(mg::sum(mg::maximum(x, y)), x = av, y = bv);
  const auto gmin = mg::grad(mg::sum(mg::minimum(x, y)), x = av, y = bv);
  for (int i = 0; i < 12; ++i) {
    BOOST_TEST_CONTEXT("element " << i) {
      BOOST_CHECK_EQUAL(gmax[x](i), gmax_a[i % 6]);
      BOOST_CHECK_EQUAL(gmax[y](i), gmin_a[i % 6]);
      BOOST_CHECK_EQUAL(gmin[x](i), gmin_a[i % 6]);
      BOOST_CHECK_EQUAL(gmin[y](i), gmax_a[i % 6]);
    }
  }
  BOOST_CHECK(std::signbit(mg::eval(mg::maximum(x, y), x = 0.0, y = -0.0)));
  BOOST_CHECK(!std::signbit(mg::eval(mg::minimum(x, y), x = -0.0, y = 0.0)));
}

BOOST_AUTO_TEST_CASE(integral_bindings_are_doubles) {
  const auto g = mg::grad(x / y, x = 3, y = 2);
  BOOST_CHECK_EQUAL(g.value, 1.5);
  BOOST_CHECK_EQUAL(g[x], 0.5);
  BOOST_CHECK_EQUAL(g[y], -0.75);
}

BOOST_AUTO_TEST_SUITE_END()

