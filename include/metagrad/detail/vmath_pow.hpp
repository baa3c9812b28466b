// metagrad/detail/vmath_pow.hpp — x^y as a vector kernel for `double` and
// `float` packets (Eigen 3.4's packet pow took twice <cmath>'s time, so the
// derivative table computed every power that is not a small integer or a
// half one element at a time with <cmath>).
//
//   |x|^y = e^(y log|x|), with
//   * log|x| as hi + lo within about 2^-68 (log_table_hi_lo: a 24-row table
//     leaves a remainder below 2^-5 for a short series);
//   * y log|x| as t + tlo: t rounded, tlo its rounding error (one fused
//     multiply-add) plus y lo;
//   * e^(t + tlo) = 2^k e^(r + rlo), t - k ln 2 = r + rlo as exp reduces it
//     with tlo added to the low part, e^(r + rlo) as 1 + r exactly plus the
//     rest of the series, rounded once (exp_reduced).
//   An absolute error d in t is a relative error d in the result; |t| < 746
//   wherever the result is finite and not zero, and the error of t is below
//   746 2^-68 = 2^-58.5, a fortieth of an ulp; e^(r + rlo) is within 0.52
//   ulp.
//   Special values by select, as C99's Annex F (and so PyTorch) has them:
//   x^0 = 1 and 1^y = 1 (NaN included), (-1)^(+-inf) = 1, NaN otherwise from
//   a NaN operand; 0^y and inf^y by the sign of y; a negative x with an odd
//   integer y gives the sign of x (-0 included), with a finite non-integer y
//   NaN. A packet with a subnormal |x| lane goes to <cmath>, and so does
//   every packet without fused multiply-add (packet_kernels), which the
//   exact products and remainders above need.
// `float` lanes widen to `double` (the product y log|x| then has 29 bits to
// spare, and the result is rounded once more to float).
// d/dx x^y = y x^(y-1), d/dy x^y = x^y log x (rules/pow.hpp).
#pragma once
#include "vmath.hpp"

namespace metagrad::vmath {

namespace coef {
/// log's table for pow, by columns: row j for m - 1 in [i/32, (i + 1)/32),
/// i = j - 10 (24 rows, padded to 32 for two-register permutes): c = 1/(1 +
/// (i + 1/2)/32) rounded, and c = 1 for the two rows around 1 (i = -1, 0),
/// where log x is then computed relative to itself; -log c to 60 digits by
/// mpmath, rounded to hi, the rest rounded to lo.
inline constexpr int kLogRowOffset = 10, kLogRows = 24;
inline constexpr double kLogC[32] = {
    1.4222222222222223, 1.3617021276595744, 1.3061224489795917, 1.2549019607843137,
    1.2075471698113207, 1.1636363636363636, 1.1228070175438596, 1.0847457627118644,
    1.0491803278688525, 1.0, 1.0, 0.9552238805970149,
    0.927536231884058, 0.9014084507042254, 0.8767123287671232, 0.8533333333333334,
    0.8311688311688312, 0.810126582278481, 0.7901234567901234, 0.7710843373493976,
    0.7529411764705882, 0.735632183908046, 0.7191011235955056, 0.7032967032967034,
    0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0};
inline constexpr double kLogCHi[32] = {
    -0.35222059358935215, -0.30873548164961323, -0.26706278524904514, -0.22705745063534608,
    -0.18859116980754997, -0.15154989812720088, -0.11583181552512165, -0.0813456394539524,
    -0.04800921918636066, 0.0, 0.0, 0.04580953603129422,
    0.07522342123758752, 0.10379679368164355, 0.13157635778871932, 0.15860503017663852,
    0.18492233849401193, 0.21056476910734964, 0.23556607131276697, 0.259957524436926,
    0.2837681731306446, 0.3070250352949119, 0.32975328637246804, 0.3519764231571781,
    0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0};
inline constexpr double kLogCLo[32] = {
    1.1623903064849822e-17, -1.5025836482434425e-17, -2.3896107240262357e-17, 4.326372045075968e-18,
    -9.915070540571144e-18, -1.2105853272368787e-17, -4.3384843698080944e-18, -1.6076294039775555e-18,
    2.030356617224395e-18, 0.0, 0.0, 1.6823639049745016e-19,
    -4.195880720316434e-18, -3.195893222617445e-18, 1.112300087972959e-17, 2.583386492298558e-18,
    -7.384679440503435e-18, 1.136310596906137e-17, -2.394337149518734e-18, 2.4167516341742964e-17,
    -6.448868003452105e-18, 1.5578716077124932e-18, -2.5633554999431966e-17, 2.0005853013367377e-17,
    0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0};
/// log1p(r) - r + r^2/2 = r^3 (1/3 - r/4 + ... - r^9/12): Taylor's
/// coefficients; the rest is below 2^-71 for |r| <= 2^-5.49 (every row
/// with c != 1) and 2^-68 relative to r for |r| <= 2^-5 (c = 1).
inline constexpr double kLog1pTail[] = {1.0 / 3, -1.0 / 4, 1.0 / 5, -1.0 / 6, 1.0 / 7,
                                        -1.0 / 8, 1.0 / 9, -1.0 / 10, 1.0 / 11, -1.0 / 12};
}  // namespace coef

/// The rows of the log table at lanes `row` (integral values in [0,
/// kLogRows)), its three columns: by two-register permutes on AVX-512 (its
/// gathers took longer than the rest of pow), by gathers on AVX2, else lane
/// by lane.
template <class P>
METAGRAD_INLINE inline void log_rows(const P& row, P& c, P& hi, P& lo) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<P, __m512d>) {
    const __m512i j = _mm512_castpd_si512(_mm512_add_pd(row, _mm512_set1_pd(0x1p52)));  // (row in the low bits)
    const __mmask8 upper = _mm512_cmp_pd_mask(row, _mm512_set1_pd(16.0), _CMP_GE_OQ);
    const auto column = [&](const double* t) METAGRAD_INLINE {
      const __m512d low = _mm512_permutex2var_pd(_mm512_loadu_pd(t), j, _mm512_loadu_pd(t + 8));
      const __m512d high = _mm512_permutex2var_pd(_mm512_loadu_pd(t + 16), j, _mm512_loadu_pd(t + 24));
      return _mm512_mask_blend_pd(upper, low, high);
    };
    c = column(coef::kLogC), hi = column(coef::kLogCHi), lo = column(coef::kLogCLo);
    return;
  }
