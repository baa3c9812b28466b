// tests/detail/test_vmath.cpp — accuracy of the vectorised elementary functions
// (include/metagrad/detail/vmath.hpp, vmath_erf.hpp,
// vmath_inverse_hyperbolic.hpp, vmath_inverse_trig.hpp, vmath_pow.hpp,
// vmath_atan2_hypot.hpp): every function, for double and float,
// within 2 ulp of <cmath> over wide ranges, the edges of each kernel, and the
// special values (zeros of both signs, subnormals, the largest finite values,
// infinities, NaN). The packet kernels are called directly, so a plain
// x86-64 build (where expressions use <cmath> instead) tests them too; the
// suite is built a second time with -march=native (test_vmath_native), where
// Eigen expressions run them.
#define BOOST_TEST_MODULE vmath
#include <boost/test/unit_test.hpp>

#include <metagrad/detail/vmath.hpp>
#include <metagrad/detail/vmath_erf.hpp>
#include <metagrad/detail/vmath_inverse_hyperbolic.hpp>
#include <metagrad/detail/vmath_inverse_trig.hpp>
#include <metagrad/detail/vmath_atan2_hypot.hpp>
#include <metagrad/detail/vmath_pow.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace vm = metagrad::vmath;
namespace ei = Eigen::internal;

namespace {

/// Distance in representable values between a and b (0 when both are NaN,
/// a huge number when only one is or the signs of two zeros differ).
template <class T>
double ulp_distance(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : 1e30;
  if (a == 0 && b == 0) return std::signbit(a) == std::signbit(b) ? 0 : 1e30;
  using I = std::conditional_t<sizeof(T) == 8, std::int64_t, std::int32_t>;
  auto ordered = [](T v) {  // monotone map of the values onto integers
    I i;
    std::memcpy(&i, &v, sizeof v);
    return i < 0 ? static_cast<long double>(std::numeric_limits<I>::min()) - static_cast<long double>(i) : static_cast<long double>(i);
  };
  return static_cast<double>(std::fabs(ordered(a) - ordered(b)));
}

template <class T>
T ref_sigmoid(T x) {
  return static_cast<T>(1.0L / (1.0L + std::exp(-static_cast<long double>(x))));
}

/// log(1 + e^x) in long double, x itself above 20 (torch's threshold).
template <class T>
T ref_softplus(T x) {
  if (x > T(20)) return x;
  return static_cast<T>(std::log1p(std::exp(static_cast<long double>(x))));
}

/// The inputs: uniform and log-uniform samples over wide ranges of both
/// signs, every kernel's edges with their neighbours, and special values.
template <class T>
std::vector<T> inputs(const std::vector<double>& edges) {
  using L = std::numeric_limits<T>;
  std::vector<T> v;
  std::mt19937_64 gen(20261201);
  std::uniform_real_distribution<double> u(0, 1);
  for (auto [lo, hi] : {std::pair{-10.0, 10.0}, {-1.0, 1.0}, {-800.0, 800.0}, {-9000.0, 9000.0}})
    for (int i = 0; i < 40000; ++i) v.push_back(static_cast<T>(lo + (hi - lo) * u(gen)));
  const double tiny = static_cast<double>(L::denorm_min()), huge = static_cast<double>(L::max());
  for (int i = 0; i < 160000; ++i) {
    const double m = std::exp(std::log(tiny) + (std::log(huge) - std::log(tiny)) * u(gen));
    v.push_back(static_cast<T>(i % 2 ? -m : m));
  }
  for (double e : edges)
    for (T x = static_cast<T>(e), k = 0; k < 8; ++k) {
      v.push_back(x);
      v.push_back(-x);
      x = std::nextafter(x, L::infinity());
    }
  for (T s : {T(0), L::denorm_min(), T(L::denorm_min() * 3), L::min(), T(L::min() / 3), L::epsilon(), L::max(), L::infinity()}) {
    v.push_back(s);
    v.push_back(-s);
  }
  v.push_back(L::quiet_NaN());
  while (v.size() % 64) v.push_back(T(0.5));
  return v;
}

/// Max ulp distance of Op's packet kernel (and of the Eigen expression) from
/// ref over the inputs; reports the worst input.
template <class T, class Op, class Ref>
void check(const std::string& name, Ref ref, const std::vector<double>& edges, double bound = 2) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
  using P = typename ei::packet_traits<T>::type;
  constexpr int n = ei::unpacket_traits<P>::size;
#pragma GCC diagnostic pop
  const std::vector<T> x = inputs<T>(edges);
  std::vector<T> y(x.size());
  for (std::size_t i = 0; i < x.size(); i += n) ei::pstoreu(y.data() + i, Op{}.packetOp(ei::ploadu<P>(x.data() + i)));
  Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> xm(x.data(), static_cast<Eigen::Index>(x.size()));
  const Eigen::Array<T, Eigen::Dynamic, 1> ye = xm.unaryExpr(Op{});
  double worst = 0, worst_e = 0;
  T at = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const T r = ref(x[i]);
    const double d = ulp_distance(y[i], r);
    if (d > worst) worst = d, at = x[i];
    worst_e = std::max(worst_e, ulp_distance(ye[static_cast<Eigen::Index>(i)], r));
  }
  BOOST_TEST_INFO(name << (sizeof(T) == 8 ? " double" : " float") << ": worst " << worst << " ulp at x = "
                       << static_cast<double>(at) << " (packets of " << n << ")");
  BOOST_TEST(worst <= bound);
  BOOST_TEST_INFO(name << " through an Eigen expression");
  BOOST_TEST(worst_e <= bound);
}

