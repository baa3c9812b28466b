// metagrad/rules/reductions.hpp — derivative rules of the reductions beyond
// sum, mean and prod (which live with the products in linalg.hpp), whole and
// along one dimension:
//   logsumexp: y = m + log(sum(exp(x - m))), m = max x;  dx = g exp(x - y)
//   max, amax: y = max x;  dx = g / k where x == y (k ties), 0 elsewhere —
//              the gradient split evenly among ties, as PyTorch's amax/max();
//              where y is a NaN, max() gives it to the NaNs, amax NaN to all
//   norm:      y = sqrt(sum(x^2));  dx = g x / y, and 0 when y = 0 (PyTorch);
//              no overflow or underflow at extreme values (PyTorch's has)
//   softmax:     y = exp(x) / sum(exp(x));  dx = y (g - sum(g y))
//   log_softmax: y = (x - m) - log(sum(exp(x - m))), m = max x;  dx = g - exp(y) sum(g)
//   cumsum:      y_i = sum_{j <= i} x_j;    dx_i = sum_{j >= i} g_j
//   var:         y = sum((x - mean)^2) / (N - c);  dx = 2 g (x - mean) / (N - c)
//   std:         y = sqrt(var);  dx = g (x - mean) / ((N - c) y), 0 when y = 0
// (c = 1 for the unbiased estimate.) A number is its own reduction (0-d
// tensors): logsumexp(x) = max(x) = x, norm(x) = |x|. The static symbolic
// derivative `mg::d` writes each rule's tangent with the library's own ops
// (static/diff.hpp); the sweeps, the Hessians' duals and the bridge call the
// whole-array VJPs.
//
// Along one dimension (dynamic mode: `logsumexp(x, d)`, `t.var(d)`, ...), a
// rule gives the value of one line, `line(in, n, stride)` (a reduction) or
// `map_line(in, out, n, stride)` (softmax, cumsum), and its formula
// `vjp_along(x, y, g, d)`, where `d` is the engine's view of the dimension:
// `d.back(t)` puts a reduced result's dimension back (size 1, broadcasting
// against x), `d.sum(t)` / `d.mean(t)` reduce along it keeping it,
// `d.cumsum(t)` runs along it, `d.count()` is the number of elements reduced
// and `d.correction()` var's / std's c. A whole reduction is the same with
// every element on one line. What a node saves is probed from `vjp_along`.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../detail/config.hpp"
#include "../detail/number.hpp"
#include "select.hpp"