#endif
#if defined(__AVX2__)
  if constexpr (std::is_same_v<P, __m256d>) {
    // (the masked form with a defined source: g++ 12 warns that the plain
    // one's undefined source may be used uninitialized)
    const __m128i j = _mm256_cvttpd_epi32(row);
    const __m256d zero = _mm256_setzero_pd(), all = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
    c = _mm256_mask_i32gather_pd(zero, coef::kLogC, j, all, 8), hi = _mm256_mask_i32gather_pd(zero, coef::kLogCHi, j, all, 8);
    lo = _mm256_mask_i32gather_pd(zero, coef::kLogCLo, j, all, 8);
    return;
  }
#endif
#pragma GCC diagnostic pop
  constexpr int n = ei::unpacket_traits<P>::size;
  alignas(64) double rv[n], cv[n], hv[n], lv[n];
  ei::pstoreu(rv, row);
  for (int i = 0; i < n; ++i) {
    const int k = static_cast<int>(rv[i]);
    cv[i] = coef::kLogC[k], hv[i] = coef::kLogCHi[k], lv[i] = coef::kLogCLo[k];
  }
  c = ei::ploadu<P>(cv), hi = ei::ploadu<P>(hv), lo = ei::ploadu<P>(lv);
}

#if METAGRAD_VECTOR_EXTENSIONS
/// log x as hi + lo, lo below an ulp of hi, within about 2^-68 of log x
/// absolutely and relatively near x = 1, for positive, normal, finite double
/// lanes (other lanes give a finite garbage value): x = 2^e m, m in
/// [sqrt(1/2), sqrt(2)) (log_reduce); a row of the table picked by m - 1;
/// r + rlo = m c - 1 exactly (|r| <= 2^-5); log x = e ln 2 - log c + r - r^2/2
/// + r^3 P(r) + rlo (1 - r), summed with every rounding error of the large
/// terms kept. (log_hi_lo's 2^-57 made x^y 34 ulp off at y log x = -580.)
template <class P>
METAGRAD_INLINE inline void log_table_hi_lo(const P& x, P& hi, P& lo) {
  P e, f;
  log_reduce(x, e, f);
  const P inf = ei::pset1<P>(std::numeric_limits<double>::infinity());
  f = ei::pselect(ei::pand(ei::pcmp_lt(ei::pset1<P>(0.0), x), ei::pcmp_lt(x, inf)), f, ei::pset1<P>(0.0));
  const P row = ei::pmin(ei::pmax(ei::padd(ei::pfloor(ei::pmul(f, ei::pset1<P>(32.0))), ei::pset1<P>(coef::kLogRowOffset)),
                                  ei::pset1<P>(0.0)), ei::pset1<P>(coef::kLogRows - 1));
  P c, t, tl;
  log_rows(row, c, t, tl);
  const P m = ei::padd(f, ei::pset1<P>(1.0));  // (exact)
  const P p = pmul_unfused(m, c);
  const P rlo = ei::pmadd(m, c, ei::pnegate(p));  // m c - p, exact
  const P r = ei::psub(p, ei::pset1<P>(1.0));     // exact: p is within 2^-5 of 1
  const P hr = ei::pmul(ei::pset1<P>(0.5), r);
  const P q = pmul_unfused(hr, r);
  const P qlo = ei::pmadd(hr, r, ei::pnegate(q));  // r^2/2 - q, exact
  const P tail = ei::pmul(ei::pmul(pmul_unfused(r, r), r), estrin(r, coef::kLog1pTail));
  P s1, e1, s2, e2, s3, e3;
  // (each sum's first term is 0 or the larger: |e ln 2| >= 0.69 > |log c|,
  // |log c| >= 0.045 > |r| where c != 1, |r| > r^2/2; e ln2_hi is exact)
  fast_two_sum(ei::pmul(e, ei::pset1<P>(coef::kLn2Hi)), t, s1, e1);
  fast_two_sum(s1, r, s2, e2);
  fast_two_sum(s2, ei::pnegate(q), s3, e3);
  const P small = ei::padd(ei::padd(ei::padd(e1, e2), ei::padd(e3, ei::psub(tail, qlo))),
                           ei::padd(ei::pmadd(e, ei::pset1<P>(coef::kLn2Lo), tl), ei::pmadd(ei::pnegate(rlo), r, rlo)));
  fast_two_sum(s3, small, hi, lo);
}
#endif

