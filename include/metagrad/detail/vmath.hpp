// metagrad/detail/vmath.hpp — vectorised exp, log, sin, cos, tan, atan, tanh,
// sigmoid, expm1, log1p, sinh, cosh and softplus on Eigen packets, for
// `double` and `float` (erf in vmath_erf.hpp; asinh, acosh and atanh, built on
// log_hi_lo here, in vmath_inverse_hyperbolic.hpp; asin and acos in
// vmath_inverse_trig.hpp; pow, from its own table log and exp's reduction,
// in vmath_pow.hpp; atan2 and hypot in vmath_atan2_hypot.hpp).
//
// Every engine evaluates elementwise ops on Eigen arrays (the dynamic kernels,
// the bridge, the static packet pass), so these functors are what makes
// `sin(x)` of an array run 2, 4 or 8 lanes per instruction: Eigen 3.4 computes
// sin, cos, tanh, expm1 and log1p of `double` one element at a time, and its
// vectorised exp and log lose subnormals. The kernels are written on Eigen's
// packet primitives (pmadd, print, pselect, ...), so the same code serves
// SSE2, AVX2 and AVX-512, inlines into the fused passes and needs no library
// to link (README, "Vectorised elementary functions", says why not SLEEF or
// Highway, with bench/vmath_eval.cpp's measurements). Accuracy: within 2 ulp of <cmath> everywhere, subnormals, zeros
// of both signs, infinities and NaN included (tests/detail/test_vmath.cpp).
// The polynomials were fitted in 50-digit arithmetic (mpmath: weighted least
// squares at Chebyshev nodes) to below 2^-55 relative error.
//   * exp, expm1: k = rint(x/ln2), r = x - k ln2 with its rounding error kept,
//     e^x = 2^k (1 + expm1 r), expm1 x = 2^k expm1 r + (2^k - 1) in one
//     rounding. exp scales by 2^k in one step on packets whose results are
//     all normal (1 ulp), in two exact steps on the others.
//   * sin, cos: k = rint(2x/pi), r = x - k pi/2 in four parts with their
//     rounding errors kept (about 100 bits: enough near every multiple of
//     pi/2 below 8192), odd/even polynomials on |r| <= pi/4, the quadrant
//     by select. A packet with a lane beyond 8192 goes to <cmath> (that
//     reduction needs pi/2 to 1,100 bits).
//   * tanh: an odd polynomial below 0.55, e / (e + 2) with e = expm1(2|x|)
//     above; sigmoid 1 / (1 + e^-x) or e^x / (1 + e^x), whichever does not
//     cancel.
//   * tan: the sin/cos reduction, s / c or -c / s with both kept as hi + lo
//     and the quotient corrected by its residual; atan: |x| reduced to
//     |t| <= 7/16 by atan c + atan((|x| - c) / (1 + c|x|)), c = 1/2, 1, 3/2,
//     or pi/2 + atan(-1/|x|), then an odd polynomial.
//   * sinh: an odd polynomial below 1/2, (t + t / (t + 1)) / 2 with
//     t = expm1|x| above; cosh 1 + t^2 / (2 (1 + t)) below ln2 / 2,
//     e / 2 + 1 / (2 e) above; both to <cmath> for a lane beyond 709.
//     softplus max(x, 0) + log1p(e^-|x|), x itself above 20 (PyTorch's
//     threshold).
//   * log: x = 2^e m from the bits, log m = 2 atanh((m - 1) / (m + 1)) by its
//     series (a subnormal lane goes to <cmath>); log1p log(1 + x) with the
//     rounding error of 1 + x put back. 2^k is written into the exponent
//     bits. Nothing calls out of line (g++ does not inline Eigen's plog and
//     pldexp, and a call spills every live packet of the fused pass).
// `float` packets: Eigen's float kernels where they are within 2 ulp (sin,
// cos, log1p), and own float kernels for exp, log, expm1 and tanh, the
// double ones' algorithms in float arithmetic (Eigen's float exp is 5 ulp
// off near +-88 and flushes subnormal results; its tanh and expm1 are 5 and
// 4 ulp off); sigmoid widened to
// double and computed by the kernel above (in float it would be 2.25 ulp off);
// tan, atan, sinh, cosh and softplus likewise widened.
// The derivatives (rules/elementwise.hpp) are computed from these same
// functions: exp' = exp, sin' = cos, cos' = -sin, tanh' = 1 - tanh^2,
// tan' = 1 + tan^2, sinh' = cosh, cosh' = sinh, softplus' = sigmoid,
// sigmoid' = s (1 - s), expm1' = expm1 + 1, log' = 1/x, log1p' = 1/(1 + x).
#pragma once
#include <Eigen/Core>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cmath.hpp"
#include "config.hpp"
#include "splat.hpp"