const double kPi = 3.14159265358979323846;

/// sin and cos edges: multiples of pi/2 (where the result cancels), the end
/// of the fast reduction, and the tiny-argument cut.
std::vector<double> trig_edges() {
  std::vector<double> e = {8192.0, 8191.999, 0x1p-27, 0x1p-26, 1e-8, kPi / 4, 3 * kPi / 4, 1e5, 1e22, 1e300};
  for (int k = 1; k < 5300; ++k) e.push_back(k * kPi / 2);
  return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(vmath)

BOOST_AUTO_TEST_CASE(exp_and_expm1) {
  // the overflow and underflow thresholds, the subnormal results, the
  // reduction's cut (ln2/2), expm1's switches at +-40 and its tiny cut
  const std::vector<double> edges = {709.782712893384, 709.78, -708.39641853226408, -745.13321910194110, -744.44, -720.0,
                                     0.34657359027997264, 0.5, 1.0, 40.0, 39.999, 0x1p-54, 1e-10, 88.72, -87.33, -103.97};
  check<double, vm::exp_op<double>>("exp", [](double v) { return std::exp(v); }, edges, 1);
  check<float, vm::exp_op<float>>("exp", [](float v) { return std::exp(v); }, edges);
  check<double, vm::expm1_op<double>>("expm1", [](double v) { return std::expm1(v); }, edges);
  check<float, vm::expm1_op<float>>("expm1", [](float v) { return std::expm1(v); }, edges);
}

BOOST_AUTO_TEST_CASE(log_and_log1p) {
  // subnormal inputs, -1 (log1p's pole), where 1 + x rounds to 1, near 1
  const std::vector<double> edges = {1.0, 0.9999999999, 1.0000000001, -1.0, -0.9999999, 0x1p-53, 0x1p-52, 1e-300, 2.2250738585072014e-308, 1e-310, 0.5, 2.0, 1e300};
  check<double, vm::log_op<double>>("log", [](double v) { return std::log(v); }, edges);
  check<float, vm::log_op<float>>("log", [](float v) { return std::log(v); }, edges);
  check<double, vm::log1p_op<double>>("log1p", [](double v) { return std::log1p(v); }, edges);
  check<float, vm::log1p_op<float>>("log1p", [](float v) { return std::log1p(v); }, edges);
}

BOOST_AUTO_TEST_CASE(log2_and_log10) {
  // the reduction's switch at sqrt(2), near 1, subnormal inputs, the extremes
  std::vector<double> edges = {1.4142135623730951, 1.414213562373095, 0.7071067811865476, 1.0, 0.9999999999,
                               1.0000000001, 0x1p-53, 1e-300, 2.2250738585072014e-308, 1e-310, 5e-324, 1.7976931348623157e308};
  for (int k = -307; k <= 308; ++k) edges.push_back(std::pow(10.0, k));
  check<double, vm::log2_op<double>>("log2", [](double v) { return std::log2(v); }, edges);
  check<float, vm::log2_op<float>>("log2", [](float v) { return std::log2(v); }, edges);
  check<double, vm::log10_op<double>>("log10", [](double v) { return std::log10(v); }, edges);
  check<float, vm::log10_op<float>>("log10", [](float v) { return std::log10(v); }, edges);
  // results that are integers come out exact, as from <cmath>
  std::vector<double> tens, twos;
  for (int k = 0; k <= 22; ++k) tens.push_back(std::pow(10.0, k));  // (exact doubles)
  for (int k = -1074; k <= 1023; k += 7) twos.push_back(std::ldexp(1.0, k));
  const Eigen::ArrayXd t = Eigen::Map<const Eigen::ArrayXd>(tens.data(), Eigen::Index(tens.size())).unaryExpr(vm::log10_op<double>{});
  const Eigen::ArrayXd w = Eigen::Map<const Eigen::ArrayXd>(twos.data(), Eigen::Index(twos.size())).unaryExpr(vm::log2_op<double>{});
  for (int k = 0; k <= 22; ++k) BOOST_TEST(t[k] == double(k));
  for (std::size_t i = 0; i < twos.size(); ++i) BOOST_TEST(w[Eigen::Index(i)] == double(-1074 + 7 * int(i)));
}

BOOST_AUTO_TEST_CASE(sin_cos_and_tan) {
  check<double, vm::sin_op<double>>("sin", [](double v) { return std::sin(v); }, trig_edges());
  check<float, vm::sin_op<float>>("sin", [](float v) { return std::sin(v); }, trig_edges());
  check<double, vm::cos_op<double>>("cos", [](double v) { return std::cos(v); }, trig_edges());
  check<float, vm::cos_op<float>>("cos", [](float v) { return std::cos(v); }, trig_edges());
  check<double, vm::tan_op<double>>("tan", [](double v) { return std::tan(v); }, trig_edges());
  check<float, vm::tan_op<float>>("tan", [](float v) { return std::tan(v); }, trig_edges());
}

BOOST_AUTO_TEST_CASE(tanh_and_sigmoid) {
  // tanh's switch from polynomial to expm1 (0.55) and its clamp (19.5; it
  // rounds to 1 from 19.06), sigmoid's change of formula at 0 and its underflow
  const std::vector<double> edges = {0.55, 0.549999, 19.5, 19.06, 19.07, 19.4, 22.0, 1e-9, 0x1p-28, 36.7, 709.0, 745.0, 750.0, 88.0, 104.0};
  check<double, vm::tanh_op<double>>("tanh", [](double v) { return std::tanh(v); }, edges);
  check<float, vm::tanh_op<float>>("tanh", [](float v) { return std::tanh(v); }, edges);
  check<double, vm::sigmoid_op<double>>("sigmoid", ref_sigmoid<double>, edges);
  check<float, vm::sigmoid_op<float>>("sigmoid", ref_sigmoid<float>, edges);
}

BOOST_AUTO_TEST_CASE(sinh_cosh_and_softplus) {
  // cosh's switch at ln2 / 2, expm1's at 40 and its tiny cut, the <cmath>
  // fallback beyond 709 and sinh / cosh overflow (710.4758600739439),
  // softplus's threshold 20 and where e^x underflows
  const std::vector<double> edges = {0.34657359027997264, 0.3465, 40.0, 39.999, 0x1p-54, 0x1p-28, 709.0, 708.99,
                                     710.4758600739439, 710.47, 22.0, 20.0, 19.999999, 36.7, 745.0, 89.4, 88.7, 104.0};
  check<double, vm::sinh_op<double>>("sinh", [](double v) { return std::sinh(v); }, edges);
  check<float, vm::sinh_op<float>>("sinh", [](float v) { return std::sinh(v); }, edges);
  check<double, vm::cosh_op<double>>("cosh", [](double v) { return std::cosh(v); }, edges);
  check<float, vm::cosh_op<float>>("cosh", [](float v) { return std::cosh(v); }, edges);
  check<double, vm::softplus_op<double>>("softplus", ref_softplus<double>, edges);
  check<float, vm::softplus_op<float>>("softplus", ref_softplus<float>, edges);
}

BOOST_AUTO_TEST_CASE(atan) {
  // the reduction's switch points and where atan rounds to +-pi/2
  const std::vector<double> edges = {7.0 / 16, 11.0 / 16, 19.0 / 16, 39.0 / 16, 0.5, 1.0, 1.5, 0x1p-27, 1e-300,
                                     1e16, 1e300, 0x1p53, 0x1p54};
  check<double, vm::atan_op<double>>("atan", [](double v) { return std::atan(v); }, edges);
  check<float, vm::atan_op<float>>("atan", [](float v) { return std::atan(v); }, edges);
}

BOOST_AUTO_TEST_CASE(erf) {
  // the switch to the erfc form at 1, the pieces' ends, where erf rounds to
  // +-1 (5.92) and the clamp at 6, tiny and subnormal inputs
  std::vector<double> edges = {1.0, 0.9999999999, 1.5, 2.25, 3.5, 5.9, 5.92, 5.93, 6.0, 0x1p-27, 0x1p-54, 1e-300, 1e-310};
  for (int k = 1; k < 700; ++k) edges.push_back(k / 100.0);
  check<double, vm::erf_op<double>>("erf", [](double v) { return std::erf(v); }, edges, 1);
  check<float, vm::erf_op<float>>("erf", [](float v) { return std::erf(v); }, edges);
  BOOST_TEST(std::signbit(vm::erf_op<double>{}(-0.0)));
  BOOST_TEST(vm::erf_op<double>{}(-std::numeric_limits<double>::infinity()) == -1.0);
}

BOOST_AUTO_TEST_CASE(inverse_hyperbolic) {
  // glibc's asinh, acosh and atanh are up to 2 ulp off themselves, so the
  // reference is the long double function: ours are within about 1 ulp.
  // Edges: acosh's switches at 2 and 2^28, near 1 (where acosh and atanh
  // cancel or blow up), asinh's at 2^28, tiny and subnormal inputs.
  const std::vector<double> edges = {1.0, 1.0000000000000002, 1.0000001, 0.9999999999999999, 0.99999, 0.5, 2.0, 1.9999999,
                                     0x1p28, 0x1p28 + 64, 1e300, 0x1p-27, 0x1p-54, 1e-300, 1e-310, 1e-7, 0.125};
  const auto ld = [](long double (*f)(long double)) { return [f](double v) { return static_cast<double>(f(v)); }; };
  const auto ldf = [](long double (*f)(long double)) { return [f](float v) { return static_cast<float>(f(v)); }; };
  check<double, vm::atanh_op<double>>("atanh", ld(std::atanh), edges);
  check<float, vm::atanh_op<float>>("atanh", ldf(std::atanh), edges);
  check<double, vm::asinh_op<double>>("asinh", ld(std::asinh), edges);
  check<float, vm::asinh_op<float>>("asinh", ldf(std::asinh), edges);
  check<double, vm::acosh_op<double>>("acosh", ld(std::acosh), edges);
  check<float, vm::acosh_op<float>>("acosh", ldf(std::acosh), edges);
  BOOST_TEST(vm::atanh_op<double>{}(1.0) == std::numeric_limits<double>::infinity());
  BOOST_TEST(vm::atanh_op<double>{}(-1.0) == -std::numeric_limits<double>::infinity());
  BOOST_TEST(std::isnan(vm::atanh_op<double>{}(1.5)));
  BOOST_TEST(std::isnan(vm::acosh_op<double>{}(0.5)));
  BOOST_TEST(vm::acosh_op<double>{}(1.0) == 0.0);
  BOOST_TEST(std::signbit(vm::asinh_op<double>{}(-0.0)));
  BOOST_TEST(vm::asinh_op<double>{}(-std::numeric_limits<double>::infinity()) == -std::numeric_limits<double>::infinity());
}

BOOST_AUTO_TEST_CASE(asin_and_acos) {
  // the switch at 1/2, near +-1 (where the square root form takes over
  // entirely), outside [-1, 1], tiny and subnormal inputs
  std::vector<double> edges = {0.5, 0.4999999999, 1.0, 0.9999999999999999, 0.999999, 1.0000000000000002, 2.0,
                               0x1p-27, 0x1p-54, 1e-300, 1e-310};
  for (int k = 1; k < 1000; ++k) edges.push_back(k / 1000.0);
  check<double, vm::asin_op<double>>("asin", [](double v) { return std::asin(v); }, edges);
  check<float, vm::asin_op<float>>("asin", [](float v) { return std::asin(v); }, edges);
  check<double, vm::acos_op<double>>("acos", [](double v) { return std::acos(v); }, edges);
  check<float, vm::acos_op<float>>("acos", [](float v) { return std::acos(v); }, edges);
  BOOST_TEST(vm::acos_op<double>{}(1.0) == 0.0);
  BOOST_TEST(vm::acos_op<double>{}(-1.0) == std::acos(-1.0));
  BOOST_TEST(vm::asin_op<double>{}(-1.0) == -std::asin(1.0));
  BOOST_TEST(std::signbit(vm::asin_op<double>{}(-0.0)));
}

/// A value that is not an ordinary number for pow, atan2, hypot.
template <class T>
bool special_value(T v) {
  return v == 0 || !std::isfinite(v);
}

/// Op(a, b) over the pairs against f: through the packet kernel, an Eigen
/// expression and one element alone (all three the same bits; <cmath>'s
/// where the packet kernels do not run), the worst within 2 ulp of f, and
/// the pairs from `grid` on for which exact(a, b, f(a, b)) holds bit for bit
/// as f's (signs of zeros and NaN included).
template <class T, template <class> class Op, class Exact>
void check_pairs(const char* name, T (*f)(T, T), std::vector<T> a, std::vector<T> b, std::size_t grid, Exact exact) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
  using P = typename ei::packet_traits<T>::type;
  constexpr int n = ei::unpacket_traits<P>::size;
#pragma GCC diagnostic pop
  while (a.size() % 64) a.push_back(T(1.5)), b.push_back(T(0.5));
  std::vector<T> got(a.size());
  for (std::size_t i = 0; i < a.size(); i += n)
    ei::pstoreu(got.data() + i, Op<T>{}.packetOp(ei::ploadu<P>(a.data() + i), ei::ploadu<P>(b.data() + i)));
  using A = Eigen::Array<T, Eigen::Dynamic, 1>;
  Eigen::Map<const A> am(a.data(), static_cast<Eigen::Index>(a.size())), bm(b.data(), static_cast<Eigen::Index>(a.size()));
  const A ge = am.binaryExpr(bm, Op<T>{});
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const T want = f(a[i], b[i]);
    const double d = ulp_distance(got[i], want);
    if (d > worst) worst = d, at = i;
    if (i >= grid && exact(a[i], b[i], want)) {
      BOOST_TEST_INFO(name << "(" << a[i] << ", " << b[i] << ") = " << got[i] << ", <cmath>: " << want);
      BOOST_TEST(d == 0);
    }
    const T expected = vm::packet_kernels ? got[i] : want;
    BOOST_TEST_INFO(name << "(" << a[i] << ", " << b[i] << ") through an Eigen expression and alone");
    BOOST_TEST((ulp_distance(ge[static_cast<Eigen::Index>(i)], expected) == 0 && ulp_distance(Op<T>{}(a[i], b[i]), expected) == 0));
  }
  BOOST_TEST_INFO(name << (sizeof(T) == 8 ? " double" : " float") << ": worst " << worst << " ulp at (" << a[at] << ", "
                       << b[at] << ")");
  BOOST_TEST(worst <= 2);
}

