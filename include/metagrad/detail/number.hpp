// metagrad/detail/number.hpp — what counts as a number (a scalar value) in
// the static engines: the arithmetic types and metagrad's dual numbers
// (detail/dual.hpp), which run the same sweeps for forward-over-reverse
// Hessian-vector products.
#pragma once
#include <type_traits>

namespace metagrad {
template <class T> struct Dual;
namespace detail {
template <class T> struct is_dual : std::false_type {};
template <class T> struct is_dual<Dual<T>> : std::true_type {};
template <class S> struct dual_part { using type = S; };
template <class T> struct dual_part<Dual<T>> { using type = T; };
/// The scalar a dual's parts have (S itself for other scalars).
template <class S> using dual_part_t = typename dual_part<S>::type;
/// A scalar value: arithmetic, or a dual number.
template <class T>
inline constexpr bool is_number_v = std::is_arithmetic_v<T> || is_dual<std::remove_cvref_t<T>>::value;
/// The element type of a number (itself), an Eigen array or a tensor (their value_type).
template <class X> struct element_type { using type = X; };
template <class X> requires requires { typename X::value_type; } struct element_type<X> { using type = typename X::value_type; };
template <class X> using element_type_t = typename element_type<X>::type;
/// The value part of a number (a dual's value; other numbers as they are).
template <class T>
constexpr auto real_part(const T& v) {
  if constexpr (is_dual<T>::value) return v.v; else return v;
}
}  // namespace detail
}  // namespace metagrad
