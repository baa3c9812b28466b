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


inline constexpr double kPi = 3.14159265358979311600e+00;
inline constexpr double kPio2 = 1.57079632679489655800e+00;
inline constexpr double kPio4 = 7.85398163397448278999e-01;
inline constexpr double kLn2 = 6.93147180559945286227e-01;
inline constexpr double kLn10 = 2.30258509299404590109e+00;
inline constexpr double kTwoOverSqrtPi = 1.12837916709551255856e+00;

/// log(1 + x): 2 atanh(x / (2 + x)) by its series near 0, log otherwise.
constexpr double log1p(double x) {
  if (isnan(x) || x < -1) return kNaN;
  if (x == -1) return -kInf;
  if (fabs(x) >= 0.5) return log(1.0 + x);
  const double s = x / (2.0 + x), s2 = s * s;
  double term = s, sum = s;
  for (int i = 3; i < 60; i += 2) {
    term *= s2;
    sum += term / i;
  }
  return 2.0 * sum;
}
/// atan by reduction to |x| <= tan(pi/8) (1/x, then (x-1)/(x+1)) and its series.
constexpr double atan(double x) {
  if (isnan(x)) return x;
  const bool neg = x < 0;
  if (neg) x = -x;
  const bool inv = x > 1;
  if (inv) x = 1.0 / x;
  double offset = 0;
  if (x > 0.41421356237309503) {
    offset = kPio4;
    x = (x - 1.0) / (x + 1.0);
  }
  const double x2 = x * x;
  double term = x, sum = x;
  for (int i = 3; i < 64; i += 2) {
    term *= -x2;
    sum += term / i;
  }
  double r = offset + sum;
  if (inv) r = kPio2 - r;
  return neg ? -r : r;
}
constexpr double asin(double x) {
  if (isnan(x) || fabs(x) > 1) return kNaN;
  if (fabs(x) == 1) return x * kPio2;
  return atan(x / sqrt((1.0 - x) * (1.0 + x)));
}
constexpr double acos(double x) {
  if (isnan(x) || fabs(x) > 1) return kNaN;
  if (x == -1) return kPi;
  return 2.0 * atan(sqrt((1.0 - x) / (1.0 + x)));
}
constexpr double sinh(double x) {
  if (isnan(x)) return x;
  if (fabs(x) < 1) {
    const double x2 = x * x;
    double term = x, sum = x;
    for (int i = 1; i < 20; ++i) {
      term *= x2 / ((2 * i) * (2 * i + 1));
      sum += term;
    }
    return sum;
  }
  if (fabs(x) > 710) return x > 0 ? kInf : -kInf;
  const double e = exp(fabs(x) - kLn2);  // e^|x| / 2, finite up to |x| = 710
  const double r = e - 0.25 / e;
  return x < 0 ? -r : r;
}
constexpr double cosh(double x) {
  if (isnan(x)) return x;
  if (fabs(x) > 710) return kInf;
  const double e = exp(fabs(x) - kLn2);
  return e + 0.25 / e;
}
constexpr double asinh(double x) {
  if (isnan(x) || fabs(x) == kInf) return x;
  const double a = fabs(x);
  const double r = a > 1e8 ? log(a) + kLn2 : log1p(a + a * a / (1.0 + sqrt(1.0 + a * a)));
  return x < 0 ? -r : r;
}
constexpr double acosh(double x) {
  if (isnan(x) || x < 1) return kNaN;
  if (x == kInf) return x;
  if (x > 1e8) return log(x) + kLn2;
  const double t = x - 1.0;
  return log1p(t + sqrt(2.0 * t + t * t));
}
constexpr double atanh(double x) {
  if (isnan(x) || fabs(x) > 1) return kNaN;
  if (fabs(x) == 1) return x * kInf;
  return 0.5 * log1p(2.0 * x / (1.0 - x));
}
/// erfc for x >= 0.5: its continued fraction, evaluated from the back.
constexpr double erfc_cf(double x) {
  double f = x;
  for (int k = 400; k >= 1; --k) f = x + (k * 0.5) / f;
  return exp(-x * x) / (f * 1.77245385090551602730);
}
/// erf for |x| < 3: 2/sqrt(pi) e^(-x^2) sum 2^n x^(2n+1) / (1 3 ... (2n+1)),
/// a series of positive terms (no cancellation).
constexpr double erf_series(double x) {
  const double x2 = x * x;
  double term = x, sum = x;
  for (int n = 1; n < 200; ++n) {
    term *= 2.0 * x2 / (2 * n + 1);
    sum += term;
    if (fabs(term) < fabs(sum) * 1e-18) break;
  }
  return kTwoOverSqrtPi * exp(-x2) * sum;
}
constexpr double erf(double x) {
  if (isnan(x)) return x;
  if (fabs(x) < 3) return erf_series(x);
  const double r = 1.0 - erfc_cf(fabs(x));
  return x < 0 ? -r : r;
}
constexpr double erfc(double x) {
  if (isnan(x)) return x;
  if (x < 0.5) return 1.0 - erf(x);
  if (x > 27.3) return 0.0;
  return erfc_cf(x);
}
constexpr double exp2(double x) {
  if (isnan(x)) return x;
  if (x > 1024) return kInf;
  if (x < -1075) return 0.0;
  const double k = round_half_away(x);
  return exp((x - k) * kLn2) * ldexp1(static_cast<int>(k));
}
constexpr double log2(double x) { return log(x) / kLn2; }
constexpr double log10(double x) { return log(x) / kLn10; }
/// floor, ceil and round half to even (PyTorch's round) for finite |x| < 2^52.
constexpr double floor(double x) {
  if (isnan(x) || fabs(x) >= 4503599627370496.0) return x;
  const double t = static_cast<double>(static_cast<std::int64_t>(x));
  return t > x ? t - 1.0 : t;
}
constexpr double ceil(double x) { return -floor(-x); }
constexpr double nearbyint(double x) {
  if (isnan(x) || fabs(x) >= 4503599627370496.0) return x;
  const double f = floor(x), d = x - f;
  if (d > 0.5) return f + 1.0;
  if (d < 0.5) return f;
  return static_cast<std::int64_t>(f) % 2 == 0 ? f : f + 1.0;
}

