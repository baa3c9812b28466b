// metagrad/static/grad.hpp — `mg::grad(e, bindings...)`: the value and the
// gradient with respect to every bound variable from ONE forward and ONE
// reverse sweep, both generated at compile time from the expression type
// (no tape, no virtual calls, no allocation for scalar and fixed-size Eigen
// bindings). Each reverse step is the rule table's vector-Jacobian product.
#pragma once
#include "../detail/config.hpp"
#include "diff.hpp"

namespace metagrad {
namespace detail {

// Forward results mirror the tree: each holds its value and its children's.
template <class V> struct Leaf { V value; };
template <class C, class V> struct Node1 { C c; V value; };
template <class C1, class C2, class V> struct Node2 { C1 c1; C2 c2; V value; };

template <class V> struct is_eigen_value : std::bool_constant<requires(const V& v) { v.rows(); v.cols(); v.data(); }> {};

/// sum(e) / mean(e) of an elementwise e over Eigen bindings: evaluated by
/// running the compile-time scalar sweep once per element (one pass, no
/// temporaries), instead of materialising one array per node.
template <class E, class... Bs>
inline constexpr bool fused_reduction = [] {
  if constexpr (requires { typename std::remove_cvref_t<decltype(rule_of(std::declval<E>()))>; } &&
                requires(E e) { e.a; } && !requires(E e) { e.b; }) {
    using R = decltype(rule_of(std::declval<E>()));
    using A = std::remove_cvref_t<decltype(std::declval<E>().a)>;
    return (std::is_same_v<R, rules::Sum> || std::is_same_v<R, rules::Mean>) && is_elementwise<A>::value &&
           (is_eigen_value<std::remove_cvref_t<decltype(Bs::value)>>::value || ...);
  } else {
    return false;
  }
}();

/// The number of elements of the Eigen bindings (which must all agree).
template <class... Bs>
std::int64_t common_size(const Bs&... bs) {
  std::int64_t n = -1;
  auto one = [&](const auto& b) {
    using V = std::remove_cvref_t<decltype(b.value)>;
    if constexpr (is_eigen_value<V>::value) {
      const auto m = static_cast<std::int64_t>(b.value.size());
      if (n >= 0 && m != n)
        fail("mg::grad: elementwise operands of different sizes (", n, " and ", m, " elements)");
      n = m;
    }
  };
  (one(bs), ...);
  return n;
}
template <class S> struct ReductionTape { S value; };

template <class S>
struct Sweep {
  template <detail::fixed_string N, class... Bs>
  static auto fwd(const Var<N>&, const Bs&... bs) {
    using V = std::remove_cvref_t<decltype(as_value(lookup<N>(bs...)))>;
    return Leaf<V>{as_value(lookup<N>(bs...))};
  }
  template <class E, class... Bs> requires(is_intc<E>::value || std::is_same_v<E, Const>)
  static auto fwd(const E& e, const Bs&... bs) { return Leaf<S>{Evaluator<S>::run(e, bs...)}; }
  template <class R, class A, class... Bs>
    requires fused_reduction<Unary<R, A>, Bs...>
  static auto fwd(const Unary<R, A>& e, const Bs&... bs) {
    const std::int64_t n = common_size(bs...);
    S total = sum_of(Evaluator<S, true>::run(e.a, bs...), n);
    if constexpr (std::is_same_v<R, rules::Mean>) total /= static_cast<S>(n);
    return ReductionTape<S>{total};
  }
  template <class R, class A, class... Bs>
  static auto fwd(const Unary<R, A>& e, const Bs&... bs) {
    auto c = fwd(e.a, bs...);
    auto v = eager(R::f(c.value));
    return Node1<decltype(c), decltype(v)>{std::move(c), std::move(v)};
  }
  template <class R, class A, class B, class... Bs>
  static auto fwd(const Binary<R, A, B>& e, const Bs&... bs) {
    auto c1 = fwd(e.a, bs...);
    auto c2 = fwd(e.b, bs...);
    check_elementwise<R>(c1.value, c2.value);
    auto v = eager(R::f(c1.value, c2.value));
    return Node2<decltype(c1), decltype(c2), decltype(v)>{std::move(c1), std::move(c2), std::move(v)};
  }

