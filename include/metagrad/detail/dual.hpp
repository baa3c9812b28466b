// metagrad/detail/dual.hpp — first-order dual numbers v + t e (e^2 = 0), the
// forward mode under mg::hvp and mg::hessian: a static gradient sweep run on
// duals whose tangents hold a direction gives the gradient's derivative in
// that direction (forward over reverse). Every function's tangent comes from
// the derivative table (for elementwise ops the VJP with g = t is the JVP),
// so no derivative is written here. Eigen arrays of duals work through the
// NumTraits below.
#pragma once
#include <Eigen/Core>
#include <cmath>
#include <ostream>

#include "../rules/elementwise.hpp"
#include "../rules/extrema.hpp"
#include "../rules/pow.hpp"
#include "number.hpp"

namespace metagrad {

template <class T>
struct Dual {
  T v{}, t{};
  constexpr Dual() = default;
  template <class U> requires std::is_arithmetic_v<U>
  constexpr Dual(U value) : v(static_cast<T>(value)), t(0) {}
  constexpr Dual(T value, T tangent) : v(value), t(tangent) {}
  constexpr Dual& operator+=(const Dual& o) { v += o.v; t += o.t; return *this; }
  constexpr Dual& operator-=(const Dual& o) { v -= o.v; t -= o.t; return *this; }
  constexpr Dual& operator*=(const Dual& o) { t = t * o.v + v * o.t; v *= o.v; return *this; }
  /// (a / b)' = (a' - (a / b) b') / b: no b^2 to overflow or underflow
  /// (a norm of 1e-200 had a NaN Hessian), one division less.
  constexpr Dual& operator/=(const Dual& o) {
    const T q = v / o.v;
    t = (t - q * o.t) / o.v;
    v = q;
    return *this;
  }
  friend constexpr Dual operator+(Dual a, const Dual& b) { return a += b; }
  friend constexpr Dual operator-(Dual a, const Dual& b) { return a -= b; }
  friend constexpr Dual operator*(Dual a, const Dual& b) { return a *= b; }
  friend constexpr Dual operator/(Dual a, const Dual& b) { return a /= b; }
  friend constexpr Dual operator-(const Dual& a) { return {-a.v, -a.t}; }
  friend constexpr Dual operator+(const Dual& a) { return a; }
  friend constexpr bool operator<(const Dual& a, const Dual& b) { return a.v < b.v; }
  friend constexpr bool operator>(const Dual& a, const Dual& b) { return a.v > b.v; }
  friend constexpr bool operator<=(const Dual& a, const Dual& b) { return a.v <= b.v; }
  friend constexpr bool operator>=(const Dual& a, const Dual& b) { return a.v >= b.v; }
  friend constexpr bool operator==(const Dual& a, const Dual& b) { return a.v == b.v; }
  friend constexpr bool operator!=(const Dual& a, const Dual& b) { return a.v != b.v; }
  friend std::ostream& operator<<(std::ostream& os, const Dual& d) { return os << d.v << "+" << d.t << "e"; }
};

// Every unary function of the table on duals: y = f(v), t' = vjp(v, y, t).
#define METAGRAD_DUAL_UNARY(Rule, fn)                                    \
  template <class T>                                                     \
  Dual<T> fn(const Dual<T>& x) {                                         \
    const T y = static_cast<T>(rules::Rule::f(x.v));                     \
    return {y, static_cast<T>(rules::Rule::vjp(x.v, y, x.t))};           \
  }
METAGRAD_FOR_EACH_UNARY(METAGRAD_DUAL_UNARY)
#undef METAGRAD_DUAL_UNARY
template <int N, class T>
Dual<T> polygamma_n(const Dual<T>& x) {
  return {math::polygamma_n<N>(x.v), static_cast<T>(math::polygamma_n<N + 1>(x.v) * x.t)};
}

namespace detail {
/// A binary rule on duals: the tangent is the sum of both sides' products
/// (a side whose tangent is zero is skipped: pow's d/db reads log(a)).
template <class Rule, class T>
Dual<T> dual_binary(const Dual<T>& a, const Dual<T>& b) {
  const T y = static_cast<T>(Rule::f(a.v, b.v));
  T t = 0;
  if (a.t != T(0)) t += static_cast<T>(Rule::vjp_a(a.v, b.v, y, a.t));
  if (b.t != T(0)) t += static_cast<T>(Rule::vjp_b(a.v, b.v, y, b.t));
  return {y, t};
}
}  // namespace detail
template <class T> Dual<T> pow(const Dual<T>& a, const Dual<T>& b) { return detail::dual_binary<rules::Pow>(a, b); }
#define METAGRAD_DUAL_BINARY(Rule, fn) \
  template <class T> Dual<T> fn(const Dual<T>& a, const Dual<T>& b) { return detail::dual_binary<rules::Rule>(a, b); }
METAGRAD_FOR_EACH_BINARY(METAGRAD_DUAL_BINARY)
#undef METAGRAD_DUAL_BINARY
template <class T> Dual<T> max(const Dual<T>& a, const Dual<T>& b) { return a < b ? b : a; }
template <class T> Dual<T> min(const Dual<T>& a, const Dual<T>& b) { return b < a ? b : a; }
template <class T> bool isnan(const Dual<T>& a) { return std::isnan(a.v); }
template <class T> bool isinf(const Dual<T>& a) { return std::isinf(a.v); }
template <class T> bool isfinite(const Dual<T>& a) { return std::isfinite(a.v); }

}  // namespace metagrad

namespace Eigen {
template <class T>
struct NumTraits<metagrad::Dual<T>> : GenericNumTraits<metagrad::Dual<T>> {
  using Real = metagrad::Dual<T>;
  using NonInteger = metagrad::Dual<T>;
  using Nested = metagrad::Dual<T>;
  using Literal = metagrad::Dual<T>;
  enum { IsComplex = 0, IsInteger = 0, IsSigned = 1, RequireInitialization = 1, ReadCost = 2, AddCost = 2, MulCost = 4 };
  static Real epsilon() { return NumTraits<T>::epsilon(); }
  static Real dummy_precision() { return NumTraits<T>::dummy_precision(); }
  static Real highest() { return NumTraits<T>::highest(); }
  static Real lowest() { return NumTraits<T>::lowest(); }
  static int digits10() { return NumTraits<T>::digits10(); }
};
template <class T, class Op>
struct ScalarBinaryOpTraits<metagrad::Dual<T>, T, Op> { using ReturnType = metagrad::Dual<T>; };
template <class T, class Op>
struct ScalarBinaryOpTraits<T, metagrad::Dual<T>, Op> { using ReturnType = metagrad::Dual<T>; };
}  // namespace Eigen
