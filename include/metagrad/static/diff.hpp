// metagrad/static/diff.hpp — `mg::d(e, x)`: the derivative as a new expression
// TYPE, simplified at compile time. For elementwise ops it applies the rule
// table's vector-Jacobian product with the tangent d(child) (for elementwise
// ops the VJP and the JVP coincide); linear ops (sum, mean, transpose) and
// products (matmul, dot) use their product rules, and the other reductions
// (logsumexp, max, norm, softmax, log_softmax) their tangents written with
// the library's ops.
#pragma once
#include "eval.hpp"

namespace metagrad {
namespace detail {

template <class E, class V>
constexpr auto diff(const E& e, const V& v);

template <class E, class V>
inline constexpr bool depends_on = boost::hana::contains(free_vars_impl<E>::value, boost::hana::type_c<V>);

template <class E, class V>
constexpr auto diff(const E& e, const V& v) {
  using simplify::add;
  if constexpr (!depends_on<E, V>) {
    return IntC<0>{};
  } else if constexpr (requires { decltype(rule_of(e))::along_dim; }) {
    static_assert(!decltype(rule_of(e))::along_dim,
                  "mg::d: a reduction along a dimension (sum(x, d), softmax(x, d), ...) has no symbolic derivative here; "
                  "use mg::grad, mg::jacobian or mg::hessian");
    return IntC<0>{};
  } else if constexpr (requires { decltype(rule_of(e))::symbolic_d; }) {
    static_assert(decltype(rule_of(e))::symbolic_d,
                  "mg::d: this op (solve, inverse, det, logdet, slogdet, cholesky, mse_loss, binary_cross_entropy_with_logits) "
                  "has no symbolic derivative here; use mg::grad or mg::jacobian");
    return IntC<0>{};
  } else if constexpr (is_scan<E>::value) {
    static_assert(!is_scan<E>::value, "mg::d: a scan has no symbolic derivative; use mg::grad, mg::jacobian or mg::hvp");
    return IntC<0>{};
  } else if constexpr (is_var<E>::value) {
    return IntC<1>{};
  } else if constexpr (requires { e.b; }) {
    using R = std::remove_cvref_t<decltype(rule_of(e))>;
    const auto da = diff(e.a, v);
    const auto db = diff(e.b, v);
    if constexpr (requires { R::linear_in_a; }) {  // a part of a vector: the same part of the derivative
      using DA = std::remove_cvref_t<decltype(da)>;
      if constexpr (is_intc<DA>::value && (DA::value == 0 || std::is_same_v<R, rules::Index>)) return da;
      else return Binary<R, std::remove_cvref_t<decltype(da)>, std::remove_cvref_t<decltype(e.b)>>(da, e.b);
    } else if constexpr (std::is_same_v<R, rules::MatMul>) return add(matmul(da, e.b), matmul(e.a, db));
    else if constexpr (std::is_same_v<R, rules::Dot>) return add(dot(da, e.b), dot(e.a, db));
    else {
      auto ta = [&] {
        if constexpr (depends_on<decltype(e.a), V>) return R::vjp_a(e.a, e.b, e, da);
        else return IntC<0>{};
      }();
      auto tb = [&] {
        if constexpr (depends_on<decltype(e.b), V>) return R::vjp_b(e.a, e.b, e, db);
        else return IntC<0>{};
      }();
      return add(ta, tb);
    }
  } else {
    using R = std::remove_cvref_t<decltype(rule_of(e))>;
    const auto da = diff(e.a, v);
    if constexpr (std::is_same_v<R, rules::Sum>) return sum(da);
    else if constexpr (std::is_same_v<R, rules::Mean>) return mean(da);
    else if constexpr (std::is_same_v<R, rules::Prod>) return sum(prod_others(e.a) * da);  // no y / x_i: exact at 0
    else if constexpr (std::is_same_v<R, rules::Transpose>) return transpose(da);
    else if constexpr (std::is_same_v<R, rules::LogSumExp>) return sum(exp(e.a - e) * da);  // softmax . da
    else if constexpr (std::is_same_v<R, rules::LogSoftmax>) return da - sum(exp(e) * da);
    else if constexpr (std::is_same_v<R, rules::Softmax>) return e * (da - sum(e * da));
    else if constexpr (std::is_same_v<R, rules::Amax>)  // the mean of da over the ties (NaN at a NaN: 0 / 0)
      return sum(keep_where(e.a == e, da)) / sum(keep_where(e.a == e, IntC<1>{}));
    else if constexpr (std::is_same_v<R, rules::Max>)  // ... over the NaNs where the maximum is one
      return sum(keep_where(e.a == e, da) + keep_where(e.a != e.a, da)) /
             sum(keep_where(e.a == e, IntC<1>{}) + keep_where(e.a != e.a, IntC<1>{}));
    else if constexpr (std::is_same_v<R, rules::Norm>)  // x . dx / |x|, 0 at |x| = 0
      return keep_where(e != IntC<0>{}, sum(e.a * da) / e);
    else return R::vjp(e.a, e, da);
  }
}

}  // namespace detail

/// d e / d v, then d/dw of that, ...: `d(e, x, y)` is `d(d(e, x), y)`.
template <class E, class V, class... W>
constexpr auto d(const E& e, const V& v, const W&... w) {
  static_assert(StaticExpr<E>, "mg::d: the first argument must be a metagrad static expression");
  static_assert(is_var<V>::value, "mg::d: can only differentiate with respect to a variable mg::var<\"name\">");
  if constexpr (sizeof...(W) == 0) return detail::diff(e, v);
  else return d(detail::diff(e, v), w...);
}

}  // namespace metagrad