/// Every pair of the values in `special` appended to (a, b); returns where
/// they start.
template <class T>
std::size_t append_grid(std::vector<T>& a, std::vector<T>& b, const std::vector<T>& special) {
  const std::size_t grid = a.size();
  for (T p : special)
    for (T q : special) a.push_back(p), b.push_back(q);
  return grid;
}

/// x^y over pairs where y log x spans the whole exponent range, x near 1 with
/// huge y, negative x with integer y, subnormal x, and every pair of special
/// values (zeros of both signs, +-1, infinities, NaN, odd and even integers,
/// 2^53): exactly <cmath>'s where an operand or the result is special or |x|
/// is 1.
template <class T>
void check_pow() {
  using L = std::numeric_limits<T>;
  std::vector<T> x, y;
  std::mt19937_64 gen(20261207);
  std::uniform_real_distribution<double> u(0, 1);
  const double top = sizeof(T) == 8 ? 1400 : 180;  // (log of the range of x)
  for (int i = 0; i < 300000; ++i) {
    double a, b;
    switch (i % 6) {
      case 0: a = 10 * u(gen), b = 40 * (u(gen) - 0.5); break;
      case 1: a = std::exp(top * (u(gen) - 0.5)), b = 4 * (u(gen) - 0.5); break;
      case 2: a = 1 + 2e-3 * (u(gen) - 0.5), b = 2e6 * (u(gen) - 0.5); break;
      case 3: a = -10 * u(gen), b = std::round(80 * (u(gen) - 0.5)); break;
      case 4: a = 3 * u(gen), b = top * (u(gen) - 0.5); break;
      default: a = 1e-300 * u(gen), b = 3 * (u(gen) - 0.5); break;
    }
    x.push_back(static_cast<T>(a)), y.push_back(static_cast<T>(b));
  }
  const std::size_t grid =
      append_grid(x, y, {T(0), T(-0.0), T(1), T(-1), T(2), T(-2), T(0.5), T(-0.5), T(3), T(-3), T(2.5), T(-2.5), L::infinity(),
                         -L::infinity(), L::quiet_NaN(), L::max(), L::min(), L::denorm_min(), -L::denorm_min(), T(0x1p53),
                         T(-0x1p53), T(1e-5), T(123.0)});
  check_pairs<T, vm::pow_op>("pow", [](T p, T q) { return std::pow(p, q); }, x, y, grid, [](T p, T q, T want) {
    return special_value(p) || special_value(q) || std::fabs(p) == 1 || special_value(want);
  });
}