namespace metagrad {
namespace math {
/// A contiguous line of elements, as the kernels below map it.
template <class T> using Line = Eigen::Array<T, Eigen::Dynamic, 1>;
template <class T> requires ::metagrad::detail::is_number_v<T> constexpr T logsumexp_all(T x) { return x; }
template <class T> requires ::metagrad::detail::is_number_v<T> constexpr T max_all(T x) { return x; }
template <class T> requires ::metagrad::detail::is_number_v<T> constexpr T norm_all(T x) { return abs(x); }

/// The largest element; NaN if there is one (torch.max); PyTorch's error on
/// an empty array.
template <class D>
auto max_all(const Eigen::ArrayBase<D>& x) {
  const auto& v = x.derived().eval();
  using S = typename D::Scalar;
  if (v.size() == 0)
    ::metagrad::detail::fail("max(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                             "reduction dim with the 'dim' argument.");
  S m = v(0);
  for (Eigen::Index i = 0; i < v.size(); ++i) {
    const S e = v(i);
    if (e != e) return e;
    if (e > m) m = e;
  }
  return m;
}
/// exp of every element (the vectorised kernels for float and double).
template <class D>
auto exp_elements(const Eigen::ArrayBase<D>& x) {
  if constexpr (vmath::Vectorised<typename D::Scalar>) return exp(x);
  else return x.derived().unaryExpr([](const auto& e) { using std::exp; return exp(e); });
}
/// log(sum(exp(x))) without overflow: the largest element is taken out first
/// (an infinite one is not, as PyTorch); -inf for an empty array.
template <class D>
auto logsumexp_all(const Eigen::ArrayBase<D>& x) {
  using std::log;
  using S = typename D::Scalar;
  const auto& v = x.derived().eval();
  if (v.size() == 0) return S(-std::numeric_limits<double>::infinity());
  S m = v(0);
  for (Eigen::Index i = 1; i < v.size(); ++i)
    if (v(i) > m) m = v(i);
  if (m != m || m == S(std::numeric_limits<double>::infinity()) || m == S(-std::numeric_limits<double>::infinity())) m = S(0);
  return S(m + log(S(exp_elements(v - m).sum())));
}
/// The real type under a (nested) dual: the limits a value is compared with.
template <class T> struct base_real { using type = T; };
template <class T> requires ::metagrad::detail::is_dual<T>::value
struct base_real<T> { using type = typename base_real<::metagrad::detail::dual_part_t<T>>::type; };
/// sqrt(sum x_k^2) over n elements `s` apart: the plain sum of squares when it
/// is a normal number, else again scaled by the largest |x_k| (no overflow
/// or underflow: [1e200, 1e200] and [1e-200, 1e-200] keep their norms, where
/// PyTorch's give inf and 0), so only extreme values pay a second pass.
template <class T>
T norm_line(const T* in, std::int64_t n, std::int64_t s) {
  using std::abs, std::isfinite, std::sqrt;
  using L = std::numeric_limits<typename base_real<T>::type>;
  T ss = 0;
  if constexpr (vmath::Vectorised<T>) {
    if (s == 1) ss = Eigen::Map<const Line<T>>(in, n).square().sum();
    else for (std::int64_t k = 0; k < n; ++k) ss += in[k * s] * in[k * s];
  } else {
    for (std::int64_t k = 0; k < n; ++k) ss += in[k * s] * in[k * s];
  }
  if ((ss >= T(L::min()) && ss <= T(L::max())) || ss == T(0) || ss != ss) {
    if (ss != T(0)) return sqrt(ss);
    bool all_zero = true;  // (squares of tiny values underflow to 0 too)
    for (std::int64_t k = 0; k < n && all_zero; ++k) all_zero = in[k * s] == T(0);
    if (all_zero) return ss;
  }
  T scale = 0;
  for (std::int64_t k = 0; k < n; ++k) scale = std::max(scale, T(abs(in[k * s])));
  if (scale == T(0) || !isfinite(scale)) return scale;
  T scaled = 0;
  for (std::int64_t k = 0; k < n; ++k) scaled += (in[k * s] / scale) * (in[k * s] / scale);
  return scale * sqrt(scaled);
}
template <class D>
auto norm_all(const Eigen::ArrayBase<D>& x) {
  using S = typename D::Scalar;
  const auto& v = x.derived().eval();
  return S(norm_line(v.data(), v.size(), 1));
}

/// g / k on the k elements equal to the maximum y (NaN elements when y is
/// NaN), 0 elsewhere.
template <class X, class Y, class G> requires ::metagrad::detail::is_number_v<X>
constexpr auto max_vjp(const X&, const Y&, const G& g) { return g; }
template <class D, class Y, class G>
auto max_vjp(const Eigen::ArrayBase<D>& x, const Y& y, const G& g) {
  using S = typename D::Scalar;
  const auto& v = x.derived();
  const S m = static_cast<S>(y);
  auto spread = [&](const auto& at_max) {
    return typename D::PlainObject(select(at_max, static_cast<S>(g) / static_cast<S>(at_max.count()), S(0)));
  };
  return m == m ? spread(v == m) : spread(v != v);
}
/// amax's: g / k on the k elements equal to the maximum y; NaN everywhere
/// when y is NaN (no element equals it: PyTorch's 0 / 0).
template <class X, class Y, class G> requires ::metagrad::detail::is_number_v<X>
constexpr auto amax_vjp(const X&, const Y&, const G& g) { return g; }
template <class D, class Y, class G>
auto amax_vjp(const Eigen::ArrayBase<D>& x, const Y& y, const G& g) {
  using S = typename D::Scalar;
  using P = typename D::PlainObject;
  const auto& v = x.derived();
  const S m = static_cast<S>(y);
  if (m != m) return P(P::Constant(v.rows(), v.cols(), S(std::numeric_limits<double>::quiet_NaN())));
  const auto at_max = (v == m).eval();
  return P(select(at_max, static_cast<S>(g) / static_cast<S>(at_max.count()), S(0)));
}
/// g exp(x - y) (logsumexp's VJP: the softmax times g). On numbers, and on
/// tensors along a dimension (dynamic logsumexp(x, d), y and g broadcast back
/// along d), it is the formula as written; on an Eigen array y and g are numbers.
template <class X, class Y, class G>
constexpr auto logsumexp_vjp(const X& x, const Y& y, const G& g) {
  if constexpr (!is_array_v<X>) {
    return g * exp(x - y);  // (math::exp on numbers: constexpr)
  } else if constexpr (is_array_v<Y>) {  // along a dimension of an Eigen array: y and g broadcast back
    return typename X::PlainObject(g * exp_elements(x.derived() - y));
  } else {
    using S = typename X::Scalar;
    return typename X::PlainObject(static_cast<S>(g) * exp_elements(x.derived() - static_cast<S>(y)));
  }
}
}  // namespace math

namespace rules {
using namespace ::metagrad::math;
/// sum_k exp(in[k] - m) over a contiguous line, exp in SIMD packets
/// (detail/vmath.hpp): a 1000-wide softmax spent a fifth of a classifier's
/// step in scalar exp calls. out, when given, keeps each exp(in[k] - m).
/// The largest of a contiguous, non-empty line, in packets (a line holding
/// a NaN ends all NaN either way: its exp is NaN).
template <class T>
T line_max(const T* in, std::int64_t n) {
  return Eigen::Map<const Line<T>>(in, n).maxCoeff();
}
template <class T>
T exp_shifted_sum(const T* in, std::int64_t n, T m, T* out = nullptr) {
  const Eigen::Map<const Line<T>> x(in, n);
  if (!out) return (x - m).unaryExpr(vmath::exp_op<T>{}).sum();
  Eigen::Map<Line<T>> y(out, n);
  y = (x - m).unaryExpr(vmath::exp_op<T>{});
  return y.sum();
}

/// R::map_line over every element of an Eigen array taken as one line (in
/// storage order: a matrix's elements all together), into a value of x's shape.
template <class R, class X>
auto whole_line(const X& x) {
  const auto& in = x.derived().eval();  // (a plain array read in place, an expression evaluated once)
  typename X::PlainObject out(in.rows(), in.cols());
  R::map_line(in.data(), out.data(), in.size(), 1);
  return out;
}

struct LogSumExp {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "LogsumexpBackward0";
  static constexpr const char* symbol = "logsumexp";
  template <class X> static constexpr auto f(const X& x) { return logsumexp_all(x); }
  template <class X, class Y, class G> static constexpr auto vjp(const X& x, const Y& y, const G& g) { return logsumexp_vjp(x, y, g); }
  /// The largest element taken out first; an infinite or NaN one is the result.
  /// (Written for any scalar with exp and log, duals included.)
  template <class T> static T line(const T* in, std::int64_t n, std::int64_t s) {
    using std::exp, std::isfinite, std::log;
    if (n == 0) return T(-std::numeric_limits<double>::infinity());
    if constexpr (vmath::Vectorised<T>) {
      if (s == 1) {
        const T m = line_max(in, n);
        return isfinite(m) ? log(exp_shifted_sum(in, n, m)) + m : m;
      }
    }
    T m = in[0];
    for (std::int64_t k = 1; k < n; ++k) m = std::max(m, in[k * s]);
    if (!isfinite(m)) return m;
    T sum = 0;
    for (std::int64_t k = 0; k < n; ++k) sum += exp(in[k * s] - m);
    return log(sum) + m;
  }
  template <class X, class Y, class G, class D>
  static auto vjp_along(const X& x, const Y& y, const G& g, const D& d) { return logsumexp_vjp(x, d.back(y), d.back(g)); }
};
struct Max {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "MaxBackward1";
  static constexpr const char* symbol = "max";
  template <class X> static constexpr auto f(const X& x) { return max_all(x); }
  template <class X, class Y, class G> static constexpr auto vjp(const X& x, const Y& y, const G& g) { return max_vjp(x, y, g); }
  /// NaN wins, as in PyTorch.
  template <class T> static T line(const T* in, std::int64_t n, std::int64_t s) {
    using std::isnan;
    if constexpr (vmath::Vectorised<T>) {  // (in packets; a NaN anywhere gives NaN)
      if (s == 1) return Eigen::Map<const Line<T>>(in, n).template maxCoeff<Eigen::PropagateNaN>();
    }
    T m = in[0];
    for (std::int64_t k = 1; k < n && !isnan(m); ++k)
      if (const T v = in[k * s]; isnan(v) || v > m) m = v;
    return m;
  }
  /// g / k on the k maxima; where the maximum is a NaN, on the k NaNs
  /// (PyTorch's evenly_distribute_backward). A line's maximum is a NaN
  /// exactly when the line holds one, so the two masks never overlap.
  template <class X, class Y, class G, class D>
  static auto vjp_along(const X& x, const Y& y, const G& g, const D& d) {
    using S = typename X::value_type;
    const auto hit = keep_where(x == d.back(y), S(1)) + keep_where(x != x, S(1));
    return hit * (d.back(g) / d.sum(hit));
  }
};
/// amax(x, d): max's rule along a dimension, under PyTorch's other node name,
/// with its formula for a line holding a NaN too: g / k on the k elements
/// equal to the maximum, none when it is a NaN, so 0 / 0 — NaN — on the
/// whole line (PyTorch's scale_grad_by_count).
struct Amax : Max {
  static constexpr const char* node_name = "AmaxBackward0";
  static constexpr const char* symbol = "amax";
  template <class X, class Y, class G> static constexpr auto vjp(const X& x, const Y& y, const G& g) { return amax_vjp(x, y, g); }
  template <class X, class Y, class G, class D>
  static auto vjp_along(const X& x, const Y& y, const G& g, const D& d) {
    using S = typename X::value_type;
    const auto hit = keep_where(x == d.back(y), S(1));
    return hit * (d.back(g) / d.sum(hit));
  }
};
struct Norm {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "NormBackward1";
  static constexpr const char* symbol = "norm";
  template <class X> static constexpr auto f(const X& x) { return norm_all(x); }
  template <class X, class Y, class G> static constexpr auto vjp(const X& x, const Y& y, const G& g) {
    if constexpr (::metagrad::detail::is_number_v<X>) {
      return keep_where(y != Y(0), g * x / y);
    } else {
      using S = typename X::Scalar;
      using P = typename X::PlainObject;
      const S n = static_cast<S>(y);
      if (n == S(0)) return P(P::Zero(x.rows(), x.cols()));
      // (g / y once is the cheap form while y^2 is a normal number; beyond,
      // a dual's tangent -g y' / y^2 overflows or underflows: x / y then)
      using R = typename base_real<S>::type;
      const R lo = std::sqrt(std::numeric_limits<R>::min());
      if (n >= S(lo) && n <= S(R(1) / lo)) return P(x.derived() * (static_cast<S>(g) / n));
      return P((x.derived() / n) * static_cast<S>(g));
    }
  }
  /// No overflow or underflow for extreme values (norm_line).
  template <class T> static T line(const T* in, std::int64_t n, std::int64_t s) { return norm_line(in, n, s); }
  template <class X, class Y, class G, class D>
  static auto vjp_along(const X& x, const Y& y, const G& g, const D& d) {
    using S = typename X::value_type;
    return x * d.back(keep_where(y != S(0), g / y));
  }
};
struct Softmax {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "SoftmaxBackward0";
  static constexpr const char* symbol = "softmax";
  /// Over every element (static mode's `softmax(e)`): map_line on the whole
  /// array; a number's is exp(x - x), 1 (NaN at an infinity, as PyTorch's).
  template <class X> static constexpr auto f(const X& x) {
    if constexpr (::metagrad::detail::is_number_v<X>) return exp(x - x);
    else return whole_line<Softmax>(x);
  }
  /// dx = y (g - sum(g y)) over every element.
  template <class X, class Y, class G> static constexpr auto vjp(const X&, const Y& y, const G& g) {
    if constexpr (::metagrad::detail::is_number_v<Y>) return y * (g - g * y);
    else return typename Y::PlainObject(y * (g - (g * y).sum()));
  }
  template <class T> static void map_line(const T* in, T* out, std::int64_t n, std::int64_t s) {
    using std::exp;
    if (n == 0) return;
    if constexpr (vmath::Vectorised<T>) {
      if (s == 1) {
        const T sum = exp_shifted_sum(in, n, line_max(in, n), out);
        Eigen::Map<Line<T>>(out, n) /= sum;
        return;
      }
    }
    T m = in[0];
    for (std::int64_t k = 1; k < n; ++k) m = std::max(m, in[k * s]);
    T sum = 0;
    for (std::int64_t k = 0; k < n; ++k) sum += (out[k * s] = exp(in[k * s] - m));
    for (std::int64_t k = 0; k < n; ++k) out[k * s] /= sum;
  }
  template <class X, class Y, class G, class D>
  static auto vjp_along(const X&, const Y& y, const G& g, const D& d) { return y * (g - d.sum(g * y)); }
  /// vjp_along on one line of numbers (the engine's path without create_graph).
  template <class T> static void vjp_line(const T* y, const T* g, T* out, std::int64_t n, std::int64_t s) {
    if constexpr (vmath::Vectorised<T>) {
      if (s == 1) {
        const Eigen::Map<const Line<T>> yl(y, n), gl(g, n);
        const T dot = (gl * yl).sum();
        Eigen::Map<Line<T>>(out, n) = yl * (gl - dot);
        return;
      }
    }
    T dot = 0;
    for (std::int64_t k = 0; k < n; ++k) dot += g[k * s] * y[k * s];
    for (std::int64_t k = 0; k < n; ++k) out[k * s] = y[k * s] * (g[k * s] - dot);
  }
};
struct LogSoftmax {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "LogSoftmaxBackward0";
  static constexpr const char* symbol = "log_softmax";
  /// Over every element (static mode's `log_softmax(e)`); a number's is
  /// x - x, 0 (NaN at an infinity, as PyTorch's).
  template <class X> static constexpr auto f(const X& x) {
    if constexpr (::metagrad::detail::is_number_v<X>) return x - x;
    else return whole_line<LogSoftmax>(x);
  }
  /// dx = g - exp(y) sum(g) over every element.
  template <class X, class Y, class G> static constexpr auto vjp(const X&, const Y& y, const G& g) {
    if constexpr (::metagrad::detail::is_number_v<Y>) return g - exp(y) * g;
    else return typename Y::PlainObject(g - exp_elements(y) * g.sum());
  }
  /// (x - m) - log(sum(exp(x - m))), m the largest element, as PyTorch
  /// computes it: x - logsumexp(x) would lose the small differences to m's
  /// rounding when |m| is large ([1e308, 1e308, 1] gave [0, 0, -1e308], not
  /// -log 2), and an infinite or NaN m makes the whole line NaN, as there.
  template <class T> static void map_line(const T* in, T* out, std::int64_t n, std::int64_t s) {
    using std::exp, std::log;
    if (n == 0) return;
    if constexpr (vmath::Vectorised<T>) {
      if (s == 1) {
        const T m = line_max(in, n), l = log(exp_shifted_sum(in, n, m));
        Eigen::Map<Line<T>>(out, n) = (Eigen::Map<const Line<T>>(in, n) - m) - l;
        return;
      }
    }
    T m = in[0];
    for (std::int64_t k = 1; k < n; ++k) m = std::max(m, in[k * s]);
    T sum = 0;
    for (std::int64_t k = 0; k < n; ++k) sum += exp(in[k * s] - m);
    const T l = log(sum);
    for (std::int64_t k = 0; k < n; ++k) out[k * s] = (in[k * s] - m) - l;
  }
  template <class X, class Y, class G, class D>
  static auto vjp_along(const X&, const Y& y, const G& g, const D& d) { return g - exp(y) * d.sum(g); }
  /// vjp_along on one line of numbers (the engine's path without create_graph).
  template <class T> static void vjp_line(const T* y, const T* g, T* out, std::int64_t n, std::int64_t s) {
    using std::exp;
    if constexpr (vmath::Vectorised<T>) {
      if (s == 1) {
        const Eigen::Map<const Line<T>> yl(y, n), gl(g, n);
        Eigen::Map<Line<T>>(out, n) = gl - yl.unaryExpr(vmath::exp_op<T>{}) * gl.sum();
        return;
      }
    }
    T sum = 0;
    for (std::int64_t k = 0; k < n; ++k) sum += g[k * s];
    for (std::int64_t k = 0; k < n; ++k) out[k * s] = g[k * s] - exp(y[k * s]) * sum;
  }
};
struct Cumsum {
  static constexpr const char* node_name = "CumsumBackward0";
  static constexpr const char* symbol = "cumsum";
  template <class T> static void map_line(const T* in, T* out, std::int64_t n, std::int64_t s) {
    T acc = 0;
    for (std::int64_t k = 0; k < n; ++k) out[k * s] = (acc += in[k * s]);
  }
  template <class X, class Y, class G, class D>
  static auto vjp_along(const X&, const Y&, const G& g, const D& d) { return d.sum(g) - d.cumsum(g) + g; }
};
/// var and std: the second moment about the mean, divided by N - c.
template <bool Std>
struct Moment2 {
  static constexpr const char* node_name = Std ? "StdBackward0" : "VarBackward0";
  static constexpr const char* symbol = Std ? "std" : "var";
  static constexpr bool has_correction = true;  // line() takes c
  /// Two passes over the line shifted by its first element (a line of equal
  /// values has exactly 0, as PyTorch's Welford sums give, whatever the
  /// order of the sums; std's backward then gives it 0, not g / tiny).
  template <class T> static T line(const T* in, std::int64_t n, std::int64_t s, T correction) {
    if (n == 0) return T(0) / (T(0) - correction);
    const T x0 = in[0];
    T v;
    if constexpr (vmath::Vectorised<T>) {  // (both passes in packets)
      if (s == 1) {
        const Eigen::Map<const Line<T>> x(in, n);
        const T mean = (x - x0).sum() / static_cast<T>(n);
        v = (x - x0 - mean).square().sum() / (static_cast<T>(n) - correction);
        return Std ? std::sqrt(v) : v;
      }
    }
    T mean = 0;
    for (std::int64_t k = 0; k < n; ++k) mean += in[k * s] - x0;
    mean /= static_cast<T>(n);
    T ss = 0;
    for (std::int64_t k = 0; k < n; ++k) ss += (in[k * s] - x0 - mean) * (in[k * s] - x0 - mean);
    v = ss / (static_cast<T>(n) - correction);
    return Std ? std::sqrt(v) : v;
  }
  template <class X, class Y, class G, class D>
  static auto vjp_along(const X& x, const Y& y, const G& g, const D& d) {
    using S = typename X::value_type;
    const S denom = static_cast<S>(d.count()) - static_cast<S>(d.correction());
    if constexpr (Std) return d.back(keep_where(y != S(0), g / (y * denom))) * (x - d.mean(x));
    else return d.back(g) * (x - d.mean(x)) * (S(2) / denom);
  }
};
using Var = Moment2<false>;
using Std = Moment2<true>;
}  // namespace rules
}  // namespace metagrad

/// Every rule with a form along a dimension, with the domain (rules::Domain)
/// the tests and fuzzers sample its input on: the list the dynamic table
/// test, the random graphs and the fuzzer draw from (through
/// `detail::along_op<R>`). ProdDim is in rules/linalg.hpp.
#define METAGRAD_FOR_EACH_ALONG(M)                                                                        \
  M(Softmax, real) M(LogSoftmax, real) M(Cumsum, real) M(LogSumExp, real) M(Amax, real) M(ProdDim, real) \
  M(Var, real) M(Std, real) M(Norm, real)
