// metagrad/dynamic/promotion.hpp — PyTorch's type promotion for the integer
// and bool tensors (indices, conditions) where they meet fractions:
//   int64 / bool tensor  (+ - * /)  floating tensor of U  -> U
//   int64 / bool tensor  (+ - * /)  floating number       -> double (the default dtype)
//   int64 / bool tensor  /  int64 / bool tensor or integer -> double (true division)
//   clamp(int64 tensor, floating bounds)                   -> double
//   bool tensor  (+ *)  int64 tensor or integer            -> int64 (counts 0 / 1)
//   `-` with a bool tensor, of any kind                    -> refused (PyTorch's sentence)
// Each converts the integer operand (a copy of its values, no history: an
// integer tensor never requires grad) and runs the floating-point op, so the
// gradient reaching the floating operand is that op's. The same tensor with
// integer operands (+ - * with integers) keeps its type, as in PyTorch.
#pragma once
#include <concepts>
#include <optional>
#include <string_view>
#include <type_traits>

#include "clamp.hpp"

namespace metagrad {
namespace detail {
template <class I> concept integer_element = std::is_integral_v<I>;  // int64 and bool tensors
template <class F> concept floating_element = std::is_floating_point_v<F>;
/// `-` with a bool tensor (PyTorch refuses it).
template <class I>
constexpr bool bool_minus(std::string_view op) { return std::is_same_v<I, bool> && op == "-"; }
/// An integer number other than bool (`mask * 2` counts; `mask * true` stays bool).
template <class J> concept counting_number = std::is_integral_v<J> && !std::is_same_v<J, bool>;
}  // namespace detail

#define METAGRAD_PROMOTING_OP(OP)                                                                    \
  template <detail::integer_element I, detail::floating_element F>                                  \
  BasicTensor<F> operator OP(const BasicTensor<I>& a, const BasicTensor<F>& b) {                    \
    static_assert(!detail::bool_minus<I>(#OP), METAGRAD_BOOL_SUB_MESSAGE);                         \
    return BasicTensor<F>(a) OP b;                                                                  \
  }                                                                                                 \
  template <detail::floating_element F, detail::integer_element I>                                  \
  BasicTensor<F> operator OP(const BasicTensor<F>& a, const BasicTensor<I>& b) {                    \
    static_assert(!detail::bool_minus<I>(#OP), METAGRAD_BOOL_SUB_MESSAGE);                         \
    return a OP BasicTensor<F>(b);                                                                  \
  }                                                                                                 \
  template <detail::integer_element I, detail::floating_element F>                                  \
  BasicTensor<double> operator OP(const BasicTensor<I>& a, F b) {                                   \
    static_assert(!detail::bool_minus<I>(#OP), METAGRAD_BOOL_SUB_MESSAGE);                         \
    return BasicTensor<double>(a) OP static_cast<double>(b);                                        \
  }                                                                                                 \
  template <detail::floating_element F, detail::integer_element I>                                  \
  BasicTensor<double> operator OP(F a, const BasicTensor<I>& b) {                                   \
    static_assert(!detail::bool_minus<I>(#OP), METAGRAD_BOOL_SUB_MESSAGE);                         \
    return static_cast<double>(a) OP BasicTensor<double>(b);                                        \
  }
METAGRAD_PROMOTING_OP(+)
METAGRAD_PROMOTING_OP(-)
METAGRAD_PROMOTING_OP(*)
METAGRAD_PROMOTING_OP(/)
#undef METAGRAD_PROMOTING_OP

/// A bool tensor with an int64 tensor or an integer number (+ *) counts as
/// 0 / 1: an int64 tensor (`mask * 2`, `idx + mask`), as PyTorch promotes it.
#define METAGRAD_COUNTING_OP(OP)                                                                     \
  template <detail::counting_number J>                                                               \
  BasicTensor<std::int64_t> operator OP(const BasicTensor<bool>& a, J b) {                            \
    return detail::counts(a) OP static_cast<std::int64_t>(b);                                        \
  }                                                                                                  \
  template <detail::counting_number J>                                                               \
  BasicTensor<std::int64_t> operator OP(J a, const BasicTensor<bool>& b) {                            \
    return static_cast<std::int64_t>(a) OP detail::counts(b);                                        \
  }                                                                                                  \
  template <std::same_as<bool> B>                                                                    \
  BasicTensor<std::int64_t> operator OP(const BasicTensor<B>& a, const BasicTensor<std::int64_t>& b) { \
    return detail::counts(a) OP b;                                                                   \
  }                                                                                                  \
  template <std::same_as<bool> B>                                                                    \
  BasicTensor<std::int64_t> operator OP(const BasicTensor<std::int64_t>& a, const BasicTensor<B>& b) { \
    return a OP detail::counts(b);                                                                   \
  }
METAGRAD_COUNTING_OP(+)
METAGRAD_COUNTING_OP(*)
#undef METAGRAD_COUNTING_OP
/// ... and `-` refuses them, as every other `-` with a bool tensor.
template <std::same_as<bool> B, detail::counting_number J>
BasicTensor<std::int64_t> operator-(const BasicTensor<B>&, J) {
  static_assert(!std::is_same_v<B, bool>, METAGRAD_BOOL_SUB_MESSAGE);
  return {};
}
template <std::same_as<bool> B, detail::counting_number J>
BasicTensor<std::int64_t> operator-(J, const BasicTensor<B>&) {
  static_assert(!std::is_same_v<B, bool>, METAGRAD_BOOL_SUB_MESSAGE);
  return {};
}
template <std::same_as<bool> B>
BasicTensor<std::int64_t> operator-(const BasicTensor<B>&, const BasicTensor<std::int64_t>&) {
  static_assert(!std::is_same_v<B, bool>, METAGRAD_BOOL_SUB_MESSAGE);
  return {};
}
template <std::same_as<bool> B>
BasicTensor<std::int64_t> operator-(const BasicTensor<std::int64_t>&, const BasicTensor<B>&) {
  static_assert(!std::is_same_v<B, bool>, METAGRAD_BOOL_SUB_MESSAGE);
  return {};
}

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

/// An int64 tensor to a floating-point power (or a floating-point number to
/// an int64 tensor's powers) is a double tensor; integer powers stay int64.
template <detail::integer_element I, detail::floating_element F>
BasicTensor<double> pow(const BasicTensor<I>& x, F e) { return pow(BasicTensor<double>(x), static_cast<double>(e)); }
template <detail::floating_element F, detail::integer_element I>
BasicTensor<double> pow(F base, const BasicTensor<I>& e) { return pow(static_cast<double>(base), BasicTensor<double>(e)); }

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
