// metagrad/rules/reductions.hpp — derivative rules of the full reductions
// beyond sum, mean and prod (which live with the products in linalg.hpp):
//   logsumexp: y = m + log(sum(exp(x - m))), m = max x;  dx = g exp(x - y)
//   max (amax): y = max x;  dx = g / k where x == y (k ties), 0 elsewhere —
//              the gradient split evenly among ties, as PyTorch's amax/max()
//   norm:      y = sqrt(sum(x^2));  dx = g x / y, and 0 when y = 0 (PyTorch)
// A number is its own reduction (0-d tensors): logsumexp(x) = max(x) = x,
// norm(x) = |x|. The static symbolic derivative `mg::d` writes each rule's
// tangent with the library's own ops (static/diff.hpp); the sweeps, the
// Hessians' duals and the bridge call the VJPs below.
#pragma once
#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <type_traits>

#include "../detail/config.hpp"
#include "../detail/number.hpp"
#include "select.hpp"

namespace metagrad {
namespace math {
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
template <class D>
auto norm_all(const Eigen::ArrayBase<D>& x) {
  using std::sqrt;
  using S = typename D::Scalar;
  return S(sqrt(S(x.derived().square().sum())));
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
/// g exp(x - y) (logsumexp's VJP: the softmax times g). On numbers, and on
/// tensors along a dimension (dynamic logsumexp(x, d), y and g broadcast back
/// along d), it is the formula as written; on an Eigen array y and g are numbers.
template <class X, class Y, class G>
constexpr auto logsumexp_vjp(const X& x, const Y& y, const G& g) {
  if constexpr (!is_array_v<X>) {
    return g * exp(x - y);  // (math::exp on numbers: constexpr)
  } else {
    using S = typename X::Scalar;
    return typename X::PlainObject(static_cast<S>(g) * exp_elements(x.derived() - static_cast<S>(y)));
  }
}
}  // namespace math

namespace rules {
using namespace ::metagrad::math;
struct LogSumExp {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "LogsumexpBackward0";
  static constexpr const char* symbol = "logsumexp";
  template <class X> static constexpr auto f(const X& x) { return logsumexp_all(x); }
  template <class X, class Y, class G> static constexpr auto vjp(const X& x, const Y& y, const G& g) { return logsumexp_vjp(x, y, g); }
};
struct Max {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "MaxBackward1";
  static constexpr const char* symbol = "max";
  template <class X> static constexpr auto f(const X& x) { return max_all(x); }
  template <class X, class Y, class G> static constexpr auto vjp(const X& x, const Y& y, const G& g) { return max_vjp(x, y, g); }
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
      if (static_cast<S>(y) == S(0)) return P(P::Zero(x.rows(), x.cols()));
      return P(x.derived() * (static_cast<S>(g) / static_cast<S>(y)));
    }
  }
};
}  // namespace rules
}  // namespace metagrad
