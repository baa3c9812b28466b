// metagrad/detail/cmath.hpp — constexpr elementary functions. In constant
// evaluation they use the range reductions and series below (within a few
// ulp of <cmath>); at run time they call <cmath> itself.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace metagrad::math {
namespace ce {

inline constexpr double kLn2Hi = 6.93147180369123816490e-01;
inline constexpr double kLn2Lo = 1.90821492927058770002e-10;
inline constexpr double kInvLn2 = 1.44269504088896338700e+00;
inline constexpr double kPio2_1 = 1.57079632673412561417e+00;
inline constexpr double kPio2_2 = 6.07710050630396597660e-11;
inline constexpr double kPio2_3 = 2.02226624871116645580e-21;
inline constexpr double kTwoOverPi = 6.36619772367581382433e-01;
inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr bool isnan(double x) { return x != x; }
constexpr double fabs(double x) { return x < 0 ? -x : (x == 0 ? 0.0 : x); }

constexpr double round_half_away(double x) {
  // |x| < 2^52 here: the cast is exact enough for reduction counts.
  return static_cast<double>(static_cast<std::int64_t>(x < 0 ? x - 0.5 : x + 0.5));
}

/// 2^k as a double, built from its bits (handles the subnormal range too).
constexpr double ldexp1(int k) {
  if (k > 1023) return kInf;
  if (k >= -1022) return std::bit_cast<double>(static_cast<std::uint64_t>(k + 1023) << 52);
  if (k < -1074) return 0.0;
  return std::bit_cast<double>(std::uint64_t{1} << (k + 1074));
}

constexpr double exp(double x) {
  if (isnan(x)) return x;
  if (x > 709.782712893384) return kInf;
  if (x < -745.1332191019412) return 0.0;
  const double k = round_half_away(x * kInvLn2);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ln2/2
  double term = 1.0, sum = 1.0;
  for (int i = 1; i < 24; ++i) {
    term *= r / i;
    sum += term;
  }
  const int ki = static_cast<int>(k);
  // split the scaling so that 2^ki never overflows before the product does
  return ki > 1000 ? sum * ldexp1(ki - 1000) * ldexp1(1000)
       : ki < -1000 ? sum * ldexp1(ki + 1000) * ldexp1(-1000)
                    : sum * ldexp1(ki);
}

constexpr double expm1(double x) {
  if (fabs(x) < 0.5) {
    double term = x, sum = x;
    for (int i = 2; i < 26; ++i) {
      term *= x / i;
      sum += term;
    }
    return sum;
  }
  return exp(x) - 1.0;
}

constexpr double log(double x) {
  if (isnan(x) || x < 0) return kNaN;
  if (x == 0) return -kInf;
  if (x == kInf) return kInf;
  int e = 0;
  while (x < 0x1p-1000) { x *= 0x1p100; e -= 100; }  // subnormals
  const auto bits = std::bit_cast<std::uint64_t>(x);
  e += static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  double m = std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  if (m > 1.4142135623730951) { m *= 0.5; ++e; }
  const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
  double term = s, sum = s;
  for (int i = 3; i < 40; i += 2) {
    term *= s2;
    sum += term / i;
  }
  return e * kLn2Hi + (2.0 * sum + e * kLn2Lo);
}

constexpr double sqrt(double x) {
  if (isnan(x) || x < 0) return kNaN;
  if (x == 0 || x == kInf) return x;
  // scale into [1, 4) by even powers of two, then Newton from a close guess
  double scale = 1.0;
  while (x >= 4.0) { x *= 0.25; scale *= 2.0; }
  while (x < 1.0) { x *= 4.0; scale *= 0.5; }
  double r = 0.5 * (x + 1.0);
  for (int i = 0; i < 8; ++i) r = 0.5 * (r + x / r);
  return r * scale;
}

/// x - k*pi/2 with k = nearest integer of x*2/pi (Cody–Waite, three parts).
struct Reduced { double r; int quadrant; };
constexpr Reduced reduce_pio2(double x) {
  const double k = round_half_away(x * kTwoOverPi);
  const double r = ((x - k * kPio2_1) - k * kPio2_2) - k * kPio2_3;
  const auto ki = static_cast<std::int64_t>(k);
  return {r, static_cast<int>(((ki % 4) + 4) % 4)};
}
constexpr double sin_poly(double r) {
  double term = r, sum = r;
  const double r2 = r * r;
  for (int i = 1; i < 14; ++i) {
    term *= -r2 / ((2 * i) * (2 * i + 1));
    sum += term;
  }
  return sum;
}
constexpr double cos_poly(double r) {
  double term = 1.0, sum = 1.0;
  const double r2 = r * r;
  for (int i = 1; i < 14; ++i) {
    term *= -r2 / ((2 * i - 1) * (2 * i));
    sum += term;
  }
  return sum;
}
constexpr double sin(double x) {
  if (isnan(x) || fabs(x) == kInf) return kNaN;
  const auto [r, q] = reduce_pio2(x);
  switch (q) {
    case 0: return sin_poly(r);
    case 1: return cos_poly(r);
    case 2: return -sin_poly(r);
    default: return -cos_poly(r);
  }
}
constexpr double cos(double x) {
  if (isnan(x) || fabs(x) == kInf) return kNaN;
  const auto [r, q] = reduce_pio2(x);
  switch (q) {
    case 0: return cos_poly(r);
    case 1: return -sin_poly(r);
    case 2: return -cos_poly(r);
    default: return sin_poly(r);
  }
}
constexpr double tan(double x) { return sin(x) / cos(x); }
constexpr double tanh(double x) {
  if (isnan(x)) return x;
  if (x > 22) return 1.0;
  if (x < -22) return -1.0;
  const double e = expm1(2 * x);
  return e / (e + 2.0);
}

}  // namespace ce