/// e^(r + rlo) for |r| <= ln2/2 within about 0.52 ulp: 1 + r kept as s +
/// slo (exact), the rest r^2/2 + r^3 E(r) + rlo e^r added to slo, one
/// rounding of s + (slo + rest). (exp's 1 + expm1(r) rounds twice: 1.2 ulp
/// for pow.)
template <class P>
METAGRAD_INLINE inline P exp_reduced(const P& r, const P& rlo) {
  const P one = ei::pset1<P>(1.0);
  P s, slo;
  fast_two_sum(one, r, s, slo);
  const P z = ei::pmul(r, r);
  const P rest = ei::pmadd(ei::pmul(z, r), estrin(r, coef::kExpm1), ei::pmul(z, ei::pset1<P>(0.5)));
  const P approx = ei::padd(s, rest);  // e^r, rounded: rlo e^r's factor (rlo holds pow's tlo, up to 2^-42)
  return ei::padd(s, ei::padd(slo, ei::pmadd(rlo, approx, rest)));
}

#if METAGRAD_VECTOR_EXTENSIONS
/// |x|^y = e^(t + tlo) as 2^k m (m in [1/2, 2)) for |x| positive, normal and
/// finite (see the banner); t returned for the callers' range checks.
template <class P>
METAGRAD_INLINE inline void pow_core(const P& ax, const P& y, P& t, P& k, P& m) {
  P lh, ll;
  log_table_hi_lo(ax, lh, ll);
  t = pmul_unfused(y, lh);
  const P tlo = ei::pmadd(y, ll, ei::pmadd(y, lh, ei::pnegate(t)));
  const P tc = ei::pmin(ei::pmax(t, ei::pset1<P>(-746.0)), ei::pset1<P>(710.0));
  P r, rlo;
  reduce_ln2(tc, k, r, rlo);
  m = exp_reduced(r, ei::padd(rlo, tlo));
}
#endif

