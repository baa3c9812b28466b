// metagrad/detail/vmath_atan2_hypot.hpp — atan2 and hypot, the two functions
// of a point of the plane (its angle and its distance from the origin), as
// vector kernels for `double` and `float` packets (Eigen 3.4 has neither: the
// derivative table called <cmath> one element at a time).
//
//   * atan2(y, x): q = min(|x|, |y|) / max(|x|, |y|) in [0, 1], atan q by
//     atan's kernel with q's rounding error put back (the remainder by a
//     fused multiply-add, over d (1 + q^2)); then c + atan q or c - atan q,
//     c = pi/2 where |y| > |x|, pi where x has its sign bit set (-0
//     included), and pi/2 again for both (pi - (pi/2 - atan q)), each c in
//     two parts and one sum; the sign of y. Both zero or both infinite by
//     select (0 or pi/4 before the same steps, as C99), NaN from a NaN.
//   * hypot(x, y): both scaled by 2^-k, k the exponent of the larger (exact
//     unless the smaller leaves the range, where it no longer counts), so
//     the larger is in [1, 2); the sum of squares kept as s + slo (each
//     square's rounding error by a fused multiply-add), h = sqrt(s)
//     corrected by one Newton step on the exact residual s - h^2 (plus slo),
//     then scaled back. +inf if either is infinite (even with a NaN, as C99
//     and torch.hypot), NaN from a NaN otherwise. A packet whose lanes'
//     |x| + |y| all lie in [2^-500, 2^500] skips the scaling and the special
//     cases.
// `float` lanes widen to `double`; without fused multiply-add (see
// packet_kernels) hypot's lanes go to <cmath>.
// d/dy atan2 = x / (x^2 + y^2), d/dx atan2 = -y / (x^2 + y^2);
// d/dx hypot = x / hypot, d/dy hypot = y / hypot (rules/elementwise.hpp).
#pragma once
#include "vmath.hpp"