namespace metagrad::vmath {
namespace ei = Eigen::internal;

namespace coef {
// sin r = r + r^3 S(r^2), |r| <= pi/4
inline constexpr double kSin[] = {-0.16666666666666666,    0.008333333333333331,  -0.00019841269841264399,
                                  2.7557319218892683e-06, -2.5052106096077566e-08, 1.60585123258022e-10,
                                  -7.585669931584527e-13};
// cos r = 1 - r^2/2 + r^4 C(r^2), |r| <= pi/4
inline constexpr double kCos[] = {0.041666666666666664,   -0.0013888888888887398, 2.4801587298766363e-05,
                                  -2.7557317272036996e-07, 2.087614632531677e-09,  -1.1382636115964061e-11};
// expm1 r = r + r^2/2 + r^3 E(r), |r| <= ln2/2
inline constexpr double kExpm1[] = {0.16666666666666669,    0.04166666666666667,    0.008333333333330065,
                                    0.0013888888888883752,  0.00019841269863041792, 2.4801587325534414e-05,
                                    2.7557268478651017e-06, 2.755727366018223e-07,  2.510037652317223e-08,
                                    2.0914679808184043e-09};
// tanh x = x + x^3 T(x^2), |x| < 0.55
inline constexpr double kTanh[] = {-0.3333333333333333,    0.13333333333332753,    -0.05396825396747676,
                                   0.021869488495478945,  -0.008863234436812497,  0.0035921108606615875,
                                   -0.0014556654556800214, 0.0005889529288971851,  -0.00023468220967671328,
                                   8.518704610609177e-05,  -2.06516692244956e-05};
// sinh x = x + x^3 S(x^2), |x| < 1/2: Taylor's 1/3!, 1/5!, ..., 1/15!
// (the next term is below 2^-61 relative there)
inline constexpr double kSinh[] = {1.0 / 6, 1.0 / 120, 1.0 / 5040, 1.0 / 362880, 1.0 / 39916800, 1.0 / 6227020800.0,
                                   1.0 / 1307674368000.0};
// atan t = t + t^3 A(t^2), |t| <= 7/16 (fitted as the others: below 2^-57
// relative error there)
inline constexpr double kAtan[] = {-0.33333333333332893, 0.19999999999867113,  -0.14285714271731004, 0.1111111037325344,
                                   -0.09090886352439195, 0.07691864404663165,  -0.06660958601302765, 0.058328556472632534,
                                   -0.04974109053328455, 0.036470903026744904, -0.01622839251961969};
// atan c for the reduction points c = 1/2, 1, 3/2 and infinity, each as
// hi + lo (lo the rest to 50 digits)
inline constexpr double kAtanHi[] = {0.4636476090008061, 0.7853981633974483, 0.982793723247329, 1.5707963267948966};
inline constexpr double kAtanLo[] = {2.2698777452961687e-17, 3.061616997868383e-17, 1.3903311031230998e-17,
                                     6.123233995736766e-17};
// pi/2 and pi as hi + lo (asin, acos, atan2)
inline constexpr double kPio2Hi = 1.5707963267948966, kPio2Lo = 6.123233995736766e-17;
inline constexpr double kPiHi = 3.141592653589793, kPiLo = 1.2246467991473532e-16;
// log(1 + f) = f - f^2/2 + s (f^2/2 + z R(z)), s = f / (2 + f), z = s^2:
// R's Taylor coefficients 2/3, 2/5, ... (the series of 2 atanh s)
inline constexpr double kLogAtanh[] = {2.0 / 3,  2.0 / 5,  2.0 / 7,  2.0 / 9,  2.0 / 11,
                                       2.0 / 13, 2.0 / 15, 2.0 / 17, 2.0 / 19, 2.0 / 21};
inline constexpr double kLogAtanhFloat[] = {2.0 / 3, 2.0 / 5, 2.0 / 7, 2.0 / 9};
// The same R(z) for log itself (one rounding in the result: no hi + lo), by
// 7 minimax coefficients (fdlibm's Lg1..Lg7, |error| < 2^-58.45 on
// |s| <= 0.1716) instead of 10 Taylor terms: 3 fused multiply-adds fewer.
inline constexpr double kLogMinimax[] = {6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
                                         2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
                                         1.479819860511658591e-01};
inline constexpr double kTwoOverPi = 6.36619772367581382433e-01;
// pi/2 = kPio2_1 + kPio2_2 + kPio2_3 + kPio2_3t (the first two of 33 bits:
// k * kPio2_1 and k * kPio2_2 are exact for |k| < 2^20)
inline constexpr double kPio2_1 = 1.57079632673412561417e+00;
inline constexpr double kPio2_2 = 6.07710050630396597660e-11;
inline constexpr double kPio2_3 = 2.02226624871116645580e-21;
inline constexpr double kPio2_3t = 8.47842766036889956997e-32;  // pi/2 - the three above
inline constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 32 bits
inline constexpr double kLn2Lo = 1.90821492927058770002e-10;
inline constexpr double kInvLn2 = 1.44269504088896338700e+00;
// 1/ln 10 and 1/ln 2 in two parts; log10(2) in two, the first of 36 bits
// (e log10(2) exact for every exponent e of a double)
inline constexpr double kInvLn10Hi = 0.4342944819032518, kInvLn10Lo = 1.098319650216765e-17;
inline constexpr double kInvLn2Hi = 1.4426950408889634, kInvLn2Lo = 2.0355273740931033e-17;
inline constexpr double kLog10of2Hi = 0.3010299956658855, kLog10of2Lo = -1.9043128467164274e-12;
inline constexpr double kSinCosMax = 8192.0;
}  // namespace coef

/// c[0] + z c[1] + ... + z^(N-1) c[N-1] by Horner's rule with fused
/// multiply-adds.
/// (The coefficients are rounded to the packet's scalar type.)
template <class P>
using scalar_of = typename ei::unpacket_traits<P>::type;
template <class P, std::size_t N>
METAGRAD_INLINE inline P horner(const P& z, const double (&c)[N]) {
  using S = scalar_of<P>;
  P acc = ei::pset1<P>(static_cast<S>(c[N - 1]));
  for (std::size_t i = N - 1; i-- > 0;) acc = ei::pmadd(acc, z, ei::pset1<P>(static_cast<S>(c[i])));
  return acc;
}

/// c[0] + x c[1] + ... + x^(N-1) c[N-1] by Estrin's scheme: pairs, then
/// pairs of pairs with x^2, x^4, ...: about log2(N) fused multiply-adds
/// deep instead of Horner's N - 1, for a polynomial on a long critical path
/// (pow's).
template <class P, std::size_t N>
METAGRAD_INLINE inline P estrin(const P& x, const double (&c)[N]) {
  P level[(N + 1) / 2];
  std::size_t count = (N + 1) / 2;
  for (std::size_t i = 0; i < count; ++i)
    level[i] = 2 * i + 1 < N ? ei::pmadd(ei::pset1<P>(c[2 * i + 1]), x, ei::pset1<P>(c[2 * i])) : ei::pset1<P>(c[2 * i]);
  P power = ei::pmul(x, x);
  while (count > 1) {
    const std::size_t next = (count + 1) / 2;
    for (std::size_t i = 0; i < next; ++i) level[i] = 2 * i + 1 < count ? ei::pmadd(level[2 * i + 1], power, level[2 * i]) : level[2 * i];
    count = next;
    if (count > 1) power = ei::pmul(power, power);
  }
  return level[0];
}

/// 2^k for lanes holding integers k of the normal range ([-1022, 1023] for
/// double, [-126, 127] for float): the exponent field written directly. (Eigen's
/// pldexp is an out-of-line call in g++ builds, and around a call every live
/// packet of the fused pass goes to memory and back.)
template <class P>
METAGRAD_INLINE inline P exp2i(const P& k) {
  using S = scalar_of<P>;
#if METAGRAD_VECTOR_EXTENSIONS
  if constexpr (sizeof(P) % 16 == 0) {
    using I = std::conditional_t<sizeof(S) == 8, long long, int>;
    typedef I V __attribute__((vector_size(sizeof(P))));
    constexpr int mantissa = sizeof(S) == 8 ? 52 : 23;
    constexpr I bias = sizeof(S) == 8 ? 1023 : 127;
    // k + 1.5 2^m holds k in its low mantissa bits: bits = magic + k
    constexpr I magic = sizeof(S) == 8 ? I(0x4338000000000000LL) : I(0x4B400000);
    const P t = ei::padd(k, ei::pset1<P>(sizeof(S) == 8 ? S(0x1.8p52) : S(0x1.8p23)));
    V bits;
    std::memcpy(&bits, &t, sizeof(P));
    bits = (bits - (magic - bias)) << mantissa;
    P r;
    std::memcpy(&r, &bits, sizeof(P));
    return r;
  } else
#endif
  {
    return ei::pldexp(ei::pset1<P>(S(1)), k);
  }
}
/// v 2^k for integral k from below the subnormal range to beyond overflow
/// (v within a factor 2 of 1): two exact scalings by exp2i, one rounding.
template <class P>
METAGRAD_INLINE inline P ldexp_wide(const P& v, const P& k) {
  using S = scalar_of<P>;
  const P k1 = ei::pfloor(ei::pmul(k, ei::pset1<P>(S(0.5))));
  return ei::pmul(ei::pmul(v, exp2i(k1)), exp2i(ei::psub(k, k1)));
}

/// a b rounded once, written as a fused multiply-add of +0: a compiler that
/// contracts a multiply and a following add into one FMA (g++'s default
/// -ffp-contract=fast) cannot fuse this one, so a sum that recovers rounding
/// errors sees the product it was written for, and a lane gives the same
/// bits whatever code the kernel is inlined into.
template <class P>
METAGRAD_INLINE inline P pmul_unfused(const P& a, const P& b) {
  return ei::pmadd(a, b, ei::pset1<P>(scalar_of<P>(0)));
}

/// s + e = a + b exactly (Knuth's two-sum: no condition on the magnitudes).
template <class P>
METAGRAD_INLINE inline void two_sum(const P& a, const P& b, P& s, P& e) {
  s = ei::padd(a, b);
  const P bb = ei::psub(s, a);
  e = ei::padd(ei::psub(a, ei::psub(s, bb)), ei::psub(b, bb));
}
/// s + e = a + b exactly when |a| >= |b| or a = 0 (Dekker's fast two-sum).
template <class P>
METAGRAD_INLINE inline void fast_two_sum(const P& a, const P& b, P& s, P& e) {
  s = ei::padd(a, b);
  e = ei::psub(b, ei::psub(s, a));
}

/// Whether any lane of a comparison mask is set: one movemask/test
/// instruction (Eigen's predux_any sums the lanes of a double packet).
template <class P>
METAGRAD_INLINE inline bool any_lane(const P& m) { return ei::predux_any(m); }
#if defined(EIGEN_VECTORIZE_AVX512)
METAGRAD_INLINE inline bool any_lane(const __m512d& m) { return _mm512_test_epi64_mask(_mm512_castpd_si512(m), _mm512_castpd_si512(m)) != 0; }
METAGRAD_INLINE inline bool any_lane(const __m512& m) { return _mm512_test_epi32_mask(_mm512_castps_si512(m), _mm512_castps_si512(m)) != 0; }
#endif
#if defined(EIGEN_VECTORIZE_AVX)
METAGRAD_INLINE inline bool any_lane(const __m256d& m) { return _mm256_movemask_pd(m) != 0; }
METAGRAD_INLINE inline bool any_lane(const __m256& m) { return _mm256_movemask_ps(m) != 0; }
#endif
#if defined(EIGEN_VECTORIZE_SSE2)
METAGRAD_INLINE inline bool any_lane(const __m128d& m) { return _mm_movemask_pd(m) != 0; }
METAGRAD_INLINE inline bool any_lane(const __m128& m) { return _mm_movemask_ps(m) != 0; }
#endif

/// f applied lane by lane with <cmath> (the rare packet out of a kernel's range).
template <class P, class F>
P per_lane(const P& x, F f) {
  using S = typename ei::unpacket_traits<P>::type;
  constexpr int n = ei::unpacket_traits<P>::size;
  alignas(64) S v[n];
  ei::pstoreu(v, x);
  for (int i = 0; i < n; ++i) v[i] = f(v[i]);
  return ei::ploadu<P>(v);
}

/// f applied lane by lane to x and y with <cmath> (the rare packet out of a
/// kernel's range, or every packet where a kernel cannot run).
template <class P, class F>
P per_lane(const P& x, const P& y, F f) {
  using S = typename ei::unpacket_traits<P>::type;
  constexpr int n = ei::unpacket_traits<P>::size;
  alignas(64) S u[n], v[n];
  ei::pstoreu(u, x);
  ei::pstoreu(v, y);
  for (int i = 0; i < n; ++i) u[i] = f(u[i], v[i]);
  return ei::ploadu<P>(u);
}

/// The reduction shared by sin, cos and tan: k = rint(2x / pi) and
/// r + rr = x - k pi/2. Lanes must be within kSinCosMax.
template <class P>
METAGRAD_INLINE inline void reduce_pio2(const P& x, P& k, P& r, P& rr) {
  // k P1 and k P2 are exact, x - k P1 is exact (Sterbenz), the two
  // subtractions after it keep their rounding errors (two-sum), so r carries
  // about 100 bits near a multiple of pi/2
  k = ei::print(ei::pmul(x, ei::pset1<P>(coef::kTwoOverPi)));
  const P r1 = ei::psub(x, ei::pmul(k, ei::pset1<P>(coef::kPio2_1)));
  P r2, e2, e3;
  two_sum(r1, ei::pnegate(ei::pmul(k, ei::pset1<P>(coef::kPio2_2))), r2, e2);
  two_sum(r2, ei::pnegate(ei::pmul(k, ei::pset1<P>(coef::kPio2_3))), r, e3);
  rr = ei::psub(ei::padd(e2, e3), ei::pmul(k, ei::pset1<P>(coef::kPio2_3t)));
}
/// Is k odd (k an integral value)?
template <class P>
METAGRAD_INLINE inline P odd_lanes(const P& k) {
  const P half = ei::pfloor(ei::pmul(k, ei::pset1<P>(0.5)));
  return ei::pcmp_eq(ei::psub(k, ei::padd(half, half)), ei::pset1<P>(1.0));
}

/// sin(x) (Cos = false) or cos(x) (Cos = true) of a packet of doubles.
/// d/dx sin = cos, d/dx cos = -sin (the rules in rules/elementwise.hpp).
template <bool Cos, class P>
METAGRAD_INLINE inline P sincos_pd(const P& x) {
  const P ax = ei::pabs(x);
  if (any_lane(ei::pcmp_lt(ei::pset1<P>(coef::kSinCosMax), ax)))
    return per_lane(x, [](double v) { return Cos ? std::cos(v) : std::sin(v); });
  P k, r, rr;
  reduce_pio2(x, k, r, rr);
  const P z = ei::pmul(r, r);
  // sin(r + rr) = sin r + rr cos r, cos(r + rr) = cos r - rr sin r (to the
  // precision that matters: rr < 2^-50 |r|)
  const P s = ei::padd(r, ei::pmadd(ei::pmul(r, z), horner(z, coef::kSin), rr));
  const P c = ei::padd(ei::pmadd(z, ei::pset1<P>(-0.5), ei::pset1<P>(1.0)),
                       ei::psub(ei::pmul(ei::pmul(z, z), horner(z, coef::kCos)), ei::pmul(rr, r)));
  // quadrant q = k mod 4 (cos: k + 1 mod 4); odd quadrants take the cosine
  // polynomial, quadrants 2 and 3 the negated value
  const P kq = Cos ? ei::padd(k, ei::pset1<P>(1.0)) : k;
  const P q = ei::psub(kq, ei::pmul(ei::pset1<P>(4.0), ei::pfloor(ei::pmul(kq, ei::pset1<P>(0.25)))));
  P v = ei::pselect(odd_lanes(q), c, s);
  v = ei::pselect(ei::pcmp_le(ei::pset1<P>(2.0), q), ei::pnegate(v), v);
  if constexpr (!Cos) v = ei::pselect(ei::pcmp_lt(ax, ei::pset1<P>(0x1p-27)), x, v);  // sin x = x, -0 kept
  return v;
}

/// tan x = s / c for even k, -c / s for odd k, with s = sin(r + rr) and
/// c = cos(r + rr) each kept as an unevaluated sum hi + lo (s = r + ...,
/// c = (1 - z/2) + ...) and the quotient corrected by its residual (one
/// division of rounded s and c was 3 ulp off near tan = 1). Near a pole s is
/// r itself to about 100 bits. x itself below 2^-27 (-0 kept); a packet with
/// a lane beyond 8192 goes to <cmath>. d/dx tan = 1 + tan^2.
template <class P>
METAGRAD_INLINE inline P tan_pd(const P& x) {
  const P ax = ei::pabs(x);
  if (any_lane(ei::pcmp_lt(ei::pset1<P>(coef::kSinCosMax), ax))) return per_lane(x, [](double v) { return std::tan(v); });
  P k, r, rr;
  reduce_pio2(x, k, r, rr);
  const P z = ei::pmul(r, r), one = ei::pset1<P>(1.0);
  const P s_lo = ei::pmadd(ei::pmul(r, z), horner(z, coef::kSin), rr);
  const P w = ei::pmul(z, ei::pset1<P>(0.5));  // (exact; w <= 0.31, so 1 - w is a fast two-sum)
  const P c_hi = ei::psub(one, w);
  const P c_lo = ei::padd(ei::psub(ei::psub(one, c_hi), w),
                          ei::psub(ei::pmul(ei::pmul(z, z), horner(z, coef::kCos)), ei::pmul(rr, r)));
  const P odd = odd_lanes(k);
  const P n_hi = ei::pselect(odd, c_hi, r), n_lo = ei::pselect(odd, c_lo, s_lo);
  const P d_hi = ei::pselect(odd, r, c_hi), d_lo = ei::pselect(odd, s_lo, c_lo);
  const P q = ei::pdiv(n_hi, d_hi);
  // n / d = q + (n_hi - q d_hi + n_lo - q d_lo) / d exactly; the residual
  // n_hi - q d_hi is exact by one fused multiply-add, and the correction is
  // a few per cent of q, so its own rounding does not matter
  const P res = ei::padd(ei::pmadd(ei::pnegate(q), d_hi, n_hi), ei::psub(n_lo, ei::pmul(q, d_lo)));
  const P t = ei::padd(q, ei::pdiv(res, ei::padd(d_hi, d_lo)));
  const P v = ei::pselect(odd, ei::pnegate(t), t);
  return ei::pselect(ei::pcmp_lt(ax, ei::pset1<P>(0x1p-27)), x, v);
}

template <class P>
METAGRAD_INLINE inline P sin_pd(const P& x) { return sincos_pd<false>(x); }
template <class P>
METAGRAD_INLINE inline P cos_pd(const P& x) { return sincos_pd<true>(x); }

/// x - k ln2 as r + rlo (|r| <= ln2/2), and k = rint(x / ln2).
template <class P>
METAGRAD_INLINE inline void reduce_ln2(const P& x, P& k, P& r, P& rlo) {
  k = ei::print(ei::pmul(x, ei::pset1<P>(coef::kInvLn2)));
  const P t = ei::pmadd(k, ei::pset1<P>(-coef::kLn2Hi), x);  // exact
  const P klo = ei::pmul(k, ei::pset1<P>(coef::kLn2Lo));
  r = ei::psub(t, klo);
  rlo = ei::psub(ei::psub(t, r), klo);
}

/// expm1(r + rlo) for |r| <= ln2/2.
template <class P>
METAGRAD_INLINE inline P expm1_reduced(const P& r, const P& rlo) {
  const P z = ei::pmul(r, r);
  const P p = ei::pmadd(ei::pmul(z, r), horner(r, coef::kExpm1), ei::pmadd(z, ei::pset1<P>(0.5), r));
  return ei::pmadd(rlo, ei::padd(ei::pset1<P>(1.0), p), p);
}

/// e^x = 2^k (1 + expm1(r)) within an ulp; subnormal results and overflow by
/// two exact scalings (ldexp_wide). d/dx exp = exp.
template <class P>
METAGRAD_INLINE inline P exp_exact_pd(const P& x) {
  const P xc = ei::pmin(ei::pmax(x, ei::pset1<P>(-746.0)), ei::pset1<P>(710.0));
  P k, r, rlo;
  reduce_ln2(xc, k, r, rlo);
  const P v = ldexp_wide(ei::padd(ei::pset1<P>(1.0), expm1_reduced(r, rlo)), k);
  return ei::pselect(ei::pcmp_eq(x, x), v, x);  // NaN
}

/// (exp_pd's rare path, out of line)
template <class P>
METAGRAD_NOINLINE P exp_edge_pd(const P& x) {
  return exp_exact_pd(x);
}
/// e^x for exp itself: while every lane's result is normal and finite,
/// (1 + expm1(r)) 2^k with one scaling; the kernel above, out of line, for a
/// packet with a lane beyond. (Not Eigen's pexp: g++ leaves that out of line
/// in a pass with many kernels, and it flushes subnormal results to zero.)
template <class P>
METAGRAD_INLINE inline P exp_pd(const P& x) {
  if (any_lane(ei::pcmp_lt(ei::pset1<P>(708.39), ei::pabs(x)))) return exp_edge_pd(x);
  P k, r, rlo;
  reduce_ln2(x, k, r, rlo);
  return ei::pmul(ei::padd(ei::pset1<P>(1.0), expm1_reduced(r, rlo)), exp2i(k));
}

/// expm1 x = 2^k expm1(r) + (2^k - 1) in one rounding, for x in [-40, 40].
template <class P>
METAGRAD_INLINE inline P expm1_core(const P& x) {
  const P one = ei::pset1<P>(1.0);
  P k, r, rlo;
  reduce_ln2(x, k, r, rlo);
  const P s = exp2i(k);
  return ei::pmadd(s, expm1_reduced(r, rlo), ei::psub(s, one));
}

/// expm1 on the whole line from its core on [-lim, lim] (below -lim the clamp
/// gives -1, which expm1 rounds to there), e^x above lim (the -1 is below
/// half an ulp), x itself when |x| < tiny (and -0). d/dx expm1 = expm1 + 1.
template <class P, class Core, class Exp>
METAGRAD_INLINE inline P expm1_line(const P& x, Core core, Exp exp, scalar_of<P> lim, scalar_of<P> tiny) {
  P v = core(ei::pmin(ei::pmax(x, ei::pset1<P>(-lim)), ei::pset1<P>(lim)));
  const P above = ei::pcmp_lt(ei::pset1<P>(lim), x);
  if (any_lane(above)) v = ei::pselect(above, exp(x), v);
  v = ei::pselect(ei::pcmp_lt(ei::pabs(x), ei::pset1<P>(tiny)), x, v);
  return ei::pselect(ei::pcmp_eq(x, x), v, x);  // NaN
}
/// tanh: |x| < 0.55 an odd polynomial; above, e / (e + 2) with
/// e = expm1(2|x|) from the expm1 core (|x| clamped to `top`, where tanh has
/// rounded to 1); the sign of x. d/dx tanh = 1 - tanh^2.
template <class P, class Core>
METAGRAD_INLINE inline P tanh_line(const P& x, Core core, scalar_of<P> top) {
  using S = scalar_of<P>;
  const P sign = ei::pand(x, ei::pset1<P>(S(-0.0)));
  const P a = ei::pmin(ei::pabs(x), ei::pset1<P>(top));
  const P e = core(ei::padd(a, a));
  const P big = ei::pdiv(e, ei::padd(e, ei::pset1<P>(S(2))));
  const P z = ei::pmul(a, a);
  const P small = ei::pmadd(ei::pmul(z, a), horner(z, coef::kTanh), a);
  const P v = ei::por(ei::pselect(ei::pcmp_lt(a, ei::pset1<P>(S(0.55))), small, big), sign);
  return ei::pselect(ei::pcmp_eq(x, x), v, x);
}
template <class P>
METAGRAD_INLINE inline P expm1_pd(const P& x) {
  return expm1_line(x, [](const P& v) METAGRAD_INLINE { return expm1_core(v); },
                    [](const P& v) METAGRAD_INLINE { return exp_exact_pd(v); }, 40.0, 0x1p-54);
}
template <class P>
METAGRAD_INLINE inline P tanh_pd(const P& x) {
  return tanh_line(x, [](const P& v) METAGRAD_INLINE { return expm1_core(v); }, 19.5);
}

/// sigmoid x = 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0, e = e^-|x|
/// (no cancellation on either side). d/dx sigmoid = s (1 - s).
template <class P>
METAGRAD_INLINE inline P sigmoid_pd(const P& x) {
  const P one = ei::pset1<P>(1.0);
  const P e = exp_exact_pd(ei::pnegate(ei::pabs(x)));
  return ei::pdiv(ei::pselect(ei::pcmp_lt(x, ei::pset1<P>(0.0)), e, one), ei::padd(one, e));
}

#if METAGRAD_VECTOR_EXTENSIONS
/// x = 2^e (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)), from the bits (x
/// positive, normal, finite; other lanes give garbage the callers select away).
template <class P>
METAGRAD_INLINE inline void log_reduce(const P& x, P& e, P& f) {
  using S = scalar_of<P>;
  constexpr bool dbl = sizeof(S) == 8;
  using I = std::conditional_t<dbl, long long, int>;
  typedef I V __attribute__((vector_size(sizeof(P))));
  constexpr int mantissa = dbl ? 52 : 23;
  constexpr I bias = dbl ? 1023 : 127;
  constexpr I mantissa_mask = (I(1) << mantissa) - 1;
  constexpr S two_m = dbl ? S(0x1p52) : S(0x1p23);  // its bits | E make 2^m + E
  I two_m_bits;
  std::memcpy(&two_m_bits, &two_m, sizeof(S));
  V bits;
  std::memcpy(&bits, &x, sizeof(P));
  V eb = (bits >> mantissa) | two_m_bits;
  V mb = (bits & mantissa_mask) | (bias << mantissa);
  P ef, m;
  std::memcpy(&ef, &eb, sizeof(P));
  std::memcpy(&m, &mb, sizeof(P));
  e = ei::psub(ef, ei::pset1<P>(two_m + S(bias)));
  const P big = ei::pcmp_lt(ei::pset1<P>(S(1.4142135623730951)), m);
  m = ei::pselect(big, ei::pmul(m, ei::pset1<P>(S(0.5))), m);
  e = ei::pselect(big, ei::padd(e, ei::pset1<P>(S(1))), e);
  f = ei::psub(m, ei::pset1<P>(S(1)));
}

/// log's results at the lanes log_reduce leaves out: +inf at +inf, -inf at
/// 0, NaN below 0 and at NaN; v elsewhere.
template <class P>
METAGRAD_INLINE inline P log_edges(const P& x, P v) {
  using S = scalar_of<P>;
  const P inf = ei::pset1<P>(std::numeric_limits<S>::infinity());
  v = ei::pselect(ei::pcmp_eq(x, inf), inf, v);
  v = ei::pselect(ei::pcmp_eq(x, ei::pset1<P>(S(0))), ei::pnegate(inf), v);
  return ei::pselect(ei::pcmp_le(ei::pset1<P>(S(0)), x), v, ei::pset1<P>(std::numeric_limits<S>::quiet_NaN()));
}
#endif

/// log x for lanes that are positive, normal and finite (others give
/// garbage): x = 2^e m with m in [sqrt(1/2), sqrt(2)) from the bits, f = m -
/// 1, s = f / (2 + f), and log(1 + f) = 2 atanh s = f - f^2/2 + s (f^2/2 +
/// R(s^2)), R the series of 2 atanh s / s - 2 (2/3 z + 2/5 z^2 + ...: 7
/// minimax terms for double, 4 Taylor terms (2^-30) for float, since |s| <=
/// 0.172); e ln 2 in two parts. Inline on every compiler (Eigen's plog is an
/// out-of-line call in g++ builds).
template <class P>
METAGRAD_INLINE inline P log_positive_normal(const P& x) {
#if METAGRAD_VECTOR_EXTENSIONS
  if constexpr (sizeof(P) % 16 == 0) {
    using S = scalar_of<P>;
    constexpr bool dbl = sizeof(S) == 8;
    P e, f;
    log_reduce(x, e, f);
    const P sv = ei::pdiv(f, ei::padd(f, ei::pset1<P>(S(2))));
    const P z = ei::pmul(sv, sv);
    P r;
    if constexpr (dbl) r = ei::pmul(z, estrin(z, coef::kLogMinimax));
    else r = ei::pmul(z, horner(z, coef::kLogAtanhFloat));
    const P hfsq = ei::pmul(ei::pset1<P>(S(0.5)), ei::pmul(f, f));
    const S ln2_hi = dbl ? S(coef::kLn2Hi) : S(0.693145751953125f), ln2_lo = dbl ? S(coef::kLn2Lo) : S(1.428606765330187e-06f);
    // e ln2_hi - ((hfsq - (s (hfsq + R) + e ln2_lo)) - f)
    const P inner = ei::pmadd(sv, ei::padd(hfsq, r), ei::pmul(e, ei::pset1<P>(ln2_lo)));
    return ei::psub(ei::pmul(e, ei::pset1<P>(ln2_hi)), ei::psub(ei::psub(hfsq, inner), f));
  } else
#endif
  {
    return ei::plog(x);
  }
}
/// log x for lanes that are not subnormal: log_positive_normal, with 0,
/// infinity, negatives and NaN by select.
template <class P>
METAGRAD_INLINE inline P log_normal_lanes(const P& x) {
#if METAGRAD_VECTOR_EXTENSIONS
  if constexpr (sizeof(P) % 16 == 0) return log_edges(x, log_positive_normal(x));
  else
#endif
    return ei::plog(x);
}
/// Is any lane of x outside the positive, normal, finite doubles or floats
/// (0, a subnormal, a negative, infinity or NaN)? One test for the packets
/// that need none of log's special cases (nearly all).
template <class P>
METAGRAD_INLINE inline bool any_lane_not_positive_normal(const P& x) {
  using S = scalar_of<P>;
  return any_lane(ei::por(ei::pcmp_lt_or_nan(x, ei::pset1<P>(std::numeric_limits<S>::min())),
                          ei::pcmp_eq(x, ei::pset1<P>(std::numeric_limits<S>::infinity()))));
}

/// log by log_normal_lanes; a packet with a subnormal lane by <cmath>.
/// d/dx log = 1/x.
template <class P>
METAGRAD_INLINE inline P log_pd(const P& x) {
  if (!any_lane_not_positive_normal(x)) return log_positive_normal(x);
  if (any_lane(ei::pand(ei::pcmp_lt(ei::pset1<P>(0.0), x), ei::pcmp_lt(x, ei::pset1<P>(0x1p-1022)))))
    return per_lane(x, [](double v) { return std::log(v); });
  return log_normal_lanes(x);
}

#if METAGRAD_VECTOR_EXTENSIONS
/// log(1 + f) for 1 + f in [sqrt(1/2), sqrt(2)) as hi + lo: hi = f - f^2/2,
/// lo its rounding error (exact: f - hi is) less f^2/2's (by a fused
/// multiply-add), plus s (f^2/2 + R(s^2)), s = f / (2 + f), as in log.
template <class P>
METAGRAD_INLINE inline void log1p_reduced_hi_lo(const P& f, P& hi, P& lo) {
  const P sv = ei::pdiv(f, ei::padd(f, ei::pset1<P>(2.0)));
  const P z = ei::pmul(sv, sv);
  const P half_f = ei::pmul(ei::pset1<P>(0.5), f);
  const P hfsq = pmul_unfused(half_f, f);
  const P hfsq_err = ei::pmadd(half_f, f, ei::pnegate(hfsq));  // f^2/2 - hfsq
  hi = ei::psub(f, hfsq);
  lo = ei::pmadd(sv, ei::pmadd(z, horner(z, coef::kLogAtanh), hfsq), ei::psub(ei::psub(ei::psub(f, hi), hfsq), hfsq_err));
}
/// log x as hi + lo (about 2^-65 relative) for positive, normal, finite
/// double lanes (others give garbage): e ln 2 (exact: ln 2's first part has
/// 32 bits) plus log(1 + f), summed with the rounding error kept.
template <class P>
METAGRAD_INLINE inline void log_hi_lo(const P& x, P& hi, P& lo) {
  P e, f, h, l, err;
  log_reduce(x, e, f);
  log1p_reduced_hi_lo(f, h, l);
  two_sum(ei::pmul(e, ei::pset1<P>(coef::kLn2Hi)), h, hi, err);
  lo = ei::pmadd(e, ei::pset1<P>(coef::kLn2Lo), ei::padd(err, l));
}
#endif
/// Whether the kernels built on log_reduce (log_hi_lo's, pow's and hypot's)
/// run on packets P (vector extensions, a packet of at least two doubles).
template <class P>
inline constexpr bool hi_lo_kernels = METAGRAD_VECTOR_EXTENSIONS && sizeof(P) % 16 == 0;

/// log2 (Base 2) and log10 (Base 10): with x = 2^e (1 + f) as in log,
/// log(1 + f) = hi + lo, hi = f - f^2/2 and lo its rounding error (exact:
/// f - hi is) less f^2/2's, plus s (f^2/2 + R); then e + (hi + lo) / ln 2, or
/// e log10(2) + (hi + lo) / ln 10, summed with every product's and the final
/// addition's rounding error kept, so that exact results (log10(1000) = 3,
/// log2(2^k) = k) come out exact. A packet with a subnormal lane by <cmath>.
/// d/dx log_b x = 1 / (x ln b).
template <int Base, class P>
METAGRAD_INLINE inline P log_base_pd(const P& x) {
  static_assert(Base == 2 || Base == 10);
  auto cmath = [](double v) { return Base == 2 ? std::log2(v) : std::log10(v); };
  if (any_lane(ei::pand(ei::pcmp_lt(ei::pset1<P>(0.0), x), ei::pcmp_lt(x, ei::pset1<P>(0x1p-1022)))))
    return per_lane(x, cmath);
#if METAGRAD_VECTOR_EXTENSIONS
  if constexpr (sizeof(P) % 16 == 0) {
    P e, f, hi, lo;
    log_reduce(x, e, f);
    log1p_reduced_hi_lo(f, hi, lo);
    const double c_hi = Base == 2 ? coef::kInvLn2Hi : coef::kInvLn10Hi, c_lo = Base == 2 ? coef::kInvLn2Lo : coef::kInvLn10Lo;
    const P ph = ei::pmul(hi, ei::pset1<P>(c_hi));
    const P pl = ei::pmadd(lo, ei::pset1<P>(c_hi), ei::pmadd(hi, ei::pset1<P>(c_lo), ei::pmadd(hi, ei::pset1<P>(c_hi), ei::pnegate(ph))));
    const P a = Base == 2 ? e : ei::pmul(e, ei::pset1<P>(coef::kLog10of2Hi));  // exact
    const P sum = ei::padd(a, ph);
    const P bb = ei::psub(sum, a);
    const P err = ei::padd(ei::psub(a, ei::psub(sum, bb)), ei::psub(ph, bb));
    P low = ei::padd(err, pl);
    if constexpr (Base == 10) low = ei::pmadd(e, ei::pset1<P>(coef::kLog10of2Lo), low);
    return log_edges(x, ei::padd(sum, low));
  } else
#endif
  {
    return per_lane(x, cmath);
  }
}
template <class P>
METAGRAD_INLINE inline P log2_pd(const P& x) { return log_base_pd<2>(x); }
template <class P>
METAGRAD_INLINE inline P log10_pd(const P& x) { return log_base_pd<10>(x); }

/// log1p x = log u + (x - (u - 1)) / u, u = 1 + x (the rounding error of u
/// put back); x itself where u rounds to 1, log u where u is 0 or infinite.
/// d/dx log1p = 1 / (1 + x).
template <class P>
METAGRAD_INLINE inline P log1p_pd(const P& x) {
  const P one = ei::pset1<P>(1.0);
  const P u = ei::padd(x, one);
  const P lu = log_pd(u);
  const P v = ei::padd(lu, ei::pdiv(ei::psub(x, ei::psub(u, one)), u));
  const P edge = ei::por(ei::pcmp_eq(u, ei::pset1<P>(0.0)), ei::pcmp_eq(u, ei::pset1<P>(std::numeric_limits<double>::infinity())));
  return ei::pselect(ei::pcmp_eq(u, one), x, ei::pselect(edge, lu, v));
}

/// atan x = sign(x) (atan c + atan t), t = (|x| - c) / (1 + c |x|) with c
/// = 0, 1/2, 1 or 3/2 as |x| passes 7/16, 11/16, 19/16 (|x| - c exact), and
/// t = -1/|x|, atan c = pi/2, beyond 39/16; |t| <= 7/16 by an odd polynomial
/// (coef::kAtan), atan c in two parts. d/dx atan = 1 / (1 + x^2).
/// With Corrected, `corr` (atan2's first-order term of x's rounding error)
/// joins the low part of the sum, before its one rounding.
template <class P, bool Corrected = false>
METAGRAD_INLINE inline P atan_kernel(const P& x, const P& corr) {
  const P a = ei::pabs(x), one = ei::pset1<P>(1.0);
  const P i1 = ei::pcmp_le(ei::pset1<P>(7.0 / 16), a), i2 = ei::pcmp_le(ei::pset1<P>(11.0 / 16), a);
  const P i3 = ei::pcmp_le(ei::pset1<P>(19.0 / 16), a), i4 = ei::pcmp_le(ei::pset1<P>(39.0 / 16), a);
  const auto pick = [&](const double* v, double below) METAGRAD_INLINE {
    P r = ei::pselect(i1, ei::pset1<P>(v[0]), ei::pset1<P>(below));
    r = ei::pselect(i2, ei::pset1<P>(v[1]), r);
    r = ei::pselect(i3, ei::pset1<P>(v[2]), r);
    return ei::pselect(i4, ei::pset1<P>(v[3]), r);
  };
  static constexpr double kC[] = {0.5, 1.0, 1.5, 0.0};
  const P c = pick(kC, 0.0), hi = pick(coef::kAtanHi, 0.0), lo = pick(coef::kAtanLo, 0.0);
  const P num = ei::pselect(i4, ei::pset1<P>(-1.0), ei::psub(a, c));
  const P den = ei::pselect(i4, a, ei::pmadd(c, a, one));
  const P t = ei::pdiv(num, den);
  const P z = ei::pmul(t, t);
  const P low = Corrected ? ei::padd(lo, corr) : lo;
  const P v = ei::padd(hi, ei::padd(t, ei::pmadd(ei::pmul(z, t), estrin(z, coef::kAtan), low)));
  return ei::por(v, ei::pand(x, ei::pset1<P>(-0.0)));
}
template <class P>
METAGRAD_INLINE inline P atan_pd(const P& x) {
  return atan_kernel(x, x);  // (corr unused)
}

/// softplus x = log(1 + e^x) as torch.nn.functional.softplus (x itself above
/// 20): max(x, 0) + log1p(e^-|x|), which neither overflows nor cancels.
/// d/dx softplus = sigmoid(x).
template <class P>
METAGRAD_INLINE inline P softplus_pd(const P& x) {
  const P v = ei::padd(ei::pmax(x, ei::pset1<P>(0.0)), log1p_pd(exp_exact_pd(ei::pnegate(ei::pabs(x)))));
  return ei::pselect(ei::pcmp_lt(ei::pset1<P>(20.0), x), x, v);
}
/// sinh x: below 1/2 an odd polynomial (coef::kSinh); above, sign(x)
/// (t + t / (t + 1)) / 2 with t = expm1|x| (that form was 3 ulp off near
/// 0.12). A packet with a lane beyond 709 (where t overflows before sinh
/// does) goes to <cmath>. d/dx sinh = cosh.
template <class P>
METAGRAD_INLINE inline P sinh_pd(const P& x) {
  const P a = ei::pabs(x);
  if (any_lane(ei::pcmp_lt(ei::pset1<P>(709.0), a))) return per_lane(x, [](double v) { return std::sinh(v); });
  const P t = expm1_pd(a);
  const P big = ei::pmul(ei::pset1<P>(0.5), ei::padd(t, ei::pdiv(t, ei::padd(t, ei::pset1<P>(1.0)))));
  const P z = ei::pmul(a, a);
  const P small = ei::pmadd(ei::pmul(z, a), horner(z, coef::kSinh), a);
  const P h = ei::pselect(ei::pcmp_lt(a, ei::pset1<P>(0.5)), small, big);
  return ei::pselect(ei::pcmp_eq(x, x), ei::por(h, ei::pand(x, ei::pset1<P>(-0.0))), x);
}
/// cosh x = 1 + t^2 / (2 (1 + t)), t = expm1|x|, below ln2 / 2 (no
/// cancellation against the 1); e / 2 + 1 / (2 e), e = e^|x|, above. A packet
/// with a lane beyond 709 goes to <cmath>. d/dx cosh = sinh.
template <class P>
METAGRAD_INLINE inline P cosh_pd(const P& x) {
  const P a = ei::pabs(x);
  if (any_lane(ei::pcmp_lt(ei::pset1<P>(709.0), a))) return per_lane(x, [](double v) { return std::cosh(v); });
  const P half = ei::pset1<P>(0.5), one = ei::pset1<P>(1.0);
  const P small_a = ei::pcmp_lt(a, ei::pset1<P>(0.34657359027997264));
  const P t = expm1_core(ei::pmin(a, ei::pset1<P>(0.34657359027997264)));
  const P small = ei::padd(one, ei::pdiv(ei::pmul(t, t), ei::padd(ei::padd(one, t), ei::padd(one, t))));
  const P e = exp_exact_pd(a);
  const P big = ei::pmadd(half, e, ei::pdiv(half, e));
  return ei::pselect(small_a, small, big);
}

/// 1 / (1 + e^-x) on one scalar, without cancellation for x < 0.
template <class S>
S scalar_sigmoid(S x) {
  const S e = std::exp(-std::fabs(x));
  return (x < 0 ? e : S(1)) / (S(1) + e);
}

#if METAGRAD_VECTOR_EXTENSIONS
/// Bytes / 4 floats and as many doubles as vector types (a typedef of a size
/// that depends on a template parameter inside a function is not a vector
/// type to g++'s __builtin_convertvector).
template <std::size_t Bytes>
struct widening {
  typedef float floats __attribute__((vector_size(Bytes)));
  typedef double doubles __attribute__((vector_size(2 * Bytes)));
};
#endif
/// Float packets through a double kernel of their lanes (one operand or
/// two): widened, computed a double packet at a time, narrowed.
template <class P, class K, class... Q>
METAGRAD_INLINE inline P widened(K kernel, const P& x, const Q&... y) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
  using PD = typename ei::packet_traits<double>::type;
  constexpr int n = ei::unpacket_traits<P>::size, m = ei::unpacket_traits<PD>::size;
#pragma GCC diagnostic pop
#if METAGRAD_VECTOR_EXTENSIONS
  if constexpr (n >= m && n % m == 0) {
    // in registers (vcvtps2pd / vcvtpd2ps): through memory, a packet loaded
    // from n scalar stores is not forwarded from them (a stall per load;
    // sinh, log2, erf, asinh of float took 1.4-2x their time)
    using VF = typename widening<sizeof(P)>::floats;
    using VD = typename widening<sizeof(P)>::doubles;
    // (no function takes or returns a VD by value: twice a packet's width,
    // it has no register of its own — g++'s -Wpsabi in an SSE2 build)
    auto part = [](const VD& v, int i) METAGRAD_INLINE {
      PD r;
      std::memcpy(&r, reinterpret_cast<const char*>(&v) + i * sizeof(double), sizeof(PD));
      return r;
    };
    VF vf;
    std::memcpy(&vf, &x, sizeof(P));
    VD vd = __builtin_convertvector(vf, VD);
    std::array<VD, sizeof...(Q)> vy;
    [[maybe_unused]] int k = 0;
    ((std::memcpy(&vf, &y, sizeof(P)), vy[k++] = __builtin_convertvector(vf, VD)), ...);
    for (int i = 0; i < n; i += m) {
      const PD r = std::apply([&](const auto&... w) METAGRAD_INLINE { return kernel(part(vd, i), part(w, i)...); }, vy);
      std::memcpy(reinterpret_cast<char*>(&vd) + i * sizeof(double), &r, sizeof(PD));
    }
    vf = __builtin_convertvector(vd, VF);
    P r;
    std::memcpy(&r, &vf, sizeof(P));
    return r;
  } else
#endif
  {
    constexpr int w = n < m ? m : n;
    alignas(64) float f[n];
    alignas(64) double d[w];
    alignas(64) std::array<double, w> e[sizeof...(Q) + 1];
    ei::pstoreu(f, x);
    for (int i = 0; i < n; ++i) d[i] = f[i];
    [[maybe_unused]] int k = 0;
    ([&](const Q& q) {
      ei::pstoreu(f, q);
      for (int i = 0; i < n; ++i) e[k][i] = f[i];
      ++k;
    }(y), ...);
    for (int i = 0; i < n; i += m) {
      auto call = [&]<std::size_t... J>(std::index_sequence<J...>) {
        return kernel(ei::ploadu<PD>(d + i), ei::ploadu<PD>(e[J].data() + i)...);
      };
      ei::pstoreu(d + i, call(std::make_index_sequence<sizeof...(Q)>{}));
    }
    for (int i = 0; i < n; ++i) f[i] = static_cast<float>(d[i]);
    return ei::ploadu<P>(f);
  }
}
template <class P, class K>
METAGRAD_INLINE inline P via_double(const P& x, K kernel) {
  return widened(kernel, x);
}
template <class P, class K>
METAGRAD_INLINE inline P via_double(const P& x, const P& y, K kernel) {
  return widened(kernel, x, y);
}

