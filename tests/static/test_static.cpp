// tests/static/test_static.cpp — static mode: expression types, constexpr
// values of every node, derivative types and simplification (mostly
// static_asserts: this file passing to compile is most of the test), partials
// up to third order, to_string, and runtime == constexpr.
#define BOOST_TEST_MODULE metagrad_static
#include <boost/test/unit_test.hpp>
#include <metagrad/static.hpp>

#include <cmath>
#include <type_traits>

namespace mg = metagrad;
using namespace mg::literals;

namespace {
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;
constexpr auto z = mg::var<"z">;

template <class A, class B>
constexpr bool same = std::is_same_v<std::remove_cvref_t<A>, std::remove_cvref_t<B>>;
constexpr bool near(double a, double b, double tol = 1e-14) {
  const double d = a - b;
  const double m = (a < 0 ? -a : a) + (b < 0 ? -b : b);
  return (d < 0 ? -d : d) <= tol * (1 + m);
}

// ---- SPEC identities
static_assert(same<decltype(mg::d(x, x)), decltype(1_c)>);
static_assert(same<decltype(mg::d(y, x)), decltype(0_c)>);
static_assert(same<decltype(mg::d(mg::pow(x, 3_c), x)), decltype(3_c * mg::pow(x, 2_c))>);
static_assert(same<decltype(mg::d(mg::pow(x, 2_c) + mg::pow(y, 2_c), x)), decltype(2_c * x)>);
static_assert(same<decltype(mg::d(mg::exp(x) * mg::sin(y), z)), decltype(0_c)>);
// ---- the _c literal: an integer literal in any base (a fractional one is a
// compile-fail test: 0.5_c once read its '.' as a digit and made -15)
static_assert(same<decltype(0x1F_c), decltype(31_c)>);
static_assert(same<decltype(0xe3_c), decltype(227_c)>);  // (a hex digit, not an exponent)
static_assert(same<decltype(0b101_c), decltype(5_c)>);
static_assert(same<decltype(017_c), decltype(15_c)>);
static_assert(same<decltype(1'000'000_c), decltype(1000000_c)>);
static_assert(decltype(9223372036854775807_c)::value == 9223372036854775807LL);
static_assert(mg::eval(1_c / 2_c * x, x = 3.0) == 1.5);
// ---- simplification rules
static_assert(same<decltype(0_c * mg::exp(x)), decltype(0_c)>);
static_assert(same<decltype(1_c * mg::exp(x)), decltype(mg::exp(x))>);
static_assert(same<decltype(mg::exp(x) + 0_c), decltype(mg::exp(x))>);
static_assert(same<decltype(mg::sin(x) - mg::sin(x)), decltype(0_c)>);
static_assert(same<decltype(mg::sin(x) + mg::sin(x)), decltype(2_c * mg::sin(x))>);
static_assert(same<decltype(mg::sin(x) / mg::sin(x)), decltype(1_c)>);
static_assert(same<decltype(-(-x)), decltype(x)>);
static_assert(same<decltype(2_c * 3_c + 4_c), decltype(10_c)>);
static_assert(same<decltype(8_c / 2_c - 1_c), decltype(3_c)>);
static_assert(same<decltype(mg::pow(x, 1_c)), decltype(x)>);
static_assert(same<decltype(mg::pow(x, 0_c)), decltype(1_c)>);
static_assert(same<decltype(mg::pow(2_c, 10_c)), decltype(1024_c)>);
static_assert(same<decltype(2_c * (3_c * x)), decltype(6_c * x)>);
// higher order: d^2/dx^2 x^3 = 6x, d^3 = 6, d^4 = 0
static_assert(same<decltype(mg::d(mg::pow(x, 3_c), x, x)), decltype(6_c * x)>);
static_assert(same<decltype(mg::d(mg::pow(x, 3_c), x, x, x)), decltype(6_c)>);
static_assert(same<decltype(mg::d(mg::pow(x, 3_c), x, x, x, x)), decltype(0_c)>);
static_assert(same<decltype(mg::d(mg::exp(x), x, x)), decltype(mg::exp(x))>);
// runtime constants are not merged by type (their values may differ)
static_assert(!same<decltype(x * 2.0 + x * 3.0), decltype(2_c * (x * 2.0))>);

// ---- constexpr values of every node and of their derivatives
constexpr auto f = mg::pow(x, 2_c) + mg::pow(y, 2_c);
static_assert(mg::eval(f, x = 3.0, y = 4.0) == 25.0);
static_assert(f(y = 4.0, x = 3.0) == 25.0);
static_assert(mg::d(f, x)(x = 3.0, y = 4.0) == 6.0);
static_assert(near(mg::exp(x)(x = 1.0), 2.718281828459045));
static_assert(near(mg::log(x)(x = 2.0), 0.6931471805599453));
static_assert(near(mg::sin(x)(x = 0.5), 0.479425538604203));
static_assert(near(mg::cos(x)(x = 0.5), 0.8775825618903728));
static_assert(near(mg::tan(x)(x = 0.5), 0.5463024898437905));
static_assert(near(mg::tanh(x)(x = 0.5), 0.46211715726000974));
static_assert(near(mg::sqrt(x)(x = 2.0), 1.4142135623730951));
static_assert(near(mg::sigmoid(x)(x = 0.5), 0.6224593312018546));
static_assert(mg::abs(x)(x = -2.5) == 2.5);
static_assert(near(mg::pow(x, y)(x = 2.0, y = 0.5), 1.4142135623730951));
static_assert(mg::pow(x, 3_c)(x = -2.0) == -8.0);
static_assert((x / y - 1.5)(x = 3.0, y = 4.0) == -0.75);
static_assert((-x * 2.0 + 1.0 / y)(x = 1.0, y = 4.0) == -1.75);
// derivatives of every node, checked at a point against the textbook formula
static_assert(near(mg::d(mg::exp(x), x)(x = 0.3), 1.3498588075760032));
static_assert(near(mg::d(mg::log(x), x)(x = 0.25), 4.0));
static_assert(near(mg::d(mg::sin(x), x)(x = 0.5), 0.8775825618903728));
static_assert(near(mg::d(mg::cos(x), x)(x = 0.5), -0.479425538604203));
static_assert(near(mg::d(mg::tan(x), x)(x = 0.5), 1.0 + 0.5463024898437905 * 0.5463024898437905));
static_assert(near(mg::d(mg::tanh(x), x)(x = 0.5), 1.0 - 0.46211715726000974 * 0.46211715726000974));
static_assert(near(mg::d(mg::sqrt(x), x)(x = 4.0), 0.25));
static_assert(near(mg::d(mg::sigmoid(x), x)(x = 0.5), 0.6224593312018546 * (1 - 0.6224593312018546)));
static_assert(mg::d(mg::abs(x), x)(x = -3.0) == -1.0);
static_assert(near(mg::d(mg::pow(x, y), y)(x = 2.0, y = 3.0), 8.0 * 0.6931471805599453));
static_assert(near(mg::d(x / y, y)(x = 3.0, y = 2.0), -0.75));
// mixed partials up to third order
constexpr auto g = mg::exp(x * y) * mg::sin(z) + x * x * y;
static_assert(near(mg::d(g, x, y)(x = 0.5, y = 2.0, z = 1.0), (1 + 0.5 * 2.0) * 2.718281828459045 * 0.8414709848078965 + 1.0));
static_assert(near(mg::d(g, x, y)(x = 0.5, y = 2.0, z = 1.0), mg::d(g, y, x)(x = 0.5, y = 2.0, z = 1.0)));
static_assert(near(mg::d(g, x, y, z)(x = 0.5, y = 2.0, z = 1.0), (1 + 0.5 * 2.0) * 2.718281828459045 * 0.5403023058681398));
static_assert(near(mg::d(g, x, x, y)(x = 0.5, y = 2.0, z = 1.0),
                   (2 * 2.0 + 0.5 * 4.0) * 2.718281828459045 * 0.8414709848078965 + 2.0, 1e-13));
// float bindings evaluate in float
static_assert(std::is_same_v<decltype(mg::eval(x * 2_c, x = 1.5f)), float>);
}  // namespace

