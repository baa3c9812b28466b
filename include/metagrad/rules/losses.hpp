// metagrad/rules/losses.hpp — derivative rules of the losses that are one
// node in PyTorch (mean reduction, n the number of elements):
//   mse_loss(a, b) = mean((a - b)^2):        da = 2 (a - b) g / n,  db = -da   MseLossBackward0
//   binary_cross_entropy_with_logits(z, y) = mean((1 - y) z - log sigmoid(z)),
//     log sigmoid(z) = min(z, 0) - log(1 + exp(-|z|)):
//                                            dz = (sigmoid(z) - y) g / n,  dy = -z g / n
//                                                                 BinaryCrossEntropyWithLogitsBackward0
// Written once for numbers, Eigen arrays, duals and tensors (the dynamic
// engine runs them in a PairNode; static mode as Binary nodes). l1_loss and
// cross_entropy are compositions of other rows, as in PyTorch (MeanBackward0
// over AbsBackward0; NllLossBackward0 over LogSoftmaxBackward0).
#pragma once
#include <Eigen/Core>
#include <cmath>
#include <type_traits>

#include "../detail/config.hpp"
#include "../detail/number.hpp"
#include "elementwise.hpp"
#include "probe.hpp"

namespace metagrad {
namespace rules {
namespace detail_loss {
template <class X> using scalar_t = ::metagrad::detail::element_type_t<X>;
/// The number of elements n the mean divides by.
template <class X>
auto count_of(const X& x) {
  using S = scalar_t<X>;
  if constexpr (::metagrad::detail::is_number_v<X>) return S(1);
  else if constexpr (requires { x.numel(); }) return static_cast<S>(x.numel());
  else return static_cast<S>(x.size());
}
/// The mean of the elements of an Eigen array (a number is its own).
template <class X>
auto mean_of(const X& x) {
  if constexpr (::metagrad::detail::is_number_v<X>) return x;
  else return typename X::Scalar(x.mean());
}
/// The shapes of a loss's operands must agree (PyTorch's phrase).
template <class A, class B>
void check_same_shape(const char* op, const A& a, const B& b) {
  static_assert(::metagrad::detail::is_number_v<A> == ::metagrad::detail::is_number_v<B>,
                "mg::nn::functional: a loss's input and target must both be numbers or both Eigen values of one shape");
  if constexpr (!::metagrad::detail::is_number_v<A>) {
    if (a.rows() != b.rows() || a.cols() != b.cols())
      ::metagrad::detail::fail(op, ": target size (", b.rows(), "x", b.cols(), ") must be the same as input size (",
                               a.rows(), "x", a.cols(), ")");
  }
}
}  // namespace detail_loss
namespace probe {
template <unsigned M> constexpr double count_of(const P<M>&) { return 1; }  // (a shape: reads no value)
}  // namespace probe

struct MseLoss {
  static constexpr bool elementwise = false, symbolic_d = false;
  static constexpr const char* node_name = "MseLossBackward0";
  static constexpr const char* symbol = "mse_loss";
  template <class A, class B> static auto f(const A& a, const B& b) {
    detail_loss::check_same_shape(symbol, a, b);
    if constexpr (::metagrad::detail::is_number_v<A>) return (a - b) * (a - b);
    else return typename A::Scalar(((a - b) * (a - b)).mean());  // (one pass, no temporary)
  }
  template <class A, class B, class Y, class G> static auto vjp_a(const A& a, const B& b, const Y&, const G& g) {
    using detail_loss::count_of;
    return (a - b) * (g * (detail_loss::scalar_t<G>(2) / count_of(a)));
  }
  template <class A, class B, class Y, class G> static auto vjp_b(const A& a, const B& b, const Y&, const G& g) {
    using detail_loss::count_of;
    return (b - a) * (g * (detail_loss::scalar_t<G>(2) / count_of(a)));
  }
};

struct BceWithLogits {
  static constexpr bool elementwise = false, symbolic_d = false;
  static constexpr const char* node_name = "BinaryCrossEntropyWithLogitsBackward0";
  static constexpr const char* symbol = "binary_cross_entropy_with_logits";
  /// One element's loss, (1 - y) z - min(z, 0) + log1p(exp(-|z|)), PyTorch's
  /// (1 - y) z - log sigmoid(z): no overflow for large |z|, and inf, not
  /// NaN, at z = +inf with y < 1 (where max(z, 0) - z y is inf - inf) —
  /// NaN where PyTorch's is NaN (numbers, duals, Eigen arrays).
  template <class Z, class Y> static auto term(const Z& z, const Y& y) {
    if constexpr (::metagrad::detail::is_number_v<Z>) {
      using std::abs, std::exp, std::log1p;
      return (Z(1) - y) * z - (z < Z(0) ? z : Z(0)) + log1p(exp(-abs(z)));
    } else {
      using S = typename Z::Scalar;
      if constexpr (vmath::Vectorised<S>) return ((S(1) - y) * z - z.min(S(0)) + math::log1p(math::exp(-z.abs()))).eval();
      else return z.binaryExpr(y, [](const S& a, const S& b) { return term(a, b); }).eval();  // (duals)
    }
  }
  template <class A, class B> static auto f(const A& z, const B& y) {
    detail_loss::check_same_shape(symbol, z, y);
    return detail_loss::mean_of(term(z, y));
  }
  template <class A, class B, class Y, class G> static auto vjp_a(const A& z, const B& y, const Y&, const G& g) {
    using detail_loss::count_of;
    return (sigmoid(z) - y) * (g / count_of(z));
  }
  template <class A, class B, class Y, class G> static auto vjp_b(const A& z, const B&, const Y&, const G& g) {
    using detail_loss::count_of;
    return -z * (g / count_of(z));
  }
};

}  // namespace rules
}  // namespace metagrad
