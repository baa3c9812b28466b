// metagrad/detail/vmath_erf.hpp — erf as a vector kernel for `double` and
// `float` packets (Eigen 3.4 computes erf of `double` one element at a time).
//
//   * |x| < 1: erf x = x + x Q(x^2), Q = erf(x)/x - 1 by a polynomial of
//     degree 12 in x^2 (below 2^-55 absolute error on [0, 1]): one rounding
//     of a value near x.
//   * 1 <= |x| < 6: erf x = sign(x) (1 - e^(-x^2) R(|x|)), R(a) = erfc(a) e^(a^2)
//     by a polynomial of degree 13 in |x| - c on four pieces ([1, 1.5),
//     [1.5, 2.25), [2.25, 3.5), [3.5, 6)), its coefficients chosen lane by
//     lane. A relative error e in R moves erf by e erfc(x), and erfc is at
//     most 0.16 and shrinks fast, so the later pieces may be less accurate:
//     fitted to 2^-56.4, 2^-52.7, 2^-49.6 and 2^-42.6 relative, each moves
//     erf by at most 0.04 ulp. x^2 is kept as hi + lo: e^(-x^2) = e^(-hi)
//     (1 - lo).
//   * |x| >= 6: +-1 (erfc(6) = 2e-17 is below half an ulp of 1).
// The coefficients were fitted in 50-digit arithmetic (mpmath's chebyfit).
// erfc is not built from these pieces: beyond x = 1.5 they are not accurate
// relative to erfc itself, so erfc stays one element at a time.
// d/dx erf = 2/sqrt(pi) e^(-x^2) (rules/elementwise.hpp, with vmath's exp).
#pragma once
#include "vmath.hpp"

namespace metagrad::vmath {
namespace coef {
// Q(u) = erf(sqrt u)/sqrt u - 1, u in [0, 1]
inline constexpr double kErfSmall[] = {
    0.1283791670955126, -0.3761263890318375, 0.11283791670954879, -0.026866170645076792, 0.0052239776248180145,
    -0.000854832698083379, 0.0001205533111164271, -1.4925595266831182e-05, 1.6461000484121368e-06,
    -1.6350312701054695e-07, 1.4659775274047436e-08, -1.1372848856791674e-09, 5.957176147748911e-11};
// R(a) = erfc(a) e^(a^2) = sum_i kErfcx[i][p] (a - kErfcxCenter[p])^i on piece p
inline constexpr double kErfcxCenter[4] = {1.25, 1.875, 2.875, 4.75};
inline constexpr double kErfcx[14][4] = {
    {0.3678229164523611, 0.2694299851646705, 0.1860549346844713, 0.1163027072102641},
    {-0.20882187596460985, -0.11801672272799837, -0.05856329265980377, -0.023503448598165916},
    {0.10679557149659845, 0.0481486300496699, 0.017685468287486513, 0.004661326367919034},
    {-0.05021827439590747, -0.018492027589906136, -0.005145047555415694, -0.0009080988968563344},
    {0.022011364250946238, 0.006738039159707331, 0.0014467282848424161, 0.00017392831480289404},
    {-0.009081627632959959, -0.0023432816665935586, -0.0003942814973367513, -3.277578290599404e-05},
    {0.003553109894683297, 0.0007814619941333649, 0.00010438962908706077, 6.081073403414264e-06},
    {-0.0013257829272368543, -0.0002508686797695211, -2.6903200509078057e-05, -1.1115609470604207e-06},
    {0.0004739707006153454, 7.77711603037643e-05, 6.760958309461039e-06, 2.0036663468155427e-07},
    {-0.00016296012111131222, -2.334418422231074e-05, -1.6591807701165628e-06, -3.5608039480012836e-08},
    {5.404491508514403e-05, 6.79645416012671e-06, 3.973117283573359e-07, 6.173315508932439e-09},
    {-1.7341459254977562e-05, -1.9252124808347863e-06, -9.335715643875243e-08, -1.0693784384105536e-09},
    {5.501701839828387e-06, 5.503030273989297e-07, 2.3070803761747786e-08, 2.1605238078652918e-10},
    {-1.6610767030625112e-06, -1.4788321739013853e-07, -5.19833281034379e-09, -3.637168322786334e-11}};
}  // namespace coef

/// erf of double lanes (see the banner). d/dx erf = 2/sqrt(pi) e^(-x^2).
template <class P>
METAGRAD_INLINE inline P erf_pd(const P& x) {
  const P a = ei::pabs(x);
  const P one = ei::pset1<P>(1.0);
  const P small = ei::pmadd(x, horner(ei::pmul(x, x), coef::kErfSmall), x);
  const P large = ei::pcmp_le(one, a);  // (false for NaN: small is NaN there)
  if (!any_lane(large)) return small;
  const P ac = ei::pmin(ei::pmax(a, one), ei::pset1<P>(6.0));
  const P m1 = ei::pcmp_le(ei::pset1<P>(1.5), ac), m2 = ei::pcmp_le(ei::pset1<P>(2.25), ac),
          m3 = ei::pcmp_le(ei::pset1<P>(3.5), ac);
  const auto pick = [&](const double(&v)[4]) METAGRAD_INLINE {
    return ei::pselect(m3, ei::pset1<P>(v[3]),
                       ei::pselect(m2, ei::pset1<P>(v[2]), ei::pselect(m1, ei::pset1<P>(v[1]), ei::pset1<P>(v[0]))));
  };
  const P t = ei::psub(ac, pick(coef::kErfcxCenter));
  P r = pick(coef::kErfcx[13]);
  for (int i = 12; i >= 0; --i) r = ei::pmadd(r, t, pick(coef::kErfcx[i]));
  const P hi = ei::pmul(ac, ac);
  const P lo = ei::pmadd(ac, ac, ei::pnegate(hi));  // a^2 - hi, exact
  // 1 - e^(-hi) (1 - lo) R in one rounding
  const P e = ei::pmadd(ei::pnegate(exp_pd(ei::pnegate(hi))), ei::pmadd(ei::pnegate(lo), r, r), one);
  const P big = ei::por(e, ei::pand(x, ei::pset1<P>(-0.0)));
  return ei::pselect(large, big, small);
}
// (float lanes: the double kernels on widened lanes)
METAGRAD_DETAIL_VMATH_OP_WIDENED(erf, std::erf)
}  // namespace metagrad::vmath

namespace Eigen::internal {
template <class S> struct functor_traits<::metagrad::vmath::erf_op<S>> : vmath_traits<S> {};
}  // namespace Eigen::internal