BOOST_AUTO_TEST_CASE(pow) {
  check_pow<double>();
  check_pow<float>();
}

/// atan2 and hypot over pairs of both signs: uniform in [-20, 20]^2,
/// log-uniform over the whole range of the type (so one operand is often
/// 2^600 times the other), tiny and subnormal pairs, and every pair of
/// special values: exactly <cmath>'s where an operand is special.
template <class T, template <class> class Op>
void check_plane(const char* name, T (*f)(T, T)) {
  using L = std::numeric_limits<T>;
  std::vector<T> a, b;
  std::mt19937_64 gen(20261208);
  std::uniform_real_distribution<double> u(0, 1);
  const double lo = std::log(static_cast<double>(L::denorm_min())), hi = std::log(static_cast<double>(L::max()));
  const auto signed_log = [&] { return (u(gen) < 0.5 ? -1 : 1) * std::exp(lo + (hi - lo) * u(gen)); };
  for (int i = 0; i < 300000; ++i) {
    double p, q;
    switch (i % 3) {
      case 0: p = 40 * (u(gen) - 0.5), q = 40 * (u(gen) - 0.5); break;
      case 1: p = signed_log(), q = signed_log(); break;
      default: p = static_cast<double>(L::min()) * 64 * (u(gen) - 0.5), q = static_cast<double>(L::min()) * 64 * (u(gen) - 0.5); break;
    }
    a.push_back(static_cast<T>(p)), b.push_back(static_cast<T>(q));
  }
  const std::size_t grid = append_grid(a, b, {T(0), T(-0.0), T(1), T(-1), T(3), T(-3), L::infinity(), -L::infinity(), L::quiet_NaN(),
                                              L::max(), -L::max(), L::min(), L::denorm_min(), -L::denorm_min()});
  check_pairs<T, Op>(name, f, a, b, grid, [](T p, T q, T) { return special_value(p) || special_value(q); });
}