namespace metagrad::vmath {

/// atan2 of double lanes (see the banner).
template <class P>
METAGRAD_INLINE inline P atan2_pd(const P& y, const P& x) {
  const P ax = ei::pabs(x), ay = ei::pabs(y);
  const P zero = ei::pset1<P>(0.0), inf = ei::pset1<P>(std::numeric_limits<double>::infinity());
  const P steep = ei::pcmp_lt(ax, ay);
  const P n = ei::pselect(steep, ax, ay), d = ei::pselect(steep, ay, ax);
  const P q = ei::pdiv(n, d);
  const P qlo = ei::pdiv(ei::pmadd(ei::pnegate(q), d, n), d);  // n/d - q: the remainder (exact) over d
  const P corr = ei::pdiv(qlo, ei::pmadd(q, q, ei::pset1<P>(1.0)));
  P r = atan_kernel<P, true>(q, ei::pselect(ei::pcmp_eq(corr, corr), corr, zero));  // (NaN where d is 0 or inf)
  r = ei::pselect(ei::pcmp_eq(d, zero), zero, r);                                             // 0/0
  r = ei::pselect(ei::pcmp_eq(n, inf), ei::pset1<P>(coef::kAtanHi[1]), r);                    // inf/inf: pi/4
  // r itself; pi/2 - r where |y| > |x|; pi - r where x is negative (-0
  // included); pi/2 + r for both (pi - (pi/2 - r)): c +- r, c in two parts,
  // one sum
  const P sign_x = ei::por(ei::pand(x, ei::pset1<P>(-0.0)), ei::pset1<P>(1.0));  // +-1
  const P negative = ei::pcmp_lt(sign_x, zero);
  const P c_hi = ei::pselect(steep, ei::pset1<P>(coef::kPio2Hi), ei::pselect(negative, ei::pset1<P>(coef::kPiHi), zero));
  const P c_lo = ei::pselect(steep, ei::pset1<P>(coef::kPio2Lo), ei::pselect(negative, ei::pset1<P>(coef::kPiLo), zero));
  const P minus = ei::pxor(steep, negative);  // (masks: one of the two)
  r = ei::padd(ei::padd(c_hi, ei::pselect(minus, ei::pnegate(r), r)), c_lo);
  r = ei::por(ei::pabs(r), ei::pand(y, ei::pset1<P>(-0.0)));  // the sign of y
  return ei::pselect(ei::pand(ei::pcmp_eq(x, x), ei::pcmp_eq(y, y)), r, ei::padd(x, y));
}

#if METAGRAD_VECTOR_EXTENSIONS
/// sqrt(b^2 + s^2) for b >= s >= 0 whose squares neither overflow nor
/// matter where they underflow: the sum of squares as sum + sum_lo (each
/// square's rounding error by a fused multiply-add), h = sqrt(sum) corrected
/// by one Newton step on the exact residual.
template <class P>
METAGRAD_INLINE inline P root_of_squares(const P& b, const P& s) {
  const P bb = pmul_unfused(b, b), ss = pmul_unfused(s, s);
  const P bb_lo = ei::pmadd(b, b, ei::pnegate(bb)), ss_lo = ei::pmadd(s, s, ei::pnegate(ss));
  P sum, sum_lo;
  fast_two_sum(bb, ss, sum, sum_lo);
  const P h = ei::psqrt(sum);
  const P residual = ei::padd(ei::pmadd(ei::pnegate(h), h, sum), ei::padd(sum_lo, ei::padd(bb_lo, ss_lo)));
  return ei::padd(h, ei::pdiv(residual, ei::padd(h, h)));
}
#endif
/// hypot of double lanes (see the banner).
template <class P>
METAGRAD_INLINE inline P hypot_pd(const P& x, const P& y) {
#if METAGRAD_VECTOR_EXTENSIONS
  if constexpr (hi_lo_kernels<P> && packet_kernels) {
    const P ax = ei::pabs(x), ay = ei::pabs(y), one = ei::pset1<P>(1.0);
    const P inf = ei::pset1<P>(std::numeric_limits<double>::infinity());
    P big = ei::pmax(ax, ay), small = ei::pmin(ax, ay);
    // A packet whose lanes' |x| + |y| all lie in [2^-500, 2^500] (nearly
    // every one; none is NaN or infinite then) needs no scaling and no
    // special case: no square overflows, and a square (or rounding error)
    // that underflows is below 2^-70 of the sum
    const P both = ei::padd(ax, ay);  // (NaN from a NaN: pmax and pmin may drop one)
    if (!any_lane(ei::por(ei::pcmp_lt_or_nan(both, ei::pset1<P>(0x1p-500)), ei::pcmp_lt(ei::pset1<P>(0x1p500), both)))) {
      return root_of_squares(big, small);
    }
    // first by 2^600 or 2^-600 (exact) if the larger is below 2^-1000 or
    // above 2^1000, then to [sqrt(1/2), sqrt(2)) by 2^-e from its bits
    const P tiny = ei::pcmp_lt(big, ei::pset1<P>(0x1p-1000)), huge = ei::pcmp_lt(ei::pset1<P>(0x1p1000), big);
    const P pre = ei::pselect(tiny, ei::pset1<P>(0x1p600), ei::pselect(huge, ei::pset1<P>(0x1p-600), one));
    const P pre_e = ei::pselect(tiny, ei::pset1<P>(-600.0), ei::pselect(huge, ei::pset1<P>(600.0), ei::pset1<P>(0.0)));
    P e, f;
    log_reduce(ei::pmul(big, pre), e, f);  // (garbage at 0, inf, NaN: selected away below)
    const P b = ei::padd(f, one), s = ei::pmul(ei::pmul(small, pre), exp2i(ei::pnegate(e)));
    P v = ldexp_wide(root_of_squares(b, s), ei::padd(e, pre_e));
    v = ei::pselect(ei::pcmp_eq(big, ei::pset1<P>(0.0)), ei::pset1<P>(0.0), v);
    v = ei::pselect(ei::pand(ei::pcmp_eq(x, x), ei::pcmp_eq(y, y)), v, ei::padd(x, y));
    return ei::pselect(ei::por(ei::pcmp_eq(ax, inf), ei::pcmp_eq(ay, inf)), inf, v);
  } else
#endif
  {
    return per_lane(x, y, [](double a, double b) { return std::hypot(a, b); });
  }
}

METAGRAD_DETAIL_VMATH_BINARY_OP(atan2, std::atan2)
METAGRAD_DETAIL_VMATH_BINARY_OP(hypot, std::hypot)
}  // namespace metagrad::vmath

namespace Eigen::internal {
template <class S> struct functor_traits<::metagrad::vmath::atan2_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::hypot_op<S>> : vmath_traits<S> {};
}  // namespace Eigen::internal