template <class T>
concept Real = std::is_floating_point_v<T>;

#define METAGRAD_CE_UNARY(NAME)                                      \
  template <Real T>                                                  \
  constexpr T NAME(T x) {                                            \
    if (std::is_constant_evaluated())                                \
      return static_cast<T>(ce::NAME(static_cast<double>(x)));       \
    return std::NAME(x);                                             \
  }
METAGRAD_CE_UNARY(exp)
METAGRAD_CE_UNARY(log)
METAGRAD_CE_UNARY(sqrt)
METAGRAD_CE_UNARY(sin)
METAGRAD_CE_UNARY(cos)
METAGRAD_CE_UNARY(tan)
METAGRAD_CE_UNARY(tanh)
#undef METAGRAD_CE_UNARY

template <Real T>
constexpr T abs(T x) { return x < 0 ? -x : (x == 0 ? T(0) : x); }
template <Real T>
constexpr T sign(T x) { return x > 0 ? T(1) : (x < 0 ? T(-1) : (x == x ? T(0) : x)); }
template <Real T>
constexpr T sigmoid(T x) { return T(1) / (T(1) + exp(-x)); }
template <Real T>
constexpr T relu(T x) { return x > 0 ? x : T(0); }
template <Real T>
constexpr T step(T x) { return x > 0 ? T(1) : T(0); }

/// x^n for an integer n, by repeated squaring (exact for small n).
template <Real T>
constexpr T ipow(T x, long long n) {
  if (n < 0) return T(1) / ipow(x, -n);
  T r = 1;
  while (n) {
    if (n & 1) r *= x;
    x *= x;
    n >>= 1;
  }
  return r;
}
template <Real T>
constexpr T pow(T x, T y) {
  // small integral exponents by multiplication (folds when y is a constant;
  // the range is checked before the cast: converting 3.8e14 to int is UB)
  if (y >= T(-16) && y <= T(16) && y == static_cast<T>(static_cast<int>(y))) return ipow(x, static_cast<int>(y));
  if (std::is_constant_evaluated()) {
    const double yd = static_cast<double>(y);
    if (yd == static_cast<double>(static_cast<long long>(yd)) && ce::fabs(yd) < 1e15)
      return ipow(x, static_cast<long long>(yd));
    return static_cast<T>(ce::exp(yd * ce::log(static_cast<double>(x))));
  }
  return std::pow(x, y);
}

}  // namespace metagrad::math