BOOST_AUTO_TEST_CASE(atan2_and_hypot) {
  check_plane<double, vm::atan2_op>("atan2", [](double p, double q) { return std::atan2(p, q); });
  check_plane<float, vm::atan2_op>("atan2", [](float p, float q) { return std::atan2(p, q); });
  check_plane<double, vm::hypot_op>("hypot", [](double p, double q) { return std::hypot(p, q); });
  check_plane<float, vm::hypot_op>("hypot", [](float p, float q) { return std::hypot(p, q); });
}

// One element alone (an unaligned head, a tail, a one-element tensor, the
// static one-lane pass) gives the bits it gets inside a packet, so a result
// never depends on where an array was allocated; a build without the packet
// kernels computes with <cmath> itself.
template <class T, template <class> class Op>
void same_alone_and_in_packets(T (*cmath)(T)) {
  std::vector<T> buf(1 + 257);
  for (int i = 0; i < 258; ++i) buf[i] = static_cast<T>(std::sin(0.37 * i) * 12);
  Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> aligned(buf.data(), 257), shifted(buf.data() + 1, 257);
  const Eigen::Array<T, Eigen::Dynamic, 1> a = aligned.unaryExpr(Op<T>{}), b = shifted.unaryExpr(Op<T>{});
  for (int i = 0; i < 257; ++i) {
    BOOST_TEST(Op<T>{}(buf[i]) == a[i]);
    if (i > 0) BOOST_TEST(a[i] == b[i - 1]);
    if (!vm::packet_kernels) BOOST_TEST(Op<T>{}(buf[i]) == cmath(buf[i]));
  }
}

