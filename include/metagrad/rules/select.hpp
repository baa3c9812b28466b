// metagrad/rules/select.hpp — derivative rules of conditions and of what
// chooses by them: the comparisons `< <= > >= == !=` (a condition: a bool, or
// an Eigen array of bools; no gradient flows through one), `keep_where(c, a)`
// (a where c holds, else 0) and `keep_where_not(c, b)` (b where c does not
// hold, else 0) — `where(c, a, b)` is their sum, so a value of the branch not
// taken (log(x) at x < 0) never reaches the result — and the one-sided
// clamps that `clamp(e, lo, hi)` is made of:
//   keep_where(c, a):     da = keep_where(c, g)        (dc: none)
//   keep_where_not(c, b): db = keep_where_not(c, g)
//   clamp_min(x, lo):     dx = g where x >= lo,  dlo = g where x < lo
//   clamp_max(x, hi):     dx = g where x <= hi,  dhi = g where x > hi
// so clamp(x, lo, hi) passes g where lo <= x <= hi, as PyTorch's ClampBackward1.
// Every formula is built from the comparisons and keep_where, so `mg::d` goes
// to any order through them, and the probes of rules/probe.hpp see what each
// backward reads.
#pragma once
#include <Eigen/Core>
#include <type_traits>

#include "../detail/number.hpp"
#include "../detail/vselect.hpp"
#include "elementwise.hpp"