  /// Sum of an elementwise value that may be a scalar (then it repeats n times).
  template <class V>
  static S sum_of(const V& v, std::int64_t n) {
    if constexpr (std::is_arithmetic_v<V>) return static_cast<S>(v) * static_cast<S>(n);
    else return static_cast<S>(v.sum());
  }
  /// d(sum_i a_i)/d(binding) = g * d(a)/d(binding), elementwise: the symbolic
  /// derivative evaluated as one vectorised pass per bound variable.
  template <class A, class Grads, std::size_t... I, class... Bs>
  static void reduction_grads(const A& a, S g, std::int64_t n, Grads& grads, std::index_sequence<I...>,
                              const Bs&... bs) {
    (reduction_grad<I>(a, g, n, std::get<I>(grads), bs...), ...);
  }
  template <std::size_t I, class A, class Slot, class... Bs>
  static void reduction_grad(const A& a, S g, std::int64_t n, Slot& slot, const Bs&... bs) {
    using B = std::tuple_element_t<I, std::tuple<Bs...>>;
    const auto da = d(a, Var<B::name>{});
    if constexpr (!is_intc<std::remove_cvref_t<decltype(da)>>::value || !std::is_same_v<std::remove_cvref_t<decltype(da)>, IntC<0>>) {
      const auto v = Evaluator<S, true>::run(da, bs...);
      if constexpr (is_eigen_value<Slot>::value) {
        if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(v)>>) slot.array() += g * v;
        else slot.array() += g * v;
      } else {
        slot += g * sum_of(v, n);
      }
    }
  }

  /// An adjoint for a scalar that was broadcast against an array is summed.
  template <class G, class V>
  static auto reduce_like(G&& g, [[maybe_unused]] const V& like) {
    using GV = std::remove_cvref_t<G>;
    if constexpr (std::is_arithmetic_v<V> && !std::is_arithmetic_v<GV> && !requires(GV x) { x.defined(); })
      return S(g.sum());
    else return eager(std::forward<G>(g));
  }
  template <class Slot, class G>
  static void accumulate(Slot& slot, const G& g) {
    if constexpr (requires { slot.array(); } && requires { g.matrix(); }) slot.array() += g;
    else if constexpr (requires { slot.defined(); }) slot = slot.defined() ? slot + g : g;  // Tensor values
    else slot += g;
  }

  template <class E, class T, class G, class Grads, class... Bs>
  static void bwd(const E& e, const T& t, const G& g, Grads& grads, const Bs&... bs) {
    if constexpr (fused_reduction<E, Bs...>) {
      const std::int64_t n = common_size(bs...);
      using R = decltype(rule_of(e));
      const S gi = std::is_same_v<R, rules::Mean> ? static_cast<S>(g) / static_cast<S>(n) : static_cast<S>(g);
      reduction_grads(e.a, gi, n, grads, std::index_sequence_for<Bs...>{}, bs...);
      (void)t;
    } else if constexpr (is_var<E>::value) {
      accumulate(std::get<binding_index<E::name, Bs...>()>(grads), g);
    } else if constexpr (requires { e.b; }) {
      using R = decltype(rule_of(e));
      if constexpr (has_vars<std::remove_cvref_t<decltype(e.a)>>)
        bwd(e.a, t.c1, reduce_like(R::vjp_a(t.c1.value, t.c2.value, t.value, g), t.c1.value), grads, bs...);
      if constexpr (has_vars<std::remove_cvref_t<decltype(e.b)>>)
        bwd(e.b, t.c2, reduce_like(R::vjp_b(t.c1.value, t.c2.value, t.value, g), t.c2.value), grads, bs...);
    } else if constexpr (requires { e.a; }) {
      using R = decltype(rule_of(e));
      if constexpr (has_vars<std::remove_cvref_t<decltype(e.a)>>)
        bwd(e.a, t.c, reduce_like(R::vjp(t.c.value, t.value, g), t.c.value), grads, bs...);
    }
  }
};

/// A zero of the binding's shape, to accumulate its gradient into.
template <class S, class V>
auto zero_like(const V& v) {
  if constexpr (requires { typename V::PlainObject; }) {
    typename V::PlainObject z(v.rows(), v.cols());
    z.setZero();
    return z;
  } else {
    return static_cast<S>(0);
  }
}

}  // namespace detail

/// What mg::grad returns: `.value`, and `g[x]` for each bound variable x.
template <class V, class Grads, class... Bs>
struct GradResult {
  V value;
  Grads grads;
  template <detail::fixed_string N>
  const auto& operator[](const Var<N>&) const {
    static_assert(detail::is_bound<N, Bs...>, "mg::grad: no gradient for a variable that was not bound");
    return std::get<detail::binding_index<N, Bs...>()>(grads);
  }
};

template <class E, class... Bs>
auto grad(const E& e, const Bs&... bs) {
  static_assert(StaticExpr<E>, "mg::grad: the first argument must be a metagrad static expression");
  static_assert(detail::all_bindings<Bs...>, "mg::grad: arguments after the expression must be bindings `var = value`");
  using S = detail::common_scalar_t<Bs...>;
  using Sw = detail::Sweep<S>;
  auto tape = Sw::fwd(e, bs...);
  auto grads = std::make_tuple(detail::zero_like<S>(bs.value)...);
  static_assert(std::is_arithmetic_v<std::remove_cvref_t<decltype(tape.value)>>,
                "mg::grad: the expression must have a scalar value (reduce Eigen values with sum, mean or dot)");
  Sw::bwd(e, tape, S(1), grads, bs...);
  return GradResult<S, decltype(grads), Bs...>{static_cast<S>(tape.value), std::move(grads)};
}

}  // namespace metagrad