BOOST_AUTO_TEST_CASE(an_element_alone_gets_the_bits_it_gets_in_a_packet) {
  same_alone_and_in_packets<double, vm::sin_op>([](double v) { return std::sin(v); });
  same_alone_and_in_packets<float, vm::exp_op>([](float v) { return std::exp(v); });
  same_alone_and_in_packets<double, vm::tanh_op>([](double v) { return std::tanh(v); });
  same_alone_and_in_packets<float, vm::tanh_op>([](float v) { return std::tanh(v); });
  same_alone_and_in_packets<double, vm::sigmoid_op>([](double v) { return vm::scalar_sigmoid(v); });
  same_alone_and_in_packets<double, vm::softplus_op>([](double v) { return metagrad::math::softplus(v); });
  same_alone_and_in_packets<float, vm::cosh_op>([](float v) { return std::cosh(v); });
  same_alone_and_in_packets<double, vm::erf_op>([](double v) { return std::erf(v); });
  same_alone_and_in_packets<double, vm::asinh_op>([](double v) { return std::asinh(v); });
  BOOST_TEST(vm::sigmoid_op<double>{}(-800.0) == 0.0);
  BOOST_TEST(vm::sigmoid_op<double>{}(800.0) == 1.0);
  BOOST_TEST(ulp_distance(vm::sigmoid_op<double>{}(-30.0), ref_sigmoid(-30.0)) <= 2);
}

BOOST_AUTO_TEST_SUITE_END()