// The gamma family. Shifted up by the recurrences (Gamma(x + 1) = x Gamma(x),
// psi(x + 1) = psi(x) + 1/x, psi^(n)(x + 1) = psi^(n)(x) + (-1)^n n! / x^(n+1),
// valid for every x that is not a pole) until the asymptotic series is
// accurate, then summed: absolute error a few 1e-15 (relative near the zeros
// of lgamma at 1 and 2 and of digamma at 1.4616 it is larger).
// Poles and infinities as PyTorch: lgamma(pole) = inf, digamma(0) = -inf and
// NaN at the negative integers, polygamma(n, pole) = +inf (n odd) / -inf.
constexpr bool is_pole(double x) { return x <= 0 && floor(x) == x; }
constexpr double lgamma(double x) {
  if (isnan(x)) return x;
  if (x == kInf || x == -kInf || is_pole(x)) return kInf;
  double z = x, prod = 1, logs = 0;
  while (z < 15) {  // log|x (x+1) ... (z-1)|, as a product while it stays finite
    prod *= z;
    z += 1;
    if (fabs(prod) > 1e280 || fabs(prod) < 1e-280) logs += log(fabs(prod)), prod = 1;
  }
  const double r = 1 / z, r2 = r * r;
  const double series =
      r * (1.0 / 12 + r2 * (-1.0 / 360 + r2 * (1.0 / 1260 + r2 * (-1.0 / 1680 + r2 * (1.0 / 1188 + r2 * (-691.0 / 360360 + r2 / 156))))));
  return (z - 0.5) * log(z) - z + 0.91893853320467274178 + series - (logs + log(fabs(prod)));
}
constexpr double digamma(double x) {
  if (isnan(x) || x == kInf) return x;
  if (x == 0) return -kInf;
  if (x == -kInf || is_pole(x)) return kNaN;
  double z = x, acc = 0;
  while (z < 15) acc -= 1 / z, z += 1;
  const double r2 = 1 / (z * z);
  const double series =
      r2 * (1.0 / 12 - r2 * (1.0 / 120 - r2 * (1.0 / 252 - r2 * (1.0 / 240 - r2 * (1.0 / 132 - r2 * (691.0 / 32760 - r2 / 12))))));
  return acc + log(z) - 0.5 / z - series;
}
/// psi^(n)(x), the n-th derivative of digamma (n >= 1).
constexpr double polygamma(int n, double x) {
  if (isnan(x)) return x;
  if (x == kInf) return 0;
  if (x == -kInf) return kNaN;
  if (is_pole(x)) return n % 2 ? kInf : -kInf;
  double fact = 1;  // n!
  for (int k = 2; k <= n; ++k) fact *= k;
  const double sign = n % 2 ? 1 : -1;  // (-1)^(n+1)
  double z = x, acc = 0;
  const double z0 = 20 + n;
  while (z < z0) {
    double p = z;
    for (int k = 0; k < n; ++k) p *= z;  // z^(n+1)
    acc += 1 / p;
    z += 1;
  }
  // (n-1)!/z^n + n!/(2 z^(n+1)) + sum_k B_2k (2k+n-1)! / ((2k)! z^(2k+n))
  constexpr double b2k[] = {1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6, -3617.0 / 510};
  double zn = 1;
  for (int k = 0; k < n; ++k) zn *= z;  // z^n
  double tail = (fact / n) / zn + fact / (2 * zn * z);
  double num = fact / n, den = 1, zp = zn;  // (2k+n-1)!, (2k)!, z^(2k+n)
  for (int k = 1; k <= 8; ++k) {
    num *= (2 * k + n - 2) * (2 * k + n - 1);
    den *= (2 * k - 1) * (2 * k);
    zp *= z * z;
    tail += b2k[k - 1] * num / (den * zp);
  }
  return sign * (fact * acc + tail);
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
METAGRAD_CE_UNARY(log1p)
METAGRAD_CE_UNARY(expm1)
METAGRAD_CE_UNARY(atan)
METAGRAD_CE_UNARY(asin)
METAGRAD_CE_UNARY(acos)
METAGRAD_CE_UNARY(sinh)
METAGRAD_CE_UNARY(cosh)
METAGRAD_CE_UNARY(asinh)
METAGRAD_CE_UNARY(acosh)
METAGRAD_CE_UNARY(atanh)
METAGRAD_CE_UNARY(erf)
METAGRAD_CE_UNARY(erfc)
METAGRAD_CE_UNARY(exp2)
METAGRAD_CE_UNARY(log2)
METAGRAD_CE_UNARY(log10)
METAGRAD_CE_UNARY(floor)
METAGRAD_CE_UNARY(ceil)
METAGRAD_CE_UNARY(nearbyint)
METAGRAD_CE_UNARY(lgamma)
#undef METAGRAD_CE_UNARY
/// digamma (psi) and its n-th derivative: no <cmath> form, the same code at
/// compile time and at run time.
template <Real T>
constexpr T digamma(T x) { return static_cast<T>(ce::digamma(static_cast<double>(x))); }
template <int N, Real T>
constexpr T polygamma_n(T x) { return static_cast<T>(ce::polygamma(N, static_cast<double>(x))); }
template <Real T>
constexpr T polygamma(int n, T x) {
  return static_cast<T>(n == 0 ? ce::digamma(static_cast<double>(x)) : ce::polygamma(n, static_cast<double>(x)));
}

/// log(1 + e^x), as torch.nn.functional.softplus (beta 1, threshold 20: x
/// itself above it).
template <Real T>
constexpr T softplus(T x) {
  if (x > T(20)) return x;
  return (x > T(0) ? x : T(0)) + log1p(exp(x > T(0) ? -x : x));
}
/// The smaller / larger of a and b; a NaN wins, and of equal values b (so
/// maximum(0, -0) = -0: torch.minimum, torch.maximum).
template <Real T>
constexpr T minimum(T a, T b) { return a != a ? a : (b != b ? b : (a < b ? a : b)); }
template <Real T>
constexpr T maximum(T a, T b) { return a != a ? a : (b != b ? b : (a > b ? a : b)); }
template <Real T>
constexpr T square(T x) { return x * x; }
template <Real T>
constexpr T rsqrt(T x) { return T(1) / sqrt(x); }
/// Round half to even, as torch.round.
template <Real T>
constexpr T round(T x) { return nearbyint(x); }
template <Real T>
constexpr T atan2(T y, T x) {
  if (std::is_constant_evaluated()) {
    const double a = static_cast<double>(y), b = static_cast<double>(x);
    if (ce::isnan(a) || ce::isnan(b)) return static_cast<T>(ce::kNaN);
    if (b > 0) return static_cast<T>(ce::atan(a / b));
    if (b < 0) return static_cast<T>(a < 0 || (a == 0 && std::bit_cast<std::uint64_t>(a) >> 63) ? ce::atan(a / b) - ce::kPi
                                                                                                 : ce::atan(a / b) + ce::kPi);
    return static_cast<T>(a > 0 ? ce::kPio2 : a < 0 ? -ce::kPio2 : 0.0);
  }
  return std::atan2(y, x);
}
template <Real T>
constexpr T hypot(T a, T b) {
  if (std::is_constant_evaluated()) return sqrt(a * a + b * b);
  return std::hypot(a, b);
}

template <Real T>
constexpr T abs(T x) { return x < 0 ? -x : (x == 0 ? T(0) : x); }
template <Real T>
constexpr T sign(T x) { return x > 0 ? T(1) : (x < 0 ? T(-1) : T(0)); }  // 0 at NaN, as torch.sign
template <Real T>
constexpr T sigmoid(T x) { return T(1) / (T(1) + exp(-x)); }
template <Real T>
constexpr T relu(T x) { return x < 0 ? T(0) : x; }  // (-0 and NaN kept, as torch.relu)

/// The rows an integer tensor keeps its type through (as in PyTorch; no
/// gradient: an integer tensor never requires one).
template <class T>
concept Integer = std::is_integral_v<T> && !std::is_same_v<T, bool>;
template <Integer T>
constexpr T abs(T x) { return x < 0 ? T(-x) : x; }
template <Integer T>
constexpr T sign(T x) { return T((x > 0) - (x < 0)); }
template <Integer T>
constexpr T relu(T x) { return x < 0 ? T(0) : x; }
template <Integer T>
constexpr T square(T x) { return T(x * x); }
template <Integer T>
constexpr T minimum(T a, T b) { return a < b ? a : b; }
template <Integer T>
constexpr T maximum(T a, T b) { return a > b ? a : b; }
/// x^n of integers, as PyTorch's integer pow: by repeated squaring, wrapping
/// as int64 arithmetic does; a negative n gives 1 / x^-n truncated (0 unless
/// x is 1 or -1). (A negative scalar exponent is refused before, by the op.)
template <Integer T, Integer N>
constexpr T pow(T x, N n) {
  if (n < 0) return x == 1 ? T(1) : x == -1 ? T(n % 2 ? -1 : 1) : T(0);
  using U = std::make_unsigned_t<T>;
  U r = 1, b = static_cast<U>(x);
  for (auto k = static_cast<std::make_unsigned_t<N>>(n); k; k >>= 1, b *= b)
    if (k & 1) r *= b;
  return static_cast<T>(r);
}

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
  // (as PyTorch: x^0.5 is sqrt, x^-0.5 is 1 / sqrt, which differ from pow at
  // -0 and -inf: sqrt(-0) = -0, sqrt(-inf) = NaN)
  if (y == T(0.5)) return std::sqrt(x);
  if (y == T(-0.5)) return T(1) / std::sqrt(x);
  return std::pow(x, y);
}

}  // namespace metagrad::math