// float packets: Eigen's float kernels where they are within 2 ulp (sin, cos,
// log1p), own float kernels for exp, log, expm1 and tanh (Eigen's float exp
// is 5 ulp off near +-88 and flushes subnormal results; its tanh and expm1
// are 5 and 4 ulp off), and sigmoid by the double kernel on widened lanes
// (Eigen has none).

/// k = rint(x/ln2), r = x - k ln2 (|r| <= ln2/2) with ln2 in two parts, the
/// first of 16 bits (k ln2_hi is exact for |k| < 2^8).
template <class P>
METAGRAD_INLINE inline void reduce_ln2_ps(const P& x, P& k, P& r) {
  k = ei::print(ei::pmul(x, ei::pset1<P>(1.44269504f)));
  r = ei::pmadd(k, ei::pset1<P>(-1.428606765330187e-06f), ei::pmadd(k, ei::pset1<P>(-0.693145751953125f), x));
}
/// e^r - 1 for |r| <= ln2/2: its Taylor series to r^7 (below 2^-27 relative).
template <class P>
METAGRAD_INLINE inline P expm1_reduced_ps(const P& r) {
  P q = ei::pset1<P>(1.0f / 5040.0f);
  q = ei::pmadd(q, r, ei::pset1<P>(1.0f / 720.0f));
  q = ei::pmadd(q, r, ei::pset1<P>(1.0f / 120.0f));
  q = ei::pmadd(q, r, ei::pset1<P>(1.0f / 24.0f));
  q = ei::pmadd(q, r, ei::pset1<P>(1.0f / 6.0f));
  const P z = ei::pmul(r, r);
  return ei::pmadd(ei::pmul(z, r), q, ei::pmadd(z, ei::pset1<P>(0.5f), r));
}