BOOST_AUTO_TEST_CASE(to_string_is_readable_infix) {
  BOOST_CHECK_EQUAL(mg::to_string(mg::d(f, x)), "2 * x");
  BOOST_CHECK_EQUAL(mg::to_string(mg::d(mg::pow(x, 3_c), x)), "3 * pow(x, 2)");
  BOOST_CHECK_EQUAL(mg::to_string((x + y) * (x - y) / (x - (y - z))), "(x + y) * (x - y) / (x - (y - z))");
  BOOST_CHECK_EQUAL(mg::to_string(-(x + y) * mg::exp(-x) + 0.5), "-(x + y) * exp(-x) + 0.5");
  BOOST_CHECK_EQUAL(mg::to_string(mg::d(mg::sigmoid(x), x)), "sigmoid(x) * (1 - sigmoid(x))");
  BOOST_CHECK_EQUAL(mg::to_string(mg::d(mg::cos(x), x)), "-sin(x)");
  BOOST_CHECK_EQUAL(mg::to_string(x / -(y * z)), "x / (-y * z)");
  BOOST_CHECK_EQUAL(mg::to_string(x - -(y - z)), "x + y - z");
  BOOST_CHECK_EQUAL(mg::to_string(x - (y - z)), "x - (y - z)");
}

BOOST_AUTO_TEST_CASE(constexpr_math_is_within_a_few_ulp_of_cmath) {
  namespace ce = mg::math::ce;
  double worst = 0;
  for (double v = -20; v < 20; v += 0.00731) {
    auto rel = [&](double a, double b) { worst = std::max(worst, b == 0 ? std::abs(a) : std::abs(a - b) / std::abs(b)); };
    rel(ce::exp(v), std::exp(v));
    rel(ce::sin(v), std::sin(v));
    rel(ce::cos(v), std::cos(v));
    rel(ce::tanh(v), std::tanh(v));
    if (v > 0) {
      rel(ce::log(v), std::log(v));
      rel(ce::sqrt(v), std::sqrt(v));
    }
  }
  BOOST_CHECK_LT(worst, 1e-15);
}

BOOST_AUTO_TEST_CASE(runtime_path_equals_constexpr_path) {
  constexpr auto h = mg::tanh(x) * mg::sqrt(y) + mg::log(x * y) - mg::cos(x / y) + mg::sigmoid(-y) + mg::tan(x * 0.1);
  constexpr double c = h(x = 0.7, y = 1.3);
  volatile double xv = 0.7, yv = 1.3;
  const double r = h(x = double(xv), y = double(yv));
  BOOST_CHECK_CLOSE(c, r, 1e-12);  // percent: a few ulp of the (cancelling) sum
  constexpr double dc = mg::d(h, x, y)(x = 0.7, y = 1.3);
  BOOST_CHECK_CLOSE(dc, mg::d(h, x, y)(x = double(xv), y = double(yv)), 1e-12);
  // and both against central differences of the runtime value
  const double e = 1e-5;
  const double fd = (mg::d(h, x)(x = 0.7, y = 1.3 + e) - mg::d(h, x)(x = 0.7, y = 1.3 - e)) / (2 * e);
  BOOST_CHECK_CLOSE(dc, fd, 1e-6);
}
