// metagrad/dynamic/promotion.hpp — PyTorch's type promotion for the integer
// and bool tensors (indices, conditions) where they meet fractions:
//   int64 / bool tensor  (+ - * /)  floating tensor of U  -> U
//   int64 / bool tensor  (+ - * /)  floating number       -> double (the default dtype)
//   int64 / bool tensor  /  int64 / bool tensor or integer -> double (true division)
//   clamp(int64 tensor, floating bounds)                   -> double
// Each converts the integer operand (a copy of its values, no history: an
// integer tensor never requires grad) and runs the floating-point op, so the
// gradient reaching the floating operand is that op's. The same tensor with
// integer operands (+ - * with integers) keeps its type, as in PyTorch.
#pragma once
#include <optional>
#include <type_traits>

#include "clamp.hpp"

namespace metagrad {
namespace detail {
template <class I> concept integer_element = std::is_integral_v<I>;  // int64 and bool tensors
template <class F> concept floating_element = std::is_floating_point_v<F>;
}  // namespace detail

#define METAGRAD_PROMOTING_OP(OP)                                                                    \
  template <detail::integer_element I, detail::floating_element F>                                  \
  BasicTensor<F> operator OP(const BasicTensor<I>& a, const BasicTensor<F>& b) {                    \
    return BasicTensor<F>(a) OP b;                                                                  \
  }                                                                                                 \
  template <detail::floating_element F, detail::integer_element I>                                  \
  BasicTensor<F> operator OP(const BasicTensor<F>& a, const BasicTensor<I>& b) {                    \
    return a OP BasicTensor<F>(b);                                                                  \
  }                                                                                                 \
  template <detail::integer_element I, detail::floating_element F>                                  \
  BasicTensor<double> operator OP(const BasicTensor<I>& a, F b) {                                   \
    return BasicTensor<double>(a) OP static_cast<double>(b);                                        \
  }                                                                                                 \
  template <detail::floating_element F, detail::integer_element I>                                  \
  BasicTensor<double> operator OP(F a, const BasicTensor<I>& b) {                                   \
    return static_cast<double>(a) OP BasicTensor<double>(b);                                        \
  }
METAGRAD_PROMOTING_OP(+)
METAGRAD_PROMOTING_OP(-)
METAGRAD_PROMOTING_OP(*)
METAGRAD_PROMOTING_OP(/)
#undef METAGRAD_PROMOTING_OP

/// Integer by integer: `/` is true division (a double tensor), as PyTorch's.
template <detail::integer_element I, detail::integer_element J>
BasicTensor<double> operator/(const BasicTensor<I>& a, const BasicTensor<J>& b) {
  return BasicTensor<double>(a) / BasicTensor<double>(b);
}
template <detail::integer_element I, detail::integer_element J>
BasicTensor<double> operator/(const BasicTensor<I>& a, J b) {
  return BasicTensor<double>(a) / static_cast<double>(b);
}
template <detail::integer_element J, detail::integer_element I>
BasicTensor<double> operator/(J a, const BasicTensor<I>& b) {
  return static_cast<double>(a) / BasicTensor<double>(b);
}

/// An integer tensor clamped to floating-point bounds is a double tensor
/// (clamp(t, 0.5, 1.5) would otherwise round the bounds to integers).
template <detail::integer_element I, detail::floating_element F>
BasicTensor<double> clamp(const BasicTensor<I>& x, F min, std::optional<std::type_identity_t<F>> max = std::nullopt) {
  return metagrad::clamp(BasicTensor<double>(x), static_cast<double>(min),
                         max ? std::optional<double>(static_cast<double>(*max)) : std::nullopt);
}
template <class T>
template <class F>
  requires(std::is_floating_point_v<F> && !std::is_floating_point_v<T>)
BasicTensor<double> BasicTensor<T>::clamp(F min, std::optional<std::type_identity_t<F>> max) const {
  return metagrad::clamp(*this, min, max);
}

}  // namespace metagrad
