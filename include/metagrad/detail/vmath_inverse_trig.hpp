// metagrad/detail/vmath_inverse_trig.hpp — asin and acos as vector kernels
// for `double` and `float` packets (Eigen 3.4 computes both of `double` one
// element at a time).
//
// One polynomial serves both: asin t = t + t^3 P(t^2) for |t| <= 1/2, P of
// degree 12 fitted in 50-digit arithmetic (mpmath's chebyfit; below 2^-55
// absolute error on [0, 1/4]).
//   * |x| <= 1/2: asin x = x + x^3 P(x^2); acos x = pi/2 - asin x with pi/2 in
//     two parts and pi/2 - x by a two-sum.
//   * |x| > 1/2: with z = (1 - |x|) / 2 (exact) and s = sqrt z kept as s +
//     slo (one Newton step on the exact residual z - s^2):
//     asin |x| = pi/2 - 2 (s + slo + s^3 P(z)), acos x = 2 (s + slo + s^3 P(z))
//     for x > 0 and pi - 2 (...) for x < 0, each large difference by a
//     two-sum and everything small added before the one final rounding.
// Every product that feeds a sum is written as the fused or unfused operation
// it is meant to be (pmadd, pmul_unfused), so a lane's bits do not depend on
// the compiler's contraction. Against mpmath (100,000 and 140,000 random
// inputs) asin was 0.65 ulp off at worst and acos 0.62; the tests
// (tests/detail/test_vmath.cpp) compare with <cmath> over wide ranges.
// d/dx asin = 1 / sqrt(1 - x^2), acos' = -asin' (rules/elementwise.hpp).
#pragma once
#include "vmath.hpp"

namespace metagrad::vmath {
namespace coef {
// P(z) = (asin(sqrt z) - sqrt z) / z^(3/2), z in [0, 1/4]
inline constexpr double kAsin[] = {0.16666666666666669,  0.07499999999998433,  0.04464285714635543,  0.030381944138531247,
                                   0.02237217294214989,  0.017352392720869973, 0.013971212973552933, 0.011479177415184906,
                                   0.01032281435018578,  0.005457506718640358, 0.01740087944269402,  -0.014851887071247204,
                                   0.028757851367421566};
}  // namespace coef

/// The parts both kernels share: for each lane, whether |x| <= 1/2, the
/// polynomial's argument and value, and (for |x| > 1/2) s + slo = sqrt z.
template <class P>
struct AsinParts {
  P small, z, poly, s, slo;
  METAGRAD_INLINE explicit AsinParts(const P& x) {
    const P a = ei::pabs(x), half = ei::pset1<P>(0.5), zero = ei::pset1<P>(0.0);
    small = ei::pcmp_le(a, half);
    const P zl = ei::pmul(ei::psub(ei::pset1<P>(1.0), a), half);  // exact for |x| in [1/2, 1]
    z = ei::pselect(small, ei::pmul(x, x), zl);
    poly = estrin(z, coef::kAsin);
    s = ei::psqrt(zl);
    slo = ei::pselect(ei::pcmp_eq(s, zero), zero, ei::pdiv(ei::pmadd(ei::pnegate(s), s, zl), ei::padd(s, s)));
  }
  /// t + slo + t^3 P for t = s (the large lanes' slo) or x (pass slo = 0).
  METAGRAD_INLINE P asin_rest(const P& t, const P& lo) const { return ei::pmadd(pmul_unfused(z, t), poly, lo); }
};

/// hi - 2 s + (lo - 2 rest) in one final rounding (hi - 2 s by a two-sum).
template <class P>
METAGRAD_INLINE inline P minus_twice(double hi, double lo, const P& s, const P& rest) {
  P h, e;
  two_sum(ei::pset1<P>(hi), ei::pmul(ei::pset1<P>(-2.0), s), h, e);
  return ei::padd(h, ei::padd(e, ei::pmadd(ei::pset1<P>(-2.0), rest, ei::pset1<P>(lo))));
}

/// asin of double lanes. d/dx asin = 1 / sqrt(1 - x^2).
template <class P>
METAGRAD_INLINE inline P asin_pd(const P& x) {
  const AsinParts<P> q(x);
  const P near0 = ei::pmadd(pmul_unfused(q.z, x), q.poly, x);
  const P far = minus_twice(coef::kPio2Hi, coef::kPio2Lo, q.s, q.asin_rest(q.s, q.slo));
  return ei::por(ei::pselect(q.small, near0, far), ei::pand(x, ei::pset1<P>(-0.0)));  // (-0 kept)
}

/// acos of double lanes. d/dx acos = -1 / sqrt(1 - x^2).
template <class P>
METAGRAD_INLINE inline P acos_pd(const P& x) {
  const AsinParts<P> q(x);
  P h, e;
  two_sum(ei::pset1<P>(coef::kPio2Hi), ei::pnegate(x), h, e);
  const P near0 = ei::padd(h, ei::padd(e, ei::pmadd(ei::pnegate(pmul_unfused(q.z, x)), q.poly, ei::pset1<P>(coef::kPio2Lo))));
  const P rest = q.asin_rest(q.s, q.slo);
  const P pos = ei::pmul(ei::pset1<P>(2.0), ei::padd(q.s, rest));
  const P neg = minus_twice(coef::kPiHi, coef::kPiLo, q.s, rest);
  return ei::pselect(q.small, near0, ei::pselect(ei::pcmp_lt(x, ei::pset1<P>(0.0)), neg, pos));
}

// (float lanes: the double kernels on widened lanes)
METAGRAD_DETAIL_VMATH_OP_WIDENED(asin, std::asin)
METAGRAD_DETAIL_VMATH_OP_WIDENED(acos, std::acos)
}  // namespace metagrad::vmath

namespace Eigen::internal {
template <class S> struct functor_traits<::metagrad::vmath::asin_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::acos_op<S>> : vmath_traits<S> {};
}  // namespace Eigen::internal
