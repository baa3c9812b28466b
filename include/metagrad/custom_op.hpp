// metagrad/custom_op.hpp — a user's own op, declared once outside the
// library, through the same mechanism as the library's own rows: a rule
// struct (node name, symbol, forward, vector-Jacobian product written
// generically) and one METAGRAD_DEFINE_UNARY_OP line, which gives
//   * the static node `mg::fn(e)`: mg::eval, mg::d, mg::grad, to_string,
//     mg::hvp / mg::hessian, and the bridge (it is elementwise),
//   * the dynamic op `mg::fn(tensor)` with the rule's node name, whose
//     backward is the VJP again written with Tensor ops (so create_graph
//     differentiates it).
// The forward of a function metagrad cannot evaluate itself (a library call)
// goes through `mg::elementwise<Rule>(x, f)`, which applies f to a number,
// to every element of an Eigen array, and to a dual number (value f(v),
// tangent from the rule's VJP).
#pragma once
#include "detail/dual.hpp"
#include "static/expr.hpp"

namespace metagrad {
template <class T> class BasicTensor;
namespace detail {
template <class Rule, class T>
BasicTensor<T> custom_unary(const BasicTensor<T>& x);  // defined in dynamic/ops.hpp
}  // namespace detail

/// f applied to a number, to each element of an Eigen array, or to a dual
/// number (its tangent from Rule's vector-Jacobian product); on a Tensor,
/// Rule's dynamic op.
template <class Rule, class X, class F>
constexpr auto elementwise(const X& x, F f) {
  if constexpr (detail::is_dual<X>::value) {
    const auto y = f(x.v);
    return X(y, Rule::vjp(x.v, y, x.t));
  } else if constexpr (detail::is_number_v<X>) {
    return f(x);
  } else if constexpr (requires { x.defined(); }) {  // a Tensor (recording sweeps): the dynamic op
    return detail::custom_unary<Rule>(x);
  } else {
    return x.derived().unaryExpr([f](const auto& s) { return elementwise<Rule>(s, f); });
  }
}
}  // namespace metagrad

/// Declares `mg::fn` for the unary rule `Rule` (a struct with node_name,
/// symbol, f(x) and vjp(x, y, g); which of x and y the VJP reads is found by
/// probing it, rules/probe.hpp). Use it at namespace scope, outside any
/// namespace.
#define METAGRAD_DEFINE_UNARY_OP(fn, Rule)                                                           \
  namespace metagrad {                                                                              \
  template <StaticExpr A>                                                                           \
  constexpr auto fn(const A& a) { return Unary<Rule, A>(a); }                                       \
  template <class T>                                                                                \
  BasicTensor<T> fn(const BasicTensor<T>& x) { return detail::custom_unary<Rule>(x); }              \
  template <class T>                                                                                \
  Dual<T> fn(const Dual<T>& x) {                                                                    \
    const T y = static_cast<T>(Rule::f(x.v));                                                       \
    return {y, static_cast<T>(Rule::vjp(x.v, y, x.t))};                                             \
  }                                                                                                 \
  }