namespace metagrad {
namespace math {
template <class T> inline constexpr bool is_array_v = std::is_base_of_v<Eigen::ArrayBase<T>, T>;
/// What select chooses between: numbers (and duals) and Eigen arrays.
template <class T>
concept Selectable = ::metagrad::detail::is_number_v<T> || is_array_v<T>;
template <class T>
concept Condition = std::is_same_v<T, bool> || (is_array_v<T> && std::is_same_v<typename T::Scalar, bool>) ||
                    ::metagrad::detail::is_packet_mask<T>::value;

/// The scalar type of a select between A and B.
template <class A, class B> struct select_scalar { using type = std::common_type_t<A, B>; };
template <class A, class B> requires is_array_v<A> struct select_scalar<A, B> { using type = typename A::Scalar; };
template <class A, class B> requires(!is_array_v<A> && is_array_v<B>) struct select_scalar<A, B> { using type = typename B::Scalar; };

/// Is T an array of S, or a plain number?
template <class T, class S>
concept branch_of = std::is_arithmetic_v<T> || (is_array_v<T> && std::is_same_v<typename T::Scalar, S>);

/// c ? a : b elementwise, for numbers and Eigen arrays in any mix (a bool
/// chooses a whole value; an array of bools chooses per element).
template <Condition C, Selectable A, Selectable B>
constexpr auto select(const C& c, const A& a, const B& b) {
  using S = typename select_scalar<A, B>::type;
  if constexpr (::metagrad::detail::is_packet_mask<C>::value) {  // (a comparison inside a fused pass)
    return ::metagrad::detail::blend(c, a, b);
  } else if constexpr (std::is_same_v<C, bool> && !is_array_v<A> && !is_array_v<B>) {
    return c ? static_cast<S>(a) : static_cast<S>(b);
  } else if constexpr (std::is_same_v<C, bool>) {
    using P = typename std::conditional_t<is_array_v<A>, A, B>::PlainObject;
    const Eigen::Index rows = [&] { if constexpr (is_array_v<A>) return a.rows(); else return b.rows(); }();
    const Eigen::Index cols = [&] { if constexpr (is_array_v<A>) return a.cols(); else return b.cols(); }();
    auto full = [&](const auto& v) -> P {
      if constexpr (is_array_v<std::remove_cvref_t<decltype(v)>>) return P(v);
      else return P::Constant(rows, cols, static_cast<S>(v));
    };
    return c ? full(a) : full(b);
  } else if constexpr (::metagrad::detail::float_comparison_v<C, S> && branch_of<A, S> && branch_of<B, S>) {
    // a comparison of float or double arrays: condition and branches in one
    // packet loop (detail/vselect.hpp; Eigen's select has none)
    auto side = [](const auto& v) -> decltype(auto) {
      if constexpr (is_array_v<std::remove_cvref_t<decltype(v)>>) return (v.derived());
      else return static_cast<S>(v);
    };
    return ::metagrad::detail::vselect<S>(c, side(a), side(b));
  } else {
    using P = Eigen::Array<S, C::RowsAtCompileTime, C::ColsAtCompileTime, 0, C::MaxRowsAtCompileTime, C::MaxColsAtCompileTime>;
    auto side = [&](const auto& v) -> decltype(auto) {  // (an array by reference: Eigen nests plain arrays so)
      if constexpr (is_array_v<std::remove_cvref_t<decltype(v)>>) return (v.derived());
      else return P::Constant(c.rows(), c.cols(), static_cast<S>(v));
    };
    return c.derived().select(side(a), side(b));
  }
}
/// The zero of T's scalar type.
template <class T> constexpr auto zero_like() {
  if constexpr (is_array_v<T>) return typename T::Scalar(0); else return T(0);
}
/// a where c holds, 0 elsewhere; b where c does not hold, 0 elsewhere.
template <Condition C, Selectable A>
constexpr auto keep_where(const C& c, const A& a) { return select(c, a, zero_like<A>()); }
template <Condition C, Selectable B>
constexpr auto keep_where_not(const C& c, const B& b) { return select(c, zero_like<B>(), b); }
/// max(x, lo) and min(x, hi) that keep a NaN x (as torch.clamp).
template <Selectable X, Selectable L>
constexpr auto clamp_min(const X& x, const L& lo) { return select(x < lo, lo, x); }
template <Selectable X, Selectable H>
constexpr auto clamp_max(const X& x, const H& hi) { return select(x > hi, hi, x); }
}  // namespace math

namespace rules {
using namespace ::metagrad::math;

/// Is a gradient sent through nodes of rule R? Not through a condition.
template <class R> inline constexpr bool differentiable = [] {
  if constexpr (requires { R::differentiable; }) return R::differentiable; else return true;
}();

// The comparisons: conditions, with no gradient (their VJPs are zero, so that
// `mg::d` of one simplifies to 0; the engines send nothing into them).
#define METAGRAD_COMPARISON_RULE(NAME, OP, SYM)                                                        \
  struct NAME {                                                                                        \
    static constexpr bool differentiable = false;                                                      \
    static constexpr const char* node_name = "";                                                       \
    static constexpr const char* symbol = SYM;                                                         \
    template <class A, class B> static constexpr auto f(const A& a, const B& b) { return a OP b; }     \
    template <class A, class B, class Y, class G>                                                      \
    static constexpr auto vjp_a(const A&, const B&, const Y&, const G& g) { return g * K<0>(g); }      \
    template <class A, class B, class Y, class G>                                                      \
    static constexpr auto vjp_b(const A&, const B&, const Y&, const G& g) { return g * K<0>(g); }      \
  };
METAGRAD_COMPARISON_RULE(Less, <, "<")
METAGRAD_COMPARISON_RULE(LessEqual, <=, "<=")
METAGRAD_COMPARISON_RULE(Greater, >, ">")
METAGRAD_COMPARISON_RULE(GreaterEqual, >=, ">=")
METAGRAD_COMPARISON_RULE(Equal, ==, "==")
METAGRAD_COMPARISON_RULE(NotEqual, !=, "!=")
#undef METAGRAD_COMPARISON_RULE

/// keep_where(c, a) = c ? a : 0 (the first half of where(c, a, b)).
struct KeepWhere {
  static constexpr const char* node_name = "WhereBackward0";
  static constexpr const char* symbol = "keep_where";
  template <class C, class A> static constexpr auto f(const C& c, const A& a) { return keep_where(c, a); }
  template <class C, class A, class Y, class G>
  static constexpr auto vjp_a(const C&, const A&, const Y&, const G& g) { return g * K<0>(g); }
  template <class C, class A, class Y, class G>
  static constexpr auto vjp_b(const C& c, const A&, const Y&, const G& g) { return keep_where(c, g); }
};
/// keep_where_not(c, b) = c ? 0 : b (the second half of where(c, a, b)).
struct KeepWhereNot {
  static constexpr const char* node_name = "WhereBackward0";
  static constexpr const char* symbol = "keep_where_not";
  template <class C, class B> static constexpr auto f(const C& c, const B& b) { return keep_where_not(c, b); }
  template <class C, class B, class Y, class G>
  static constexpr auto vjp_a(const C&, const B&, const Y&, const G& g) { return g * K<0>(g); }
  template <class C, class B, class Y, class G>
  static constexpr auto vjp_b(const C& c, const B&, const Y&, const G& g) { return keep_where_not(c, g); }
};
/// clamp_min(x, lo) = max(x, lo), NaN kept.
struct ClampMin {
  static constexpr const char* node_name = "ClampMinBackward0";
  static constexpr const char* symbol = "clamp_min";
  template <class X, class L> static constexpr auto f(const X& x, const L& lo) { return clamp_min(x, lo); }
  template <class X, class L, class Y, class G>
  static constexpr auto vjp_a(const X& x, const L& lo, const Y&, const G& g) { return keep_where(x >= lo, g); }
  template <class X, class L, class Y, class G>
  static constexpr auto vjp_b(const X& x, const L& lo, const Y&, const G& g) { return keep_where_not(x >= lo, g); }
};
/// clamp_max(x, hi) = min(x, hi), NaN kept.
struct ClampMax {
  static constexpr const char* node_name = "ClampMaxBackward0";
  static constexpr const char* symbol = "clamp_max";
  template <class X, class H> static constexpr auto f(const X& x, const H& hi) { return clamp_max(x, hi); }
  template <class X, class H, class Y, class G>
  static constexpr auto vjp_a(const X& x, const H& hi, const Y&, const G& g) { return keep_where(x <= hi, g); }
  template <class X, class H, class Y, class G>
  static constexpr auto vjp_b(const X& x, const H& hi, const Y&, const G& g) { return keep_where_not(x <= hi, g); }
};
}  // namespace rules
}  // namespace metagrad