/// e^x for float lanes, in float: 2^k (1 + expm1(r)), scaled by 2^k in steps
/// (subnormal results and overflow).
template <class P>
METAGRAD_INLINE inline P exp_ps(const P& x) {
  const P xc = ei::pmin(ei::pmax(x, ei::pset1<P>(-104.0f)), ei::pset1<P>(89.0f));
  P k, r;
  reduce_ln2_ps(xc, k, r);
  const P v = ldexp_wide(ei::padd(ei::pset1<P>(1.0f), expm1_reduced_ps(r)), k);
  return ei::pselect(ei::pcmp_eq(x, x), v, x);
}
/// expm1 x = 2^k expm1(r) + (2^k - 1) in one rounding, for x in [-18, 18]
/// (|k| <= 26: 2^k exact). k is 0 for |x| < ln2, where 2^k (1 + p) - 1 would
/// cancel: there r = x and the series runs to r^11 (below 2^-30 relative on
/// |r| < ln2).
template <class P>
METAGRAD_INLINE inline P expm1_core_ps(const P& x) {
  const P one = ei::pset1<P>(1.0f);
  P k, r;
  reduce_ln2_ps(x, k, r);
  const P near0 = ei::pcmp_lt(ei::pabs(x), ei::pset1<P>(0.693147f));
  k = ei::pselect(near0, ei::pset1<P>(0.0f), k);
  r = ei::pselect(near0, x, r);
  P q = ei::pset1<P>(1.0f / 39916800.0f);
  q = ei::pmadd(q, r, ei::pset1<P>(1.0f / 3628800.0f));
  q = ei::pmadd(q, r, ei::pset1<P>(1.0f / 362880.0f));
  q = ei::pmadd(q, r, ei::pset1<P>(1.0f / 40320.0f));
  q = ei::pmadd(q, r, ei::pset1<P>(1.0f / 5040.0f));
  q = ei::pmadd(q, r, ei::pset1<P>(1.0f / 720.0f));
  q = ei::pmadd(q, r, ei::pset1<P>(1.0f / 120.0f));
  q = ei::pmadd(q, r, ei::pset1<P>(1.0f / 24.0f));
  q = ei::pmadd(q, r, ei::pset1<P>(1.0f / 6.0f));
  const P z = ei::pmul(r, r);
  const P p = ei::pmadd(ei::pmul(z, r), q, ei::pmadd(z, ei::pset1<P>(0.5f), r));
  const P s = exp2i(k);
  return ei::pmadd(s, p, ei::psub(s, one));
}
/// expm1 and tanh of float lanes: the lines above on the float core (expm1
/// core on [-18, 18], tanh clamped at 9.5, where it has rounded to 1).
template <class P>
METAGRAD_INLINE inline P expm1_ps(const P& x) {
  return expm1_line(x, [](const P& v) METAGRAD_INLINE { return expm1_core_ps(v); },
                    [](const P& v) METAGRAD_INLINE { return exp_ps(v); }, 18.0f, 0x1p-25f);
}
template <class P>
METAGRAD_INLINE inline P tanh_ps(const P& x) {
  return tanh_line(x, [](const P& v) METAGRAD_INLINE { return expm1_core_ps(v); }, 9.5f);
}
// (sigmoid, tan, atan, softplus, log2, log10, sinh and cosh of float lanes:
// the double kernels on widened lanes, METAGRAD_DETAIL_VMATH_OP_WIDENED below.)
template <class P>
METAGRAD_INLINE inline P log_ps(const P& x) {
  if (!any_lane_not_positive_normal(x)) return log_positive_normal(x);
  if (any_lane(ei::pand(ei::pcmp_lt(ei::pset1<P>(0.0f), x), ei::pcmp_lt(x, ei::pset1<P>(0x1p-126f)))))
    return per_lane(x, [](float v) { return std::log(v); });
  return log_normal_lanes(x);
}
template <class P>
METAGRAD_INLINE inline P sin_ps(const P& x) {
  if constexpr (ei::packet_traits<float>::HasSin) return ei::psin(x);
  else return via_double(x, [](const auto& d) METAGRAD_INLINE { return sincos_pd<false>(d); });
}
template <class P>
METAGRAD_INLINE inline P cos_ps(const P& x) {
  if constexpr (ei::packet_traits<float>::HasCos) return ei::pcos(x);
  else return via_double(x, [](const auto& d) METAGRAD_INLINE { return sincos_pd<true>(d); });
}
template <class P>
METAGRAD_INLINE inline P log1p_ps(const P& x) {
  if constexpr (ei::packet_traits<float>::HasLog1p) return ei::plog1p(x);
  else return via_double(x, [](const auto& d) METAGRAD_INLINE { return log1p_pd(d); });
}