/// x^y for every pair of double lanes, the special values by select (see
/// the banner); a packet with a subnormal |x| by <cmath>. (pow_pd's rare
/// path, out of line.)
template <class P>
METAGRAD_NOINLINE P pow_edge_pd(const P& x, const P& y) {
  const P ax = ei::pabs(x);
  const P zero = ei::pset1<P>(0.0), one = ei::pset1<P>(1.0), inf = ei::pset1<P>(std::numeric_limits<double>::infinity());
  const auto cmath = [](double a, double b) { return std::pow(a, b); };
  if (any_lane(ei::pand(ei::pcmp_lt(zero, ax), ei::pcmp_lt(ax, ei::pset1<P>(0x1p-1022))))) return per_lane(x, y, cmath);
#if METAGRAD_VECTOR_EXTENSIONS
  if constexpr (hi_lo_kernels<P> && packet_kernels) {
    P t, k, m;
    pow_core(ax, y, t, k, m);  // (garbage at |x| = 0, inf and NaN: selected away below)
    P v = ldexp_wide(m, k);
    // t infinite (y infinite, or y huge): tlo is NaN there
    v = ei::pselect(ei::pcmp_le(ei::pset1<P>(710.0), t), inf, v);
    v = ei::pselect(ei::pcmp_le(t, ei::pset1<P>(-746.0)), zero, v);
    // 0^y and inf^y
    const P yneg = ei::pcmp_lt(y, zero);
    v = ei::pselect(ei::pcmp_eq(ax, zero), ei::pselect(yneg, inf, zero), v);
    v = ei::pselect(ei::pcmp_eq(ax, inf), ei::pselect(yneg, zero, inf), v);
    // a negative x: the sign of x for an odd integer y (every y beyond 2^53
    // is even), NaN for a finite x and a finite non-integer y
    const P integer = ei::pcmp_eq(ei::print(y), y);  // (infinities too)
    const P half = ei::pmul(y, ei::pset1<P>(0.5));
    const P odd = ei::pandnot(ei::pand(integer, ei::pcmp_lt(ei::pabs(y), ei::pset1<P>(0x1p53))), ei::pcmp_eq(ei::print(half), half));
    v = ei::pxor(v, ei::pand(ei::pand(x, ei::pset1<P>(-0.0)), odd));
    const P negative_finite = ei::pand(ei::pcmp_lt(x, zero), ei::pcmp_lt(ei::pnegate(inf), x));
    v = ei::pselect(ei::pandnot(negative_finite, integer), ei::pset1<P>(std::numeric_limits<double>::quiet_NaN()), v);
    // NaN operands; then x^0 = 1^y = (-1)^(+-inf) = 1
    v = ei::pselect(ei::pand(ei::pcmp_eq(x, x), ei::pcmp_eq(y, y)), v, ei::padd(x, y));
    const P ones = ei::por(ei::por(ei::pcmp_eq(y, zero), ei::pcmp_eq(x, one)),
                           ei::pand(ei::pcmp_eq(ax, one), ei::pcmp_eq(ei::pabs(y), inf)));
    return ei::pselect(ones, one, v);
  } else
#endif
  {
    return per_lane(x, y, cmath);
  }
}

/// x^y of double lanes (see the banner): while every lane has a positive,
/// normal, finite x, a finite y and |y log x| < 708.39 (a normal, finite
/// result; x^0 and 1^y come out 1 exactly), 2^k m with one scaling; the
/// kernel above, out of line, for a packet with a lane beyond.
/// d/dx = y x^(y-1), d/dy = x^y log x.
template <class P>
METAGRAD_INLINE inline P pow_pd(const P& x, const P& y) {
#if METAGRAD_VECTOR_EXTENSIONS
  if constexpr (hi_lo_kernels<P> && packet_kernels) {
    P t, k, m;
    pow_core(x, y, t, k, m);
    const P ordinary = ei::pand(ei::pand(ei::pcmp_le(ei::pset1<P>(0x1p-1022), x), ei::pcmp_lt(x, ei::pset1<P>(std::numeric_limits<double>::infinity()))),
                                ei::pcmp_lt(ei::pabs(t), ei::pset1<P>(708.39)));  // (t is NaN for an infinite or NaN y)
    if (any_lane(ei::pandnot(ei::ptrue(x), ordinary))) return pow_edge_pd(x, y);
    return ei::pmul(m, exp2i(k));
  } else
#endif
  {
    return pow_edge_pd(x, y);
  }
}

METAGRAD_DETAIL_VMATH_BINARY_OP(pow, std::pow)
}  // namespace metagrad::vmath

namespace Eigen::internal {
template <class S> struct functor_traits<::metagrad::vmath::pow_op<S>> : vmath_traits<S> {};
}  // namespace Eigen::internal