/// The scalar types with these kernels.
template <class S>
concept Vectorised = std::is_same_v<S, double> || std::is_same_v<S, float>;

/// Whether Eigen expressions run the packet kernels. They need fused
/// multiply-add (x86-64-v3, -march=haswell or later; ARM64): without it, as in
/// a plain x86-64 build (SSE2), glibc's <cmath> is faster (it picks its FMA
/// code at run time) and the functors compute element by element with it.
#if defined(EIGEN_VECTORIZE_FMA) || defined(__FMA__) || defined(EIGEN_VECTORIZE_NEON)
inline constexpr bool packet_kernels = true;
#else
inline constexpr bool packet_kernels = false;
#endif

/// One element through the packet kernel (in lane 0 of a full packet): where
/// the kernels run, an element gives the same bits whether Eigen reaches it
/// in a packet or alone (an unaligned head, a tail, a one-element tensor),
/// so results never depend on where an array happens to be allocated.
template <class S, class F>
METAGRAD_INLINE inline S one_lane(S x, F kernel) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
  using P = typename ei::packet_traits<S>::type;
#pragma GCC diagnostic pop
  return ei::pfirst(kernel(ei::pset1<P>(x)));
}
/// (the same for a function of two operands)
template <class S, class F>
METAGRAD_INLINE inline S one_lane(S x, S y, F kernel) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
  using P = typename ei::packet_traits<S>::type;
#pragma GCC diagnostic pop
  return ei::pfirst(kernel(ei::pset1<P>(x), ei::pset1<P>(y)));
}

// The functors: Eigen's unaryExpr vectorises them (functor_traits below).
// `float` packets go to NAME##_ps (METAGRAD_DETAIL_VMATH_OP), or widen to
// `double` lanes and run NAME##_pd (METAGRAD_DETAIL_VMATH_OP_WIDENED). (The
// macros stay defined: vmath_erf.hpp, vmath_inverse_hyperbolic.hpp and
// vmath_inverse_trig.hpp make their functors with them.)
#define METAGRAD_DETAIL_VMATH_OP_IMPL(NAME, SCALAR_FN, FLOAT_PACKET)            \
  template <class S>                                                            \
  struct NAME##_op {                                                            \
    METAGRAD_INLINE S operator()(const S& x) const {                            \
      if constexpr (packet_kernels && Vectorised<S>)                            \
        return one_lane(x, [](const auto& p) METAGRAD_INLINE { return NAME##_op{}.packetOp(p); });\
      else                                                                      \
        return SCALAR_FN(x);                                                    \
    }                                                                           \
    template <class P>                                                          \
    METAGRAD_INLINE P packetOp(const P& x) const {                              \
      if constexpr (std::is_same_v<S, double>) return NAME##_pd(x);             \
      else return FLOAT_PACKET;                                                 \
    }                                                                           \
  };

#define METAGRAD_DETAIL_VMATH_OP(NAME, SCALAR_FN) METAGRAD_DETAIL_VMATH_OP_IMPL(NAME, SCALAR_FN, NAME##_ps(x))
#define METAGRAD_DETAIL_VMATH_OP_WIDENED(NAME, SCALAR_FN)                       \
  METAGRAD_DETAIL_VMATH_OP_IMPL(NAME, SCALAR_FN, via_double(x, [](const auto& d) METAGRAD_INLINE { return NAME##_pd(d); }))
/// The functor of a function of two operands (Eigen's binaryExpr): one
/// element as lane 0 of a full packet where the kernels run, else
/// SCALAR_FN; float packets widened to double lanes. (Stays defined:
/// vmath_pow.hpp and vmath_atan2_hypot.hpp make their functors with it.)
#define METAGRAD_DETAIL_VMATH_BINARY_OP(NAME, SCALAR_FN)                                      \
  template <class S>                                                                          \
  struct NAME##_op {                                                                          \
    METAGRAD_INLINE S operator()(const S& x, const S& y) const {                              \
      if constexpr (packet_kernels && Vectorised<S>) {                                        \
        return one_lane(x, y, [](const auto& p, const auto& q) METAGRAD_INLINE { return NAME##_op{}.packetOp(p, q); }); \
      } else {                                                                                \
        return SCALAR_FN(x, y);                                                               \
      }                                                                                       \
    }                                                                                         \
    template <class P>                                                                        \
    METAGRAD_INLINE P packetOp(const P& x, const P& y) const {                                \
      if constexpr (std::is_same_v<S, double>) return NAME##_pd(x, y);                        \
      else return via_double(x, y, [](const auto& a, const auto& b) METAGRAD_INLINE { return NAME##_pd(a, b); }); \
    }                                                                                         \
  };
METAGRAD_DETAIL_VMATH_OP(exp, std::exp)
METAGRAD_DETAIL_VMATH_OP(log, std::log)
METAGRAD_DETAIL_VMATH_OP(sin, std::sin)
METAGRAD_DETAIL_VMATH_OP(cos, std::cos)
METAGRAD_DETAIL_VMATH_OP(expm1, std::expm1)
METAGRAD_DETAIL_VMATH_OP(log1p, std::log1p)
METAGRAD_DETAIL_VMATH_OP(tanh, std::tanh)
// sigmoid widened: in float, e / (1 + e) would add exp's 1.2 ulp to the
// division's (2.25 ulp measured)
METAGRAD_DETAIL_VMATH_OP_WIDENED(sigmoid, scalar_sigmoid)
METAGRAD_DETAIL_VMATH_OP_WIDENED(softplus, math::softplus)
METAGRAD_DETAIL_VMATH_OP_WIDENED(tan, std::tan)
METAGRAD_DETAIL_VMATH_OP_WIDENED(atan, std::atan)
METAGRAD_DETAIL_VMATH_OP_WIDENED(sinh, std::sinh)
METAGRAD_DETAIL_VMATH_OP_WIDENED(cosh, std::cosh)
METAGRAD_DETAIL_VMATH_OP_WIDENED(log2, std::log2)
METAGRAD_DETAIL_VMATH_OP_WIDENED(log10, std::log10)

}  // namespace metagrad::vmath

namespace Eigen::internal {
// (about 40 multiplies each; packets for float and double, with FMA)
template <class S>
struct vmath_traits {
  enum {
    Cost = 40 * NumTraits<S>::MulCost,
    PacketAccess = ::metagrad::vmath::packet_kernels && ::metagrad::vmath::Vectorised<S> && packet_traits<S>::Vectorizable
  };
};
template <class S> struct functor_traits<::metagrad::vmath::exp_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::log_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::sigmoid_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::sin_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::cos_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::expm1_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::log1p_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::tanh_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::softplus_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::tan_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::atan_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::sinh_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::cosh_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::log2_op<S>> : vmath_traits<S> {};
template <class S> struct functor_traits<::metagrad::vmath::log10_op<S>> : vmath_traits<S> {};
}  // namespace Eigen::internal
