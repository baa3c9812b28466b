// metagrad/static/tape.hpp — the compile-time tape behind `mg::grad` and the
// bridge's backward. The expression type is flattened, at compile time, into
// a list of its DISTINCT subexpressions in evaluation order (children first),
// so a subexpression that occurs several times is evaluated once and its
// adjoint is gathered from all its uses before it is propagated (common
// subexpression elimination by type; runtime constants are numbered first so
// that equal types always mean equal values). The forward sweep fills one
// slot per node; the reverse sweep walks the list backwards applying each
// rule's vector-Jacobian product (rules/). Both are unrolled by the compiler:
// no tape at run time, no virtual calls, no allocation for scalars. A tape
// whose slots hold dynamic-size Eigen buffers is kept by mg::grad's result, and
// a repeated sweep (mg::grad_into) assigns into those buffers: values, adjoints
// and matrix products (written in place by the rules' `_into` forms) — nothing
// is allocated while the shapes stay the same.
//
// sum/mean of an elementwise expression over Eigen values (a "fused
// reduction") is one node of that list, computed by `packet_sweep`: one pass
// over memory in packets of a few SIMD registers, each packet running the
// same compile-time forward AND reverse sweep of the inner expression. It
// yields the value and every variable's local derivative at once; later the
// upstream gradient only scales them. Subexpressions of the inner expression
// that do not depend on Eigen values (log(sigma), say) are computed once,
// outside the loop, and their adjoints are summed across the pass.
#pragma once
#include <array>
#include <optional>
#include <tuple>
#include <utility>

#include "../detail/config.hpp"
#include "../detail/flat_tuple.hpp"
#include "../rules/probe.hpp"
#include "eval.hpp"

namespace metagrad {
namespace detail {

// ------------------------------------------------ 1. numbering the constants
/// A runtime constant with its position in the expression: after numbering,
/// two subexpressions of one type are the same computation.
template <std::size_t I> struct ConstAt { static constexpr std::size_t index = I; };
template <class T> struct is_const_at : std::false_type {};
template <std::size_t I> struct is_const_at<ConstAt<I>> : std::true_type {};

template <class E> struct const_count : std::integral_constant<std::size_t, 0> {};
template <> struct const_count<Const> : std::integral_constant<std::size_t, 1> {};
template <class R, class A> struct const_count<Unary<R, A>> : const_count<A> {};
template <class R, class A, class B>
struct const_count<Binary<R, A, B>> : std::integral_constant<std::size_t, const_count<A>::value + const_count<B>::value> {};

template <class B, detail::fixed_string C, detail::fixed_string El, class In, class X>
struct const_count<Scan<B, C, El, In, X>>
    : std::integral_constant<std::size_t, const_count<In>::value + const_count<X>::value + const_count<B>::value> {};

template <class E, std::size_t I = 0> struct numbered { using type = E; };
/// A scan's constants in the order init, xs, body.
template <class B, detail::fixed_string C, detail::fixed_string El, class In, class X, std::size_t I>
struct numbered<Scan<B, C, El, In, X>, I> {
  using type = Scan<typename numbered<B, I + const_count<In>::value + const_count<X>::value>::type, C, El,
                    typename numbered<In, I>::type, typename numbered<X, I + const_count<In>::value>::type>;
};
template <std::size_t I> struct numbered<Const, I> { using type = ConstAt<I>; };
template <class R, class A, std::size_t I> struct numbered<Unary<R, A>, I> {
  using type = Unary<R, typename numbered<A, I>::type>;
};
template <class R, class A, class B, std::size_t I> struct numbered<Binary<R, A, B>, I> {
  using type = Binary<R, typename numbered<A, I>::type, typename numbered<B, I + const_count<A>::value>::type>;
};

template <class E, std::size_t N>
constexpr void collect_consts(const E& e, std::array<double, N>& out, std::size_t& i) {
  if constexpr (std::is_same_v<E, Const>) out[i++] = e.value;
  else if constexpr (is_scan<E>::value) { collect_consts(e.init, out, i); collect_consts(e.xs, out, i); collect_consts(e.body, out, i); }
  else if constexpr (requires { e.b; }) { collect_consts(e.a, out, i); collect_consts(e.b, out, i); }
  else if constexpr (requires { e.a; }) collect_consts(e.a, out, i);
}
template <class E>
constexpr auto consts_of(const E& e) {
  std::array<double, const_count<E>::value> out{};
  std::size_t i = 0;
  collect_consts(e, out, i);
  return out;
}

// ------------------------------------------------------- 2. the node list
template <class... Ts> struct TypeList {};
template <class T, class L> struct tl_index;
template <class T, class... Ts> struct tl_index<T, TypeList<Ts...>> {
  static constexpr std::size_t value = [] {
    constexpr bool same[] = {std::is_same_v<T, Ts>..., false};
    std::size_t i = 0;
    while (i < sizeof...(Ts) && !same[i]) ++i;
    return i;
  }();
};
template <class L, class T> struct tl_push;
template <class... Ts, class T> struct tl_push<TypeList<Ts...>, T> {
  using type = std::conditional_t<(std::is_same_v<T, Ts> || ...), TypeList<Ts...>, TypeList<Ts..., T>>;
};
template <std::size_t I, class L> struct tl_at;
template <std::size_t I, class... Ts> struct tl_at<I, TypeList<Ts...>> { using type = std::tuple_element_t<I, std::tuple<Ts...>>; };
template <class L> struct tl_size;
template <class... Ts> struct tl_size<TypeList<Ts...>> : std::integral_constant<std::size_t, sizeof...(Ts)> {};


template <class V> struct is_eigen_value : std::bool_constant<requires(const V& v) { v.rows(); v.cols(); v.data(); }> {};
template <class V> struct unwrap_data { using type = V; };
template <class V> struct unwrap_data<Data<V>> { using type = V; };
/// The value a binding holds (what mg::data wraps).
template <class B> using binding_value_t = typename unwrap_data<std::remove_cvref_t<decltype(B::value)>>::type;
template <class B> constexpr const auto& bval(const B& b) {
  if constexpr (is_data<std::remove_cvref_t<decltype(b.value)>>::value) return b.value.value; else return b.value;
}
template <class B> inline constexpr bool is_data_binding = is_data<std::remove_cvref_t<decltype(B::value)>>::value;

/// Does a gradient flow into node T (it reads a variable that is bound, and
/// not as mg::data)?
template <class T, class... Bs> struct needs_grad : std::false_type {};
template <detail::fixed_string N, class... Bs> struct needs_grad<Var<N>, Bs...>
    : std::bool_constant<((Bs::name == N && !is_data_binding<Bs>) || ...)> {};
template <class R, class A, class... Bs> struct needs_grad<Unary<R, A>, Bs...> : needs_grad<A, Bs...> {};
template <class R, class A, class B, class... Bs> struct needs_grad<Binary<R, A, B>, Bs...>
    : std::bool_constant<needs_grad<A, Bs...>::value || needs_grad<B, Bs...>::value> {};

/// The outer variables of a scan's body (all but the carry and the element).
template <class T, detail::fixed_string C, detail::fixed_string El, class L> struct body_vars { using type = L; };
template <detail::fixed_string N, detail::fixed_string C, detail::fixed_string El, class L>
struct body_vars<Var<N>, C, El, L> {
  using type = std::conditional_t<N == C || N == El, L, typename tl_push<L, Var<N>>::type>;
};
template <class R, class A, detail::fixed_string C, detail::fixed_string El, class L>
struct body_vars<Unary<R, A>, C, El, L> : body_vars<A, C, El, L> {};
template <class R, class A, class B, detail::fixed_string C, detail::fixed_string El, class L>
struct body_vars<Binary<R, A, B>, C, El, L> : body_vars<B, C, El, typename body_vars<A, C, El, L>::type> {};
template <class B, detail::fixed_string C, detail::fixed_string El, class In, class X, class... Bs>
struct needs_grad<Scan<B, C, El, In, X>, Bs...>
    : std::bool_constant<needs_grad<In, Bs...>::value || needs_grad<X, Bs...>::value ||
                         []<class... Vs>(std::type_identity<TypeList<Vs...>>) {
                           return (needs_grad<Vs, Bs...>::value || ...);
                         }(std::type_identity<typename body_vars<B, C, El, TypeList<>>::type>{})> {};

/// Does the node read a variable bound to an Eigen value?
template <class T, class... Bs> struct uses_eigen : std::false_type {};
template <detail::fixed_string N, class... Bs> struct uses_eigen<Var<N>, Bs...>
    : std::bool_constant<((Bs::name == N && is_eigen_value<binding_value_t<Bs>>::value) || ...)> {};
template <class R, class A, class... Bs> struct uses_eigen<Unary<R, A>, Bs...> : uses_eigen<A, Bs...> {};
template <class R, class A, class B, class... Bs> struct uses_eigen<Binary<R, A, B>, Bs...>
    : std::bool_constant<uses_eigen<A, Bs...>::value || uses_eigen<B, Bs...>::value> {};
template <class B, detail::fixed_string C, detail::fixed_string El, class In, class X, class... Bs>
struct uses_eigen<Scan<B, C, El, In, X>, Bs...> : std::true_type {};  // its value is a vector

/// A frontier of a fused reduction: a maximal non-elementwise subexpression
/// inside it (matmul(X, w) in sum(f(y - matmul(X, w)))). The tape computes it
/// first; the fused pass reads its value like an Eigen binding and returns
/// its per-element adjoint.
template <class T> struct is_frontier : std::false_type {};
template <class R, class A> struct is_frontier<Unary<R, A>> : std::bool_constant<!is_elementwise_rule<R>::value> {};
template <class R, class A, class B> struct is_frontier<Binary<R, A, B>> : std::bool_constant<!is_elementwise_rule<R>::value> {};
template <class B, detail::fixed_string C, detail::fixed_string El, class In, class X>
struct is_frontier<Scan<B, C, El, In, X>> : std::true_type {};

template <class T, class L> struct frontiers_of { using type = L; };
template <class T, class L> requires(is_frontier<T>::value) struct frontiers_of<T, L> { using type = typename tl_push<L, T>::type; };
template <class R, class A, class L> requires(!is_frontier<Unary<R, A>>::value)
struct frontiers_of<Unary<R, A>, L> { using type = typename frontiers_of<A, L>::type; };
template <class R, class A, class B, class L> requires(!is_frontier<Binary<R, A, B>>::value)
struct frontiers_of<Binary<R, A, B>, L> {
  using type = typename frontiers_of<B, typename frontiers_of<A, L>::type>::type;
};
template <class A> using frontiers_t = typename frontiers_of<A, TypeList<>>::type;
/// A slice of a variable: head, tail or skip (rules with `slice`) of a
/// variable, or of such a slice (segment is head(skip(x, s), n)). Inside a
/// fused reduction it is read in place from the bound vector, and its
/// per-element adjoint is added straight into the variable's gradient: no
/// copy, no scatter, no node of its own on the tape.
template <class T> struct slice_of_var : std::false_type {};
template <class R, class A, class C> requires(requires { R::slice; } && R::slice)
struct slice_of_var<Binary<R, A, C>> : std::bool_constant<is_var<A>::value || slice_of_var<A>::value> {};
/// The variable at the bottom of a slice of a variable.
template <class T> struct slice_root { using type = T; };
template <class R, class A, class C> struct slice_root<Binary<R, A, C>> : slice_root<A> {};
/// What a slice of a variable needs on the tape: the variable and the counts.
template <class T, class L> struct slice_operands { using type = typename tl_push<L, T>::type; };
template <class R, class A, class C, class L> requires(slice_of_var<Binary<R, A, C>>::value)
struct slice_operands<Binary<R, A, C>, L> { using type = typename tl_push<typename slice_operands<A, L>::type, C>::type; };
/// The frontiers of a fused reduction as the tape sees them: slices of
/// variables replaced by their operands.
template <class FL, class L = TypeList<>> struct tape_operands { using type = L; };
template <class F, class... Fs, class L> struct tape_operands<TypeList<F, Fs...>, L>
    : tape_operands<TypeList<Fs...>, typename slice_operands<F, L>::type> {};
/// Does a frontier of A slice variable N?
template <class FL, detail::fixed_string N> struct slices_var;
template <class... Fs, detail::fixed_string N> struct slices_var<TypeList<Fs...>, N>
    : std::bool_constant<((slice_of_var<Fs>::value && std::is_same_v<typename slice_root<Fs>::type, Var<N>>) || ...)> {};
template <class A, detail::fixed_string N> inline constexpr bool sliced = slices_var<frontiers_t<A>, N>::value;

/// A reduction node whose inside has no frontier.
template <class T> inline constexpr bool frontier_free = false;
template <class R, class A> inline constexpr bool frontier_free<Unary<R, A>> = tl_size<frontiers_t<A>>::value == 0;

/// Does the elementwise part of T (frontiers excluded) read variable N?
template <class T, detail::fixed_string N> struct reads_direct : std::false_type {};
template <detail::fixed_string M, detail::fixed_string N> struct reads_direct<Var<M>, N> : std::bool_constant<M == N> {};
template <class R, class A, detail::fixed_string N> requires(!is_frontier<Unary<R, A>>::value)
struct reads_direct<Unary<R, A>, N> : reads_direct<A, N> {};
template <class R, class A, class B, detail::fixed_string N> requires(!is_frontier<Binary<R, A, B>>::value)
struct reads_direct<Binary<R, A, B>, N> : std::bool_constant<reads_direct<A, N>::value || reads_direct<B, N>::value> {};

template <class S, class T, class... Bs> struct node_type;
/// Every frontier of A has an Eigen value (a scalar-valued one, such as a
/// nested sum, keeps the reduction on the general tape).
template <class L, class... Bs> struct frontiers_are_arrays;
template <class... Fs, class... Bs> struct frontiers_are_arrays<TypeList<Fs...>, Bs...> {
  using S = common_scalar_t<Bs...>;
  static constexpr bool value = (is_eigen_value<typename node_type<S, Fs, Bs...>::type>::value && ...);
};

/// sum(e) / mean(e) of an elementwise e (over bindings and frontiers) that
/// reads Eigen values: one node, computed by packet_sweep.
template <class E, class... Bs> struct is_fused_reduction : std::false_type {};
template <class R, class A, class... Bs>
  requires(std::is_same_v<R, rules::Sum> || std::is_same_v<R, rules::Mean>)
struct is_fused_reduction<Unary<R, A>, Bs...>
    : std::bool_constant<!is_frontier<A>::value && uses_eigen<A, Bs...>::value &&
                         frontiers_are_arrays<frontiers_t<A>, Bs...>::value> {};

/// Distinct subexpressions, children before parents (fused reductions are
/// leaves of this list: their inside is packet_sweep's business).
template <class E, class L, class... Bs> struct post_order { using type = typename tl_push<L, E>::type; };
template <class R, class A, class L, class... Bs>
  requires(!is_fused_reduction<Unary<R, A>, Bs...>::value)
struct post_order<Unary<R, A>, L, Bs...> {
  using type = typename tl_push<typename post_order<A, L, Bs...>::type, Unary<R, A>>::type;
};
template <class R, class A, class B, class L, class... Bs> struct post_order<Binary<R, A, B>, L, Bs...> {
  using type = typename tl_push<typename post_order<B, typename post_order<A, L, Bs...>::type, Bs...>::type,
                                Binary<R, A, B>>::type;
};
template <class L, class FL, class... Bs> struct visit_all;
/// A scan's operands on the tape: init, xs, and the body's outer variables.
template <class B, detail::fixed_string C, detail::fixed_string El, class In, class X, class L, class... Bs>
struct post_order<Scan<B, C, El, In, X>, L, Bs...> {
  using type = typename tl_push<
      typename visit_all<typename post_order<X, typename post_order<In, L, Bs...>::type, Bs...>::type,
                         typename body_vars<B, C, El, TypeList<>>::type, Bs...>::type,
      Scan<B, C, El, In, X>>::type;
};
template <class L, class... Bs> struct visit_all<L, TypeList<>, Bs...> { using type = L; };
template <class L, class F, class... Fs, class... Bs> struct visit_all<L, TypeList<F, Fs...>, Bs...> {
  using type = typename visit_all<typename post_order<F, L, Bs...>::type, TypeList<Fs...>, Bs...>::type;
};
/// The variables the elementwise part of T reads (frontiers excluded).
template <class T, class L> struct direct_vars { using type = L; };
template <detail::fixed_string N, class L> struct direct_vars<Var<N>, L> { using type = typename tl_push<L, Var<N>>::type; };
template <class R, class A, class L> requires(!is_frontier<Unary<R, A>>::value)
struct direct_vars<Unary<R, A>, L> { using type = typename direct_vars<A, L>::type; };
template <class R, class A, class B, class L> requires(!is_frontier<Binary<R, A, B>>::value)
struct direct_vars<Binary<R, A, B>, L> {
  using type = typename direct_vars<B, typename direct_vars<A, L>::type>::type;
};
/// A fused reduction's operands on the tape: its frontiers and the variables
/// it reads (so that everything it sends a gradient to comes before it).
template <class R, class A, class L, class... Bs>
  requires(is_fused_reduction<Unary<R, A>, Bs...>::value)
struct post_order<Unary<R, A>, L, Bs...> {
  using type = typename tl_push<
      typename visit_all<typename visit_all<L, typename tape_operands<frontiers_t<A>>::type, Bs...>::type,
                         typename direct_vars<A, TypeList<>>::type,
                         Bs...>::type,
      Unary<R, A>>::type;
};
/// The inside of a fused reduction, stopping at its frontiers.
template <class E, class L> struct inner_order { using type = typename tl_push<L, E>::type; };
template <class R, class A, class L> requires(!is_frontier<Unary<R, A>>::value)
struct inner_order<Unary<R, A>, L> { using type = typename tl_push<typename inner_order<A, L>::type, Unary<R, A>>::type; };
template <class R, class A, class B, class L> requires(!is_frontier<Binary<R, A, B>>::value)
struct inner_order<Binary<R, A, B>, L> {
  using type = typename tl_push<typename inner_order<B, typename inner_order<A, L>::type>::type, Binary<R, A, B>>::type;
};

// ------------------------------------------------- 3. one node's rules
/// pow(e, N_c) for a small N is computed by multiplication (vectorises).
template <class T> struct small_int_pow : std::false_type {};
template <class A, long long N> requires(N >= -8 && N <= 8)
struct small_int_pow<Binary<rules::Pow, A, IntC<N>>> : std::true_type { static constexpr long long n = N; };

template <class V> inline constexpr bool is_tensor_like = requires(const V& v) { v.defined(); };

template <class S, long long N, class V>
decltype(auto) int_power(const V& v) { return Evaluator<S>::template int_pow<N>(v); }

/// The value of a node of an unwrapped list entry (fused reductions store more).
template <class V> constexpr const auto& plain_value(const V& v) {
  if constexpr (requires { v.is_reduction; }) return v.value; else return v;
}

/// Forward step of an op node: its value from its children's values (Lazy:
/// the unevaluated Eigen expression, to be assigned into a kept buffer).
template <class S, class T, bool Lazy = false, class Get>
METAGRAD_INLINE inline auto op_value(const Get& get) {
  using R = decltype(rule_of(std::declval<T>()));
  if constexpr (requires { std::declval<T>().b; }) {
    using A = std::remove_cvref_t<decltype(std::declval<T>().a)>;
    using B = std::remove_cvref_t<decltype(std::declval<T>().b)>;
    const auto& a = plain_value(get(std::type_identity<A>{}));
    if constexpr (small_int_pow<T>::value && !is_tensor_like<std::remove_cvref_t<decltype(a)>>) {
      return finish<Lazy>(int_power<S, small_int_pow<T>::n>(a));
    } else {
      const auto& b = plain_value(get(std::type_identity<B>{}));
      check_elementwise<R>(a, b);
      return finish<Lazy>(R::f(a, b));
    }
  } else {
    using A = std::remove_cvref_t<decltype(std::declval<T>().a)>;
    return finish<Lazy>(R::f(plain_value(get(std::type_identity<A>{}))));
  }
}

inline constexpr std::integral_constant<int, 0> side_a{};
inline constexpr std::integral_constant<int, 1> side_b{};

/// No destination to write a contribution into: every one is sent.
struct NoInto {
  template <class... A> constexpr bool operator()(const A&...) const { return false; }
};

/// A rule that writes its products into a destination (writes_into), with
/// an Eigen adjoint: op_vjp asks into(child tag, side, writer) to run
/// writer(destination, add) on the child's buffer; into answers false if the
/// child has none (then the contribution is sent).
template <class R, class G>
inline constexpr bool can_write_into = requires { R::writes_into; } && !is_number_v<G> && !is_tensor_like<G>;

/// Reverse step of an op node: send(child tag, side, contribution) for each
/// child that leads to a variable, g being the node's adjoint (or, for rules
/// that can, the contribution written in place through into).
template <class S, class T, class... Bs, class Get, class G, class Send, class Into = NoInto>
METAGRAD_INLINE inline void op_vjp(const Get& get, const G& g, Send&& send, Into&& into = {}) {
  using R = decltype(rule_of(std::declval<T>()));
  const auto& y = plain_value(get(std::type_identity<T>{}));
  if constexpr (requires { std::declval<T>().b; }) {
    using A = std::remove_cvref_t<decltype(std::declval<T>().a)>;
    using B = std::remove_cvref_t<decltype(std::declval<T>().b)>;
    const auto& a = plain_value(get(std::type_identity<A>{}));
    if constexpr (small_int_pow<T>::value && !is_tensor_like<std::remove_cvref_t<decltype(a)>>) {
      constexpr long long n = small_int_pow<T>::n;
      if constexpr (needs_grad<A, Bs...>::value) send(std::type_identity<A>{}, side_a, g * (S(n) * int_power<S, n - 1>(a)));
    } else {
      const auto& b = plain_value(get(std::type_identity<B>{}));
      if constexpr (needs_grad<A, Bs...>::value) {
        bool written = false;
        if constexpr (can_write_into<R, G>) {
          auto writer = [&](auto& dst, auto add) { R::template vjp_a_into<decltype(add)::value>(dst, a, b, y, g); };
          written = into(std::type_identity<A>{}, side_a, writer);
        }
        if (!written) send(std::type_identity<A>{}, side_a, R::vjp_a(a, b, y, g));
      }
      if constexpr (needs_grad<B, Bs...>::value) {
        bool written = false;
        if constexpr (can_write_into<R, G>) {
          auto writer = [&](auto& dst, auto add) { R::template vjp_b_into<decltype(add)::value>(dst, a, b, y, g); };
          written = into(std::type_identity<B>{}, side_b, writer);
        }
        if (!written) send(std::type_identity<B>{}, side_b, R::vjp_b(a, b, y, g));
      }
    }
  } else {
    using A = std::remove_cvref_t<decltype(std::declval<T>().a)>;
    if constexpr (needs_grad<A, Bs...>::value) send(std::type_identity<A>{}, side_a, R::vjp(plain_value(get(std::type_identity<A>{})), y, g));
  }
}

/// The type a node's value has when its leaves are bound by Bs.
template <class S, class T, class... Bs> struct node_type;
template <class S, class T, class... Bs>
using node_type_t = typename node_type<S, T, Bs...>::type;
template <class S, detail::fixed_string N, class... Bs> struct node_type<S, Var<N>, Bs...> {
  using type = std::remove_cvref_t<decltype(as_value(lookup<N>(std::declval<const Bs&>()...)))>;
};
template <class S, long long N, class... Bs> struct node_type<S, IntC<N>, Bs...> { using type = S; };
template <class S, std::size_t I, class... Bs> struct node_type<S, ConstAt<I>, Bs...> { using type = S; };
template <class S, class B, detail::fixed_string C, detail::fixed_string El, class In, class X, class... Bs>
struct node_type<S, Scan<B, C, El, In, X>, Bs...> { using type = Eigen::Array<S, Eigen::Dynamic, 1>; };
template <class S, class T, class... Bs> requires requires { std::declval<T>().a; }
struct node_type<S, T, Bs...> {
  struct Get {
    template <class U> const node_type_t<S, U, Bs...>& operator()(std::type_identity<U>) const;
  };
  using type = std::remove_cvref_t<decltype(op_value<S, T>(std::declval<const Get&>()))>;
};

/// Adjoints are plain values of their node's shape.
template <class V> struct adjoint_type { using type = std::remove_cvref_t<decltype(eager(std::declval<const V&>()))>; };

/// Adds c into an adjoint or gradient slot (Tensors out of place, so that a
/// create_graph sweep records it).
template <class Slot, class C>
void add_into(Slot& slot, const C& c) {
  if constexpr (is_tensor_like<Slot>) slot = slot.defined() ? slot + c : Slot(c);
  else if constexpr (requires { slot.array(); } && requires { c.matrix(); }) slot.array() += c;
  else if constexpr (requires { slot.array(); } && requires { c.array(); }) slot.array() += c.array();
  else slot += c;
}


/// Stores a variable's complete adjoint in its gradient slot.
template <class Slot, class C>
void assign_into(Slot& slot, const C& c) {
  if constexpr (requires { slot.array(); } && requires { c.matrix(); }) slot.array() = c;
  else if constexpr (requires { slot.array(); } && requires { c.array(); }) slot.array() = c.array();
  else if constexpr (std::is_assignable_v<Slot&, const C&> && (is_tensor_like<Slot> || is_number_v<C>)) slot = c;
  else add_into(slot, c);
}

/// A dynamic-size Eigen plain object: a buffer worth keeping across sweeps.
template <class V>
inline constexpr bool is_dynamic_plain = [] {
  if constexpr (requires { typename V::PlainObject; V::SizeAtCompileTime; })
    return std::is_same_v<typename V::PlainObject, V> && int(V::SizeAtCompileTime) == Eigen::Dynamic;
  else return false;
}();

/// Puts value c into slot s: assigned into the buffer s already holds (a
/// repeated sweep of a kept tape allocates nothing), else constructed. Never
/// aliased: c reads other nodes' slots and the bindings, not s.
template <class X, class C>
void store(std::optional<X>& s, C&& c) {
  if constexpr (is_dynamic_plain<X>) {
    if (s) {
      if (s->rows() != c.rows() || s->cols() != c.cols()) s->resize(c.rows(), c.cols());
      s->array() = c.array();
      return;
    }
    if constexpr (std::is_base_of_v<Eigen::MatrixBase<X>, X>) {
      s.emplace(c.matrix());
      return;
    }
  }
  s.emplace(std::forward<C>(c));
}

// ------------------------------------ 4. fused reductions: the packet sweep
// g++ 12 reports packet slots (and, in the tape below, std::optional<Eigen::
// Matrix> slots) as "maybe uninitialized" when it inlines the sweeps: every
// slot is written before it is read, in an order fixed at compile time, which
// its flow analysis through the unrolled lambdas does not follow.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
/// Packet width: one SIMD register.
template <class S>
inline constexpr int lanes = std::max(2, static_cast<int>(Eigen::internal::packet_traits<S>::size));

/// An Eigen binding read as contiguous memory in its plain type's storage
/// order (copied once if it is strided or of another scalar type).
template <class S, class V>
struct Source {
  const S* ptr = nullptr;
  Eigen::Array<S, Eigen::Dynamic, 1> copy;
  explicit Source(const V& v) {
    if constexpr (std::is_same_v<typename V::Scalar, S> && bool(int(V::Flags) & Eigen::DirectAccessBit)) {
      if (v.innerStride() == 1 && (v.outerStride() == v.innerSize() || v.outerSize() <= 1)) {
        ptr = v.data();
        return;
      }
    }
    const typename V::PlainObject plain = v;
    copy = Eigen::Map<const Eigen::Array<typename V::Scalar, Eigen::Dynamic, 1>>(plain.data(), plain.size()).template cast<S>();
    ptr = copy.data();
  }
};

/// Everything read off the bindings for one pass; element bindings are
/// packets for Eigen values and scalars for the rest.
template <class S, int L, class... Bs>
struct PacketBindings {
  using Pk = Eigen::Array<S, L, 1>;
  template <class B> using elem_t = std::conditional_t<is_eigen_value<binding_value_t<B>>::value, Pk, S>;
  template <class B> using elem_binding = Binding<B::name, elem_t<B>>;
};

/// Is U an operand (on side Side) of node T?
template <class U, class T, int Side> struct is_operand : std::false_type {};
template <class U, class R, int Side> struct is_operand<U, Unary<R, U>, Side> : std::bool_constant<Side == 0> {};
template <class U, class R, class B> struct is_operand<U, Binary<R, U, B>, 0> : std::true_type {};
template <class U, class R, class A> struct is_operand<U, Binary<R, A, U>, 1> : std::true_type {};
/// A scan's operands: init (side 0) and xs (side 1); its body's outer
/// variables are numbers, never the Eigen values this is asked about.
template <class U, class B, detail::fixed_string C, detail::fixed_string El, class X>
struct is_operand<U, Scan<B, C, El, U, X>, 0> : std::true_type {};
template <class U, class B, detail::fixed_string C, detail::fixed_string El, class In>
struct is_operand<U, Scan<B, C, El, In, U>, 1> : std::true_type {};

/// In the reverse sweep over list L, is the contribution of node P (side
/// Side) the first that U receives? Every node of the list that leads to a
/// variable receives one, so this is known at compile time: the first
/// contribution initialises the adjoint, the others add to it.
template <class U, std::size_t P, int Side, class L>
constexpr bool first_contribution() {
  return []<std::size_t... Q>(std::index_sequence<Q...>) {
    constexpr bool later = ((Q > P && (is_operand<U, typename tl_at<Q, L>::type, 0>::value ||
                                        is_operand<U, typename tl_at<Q, L>::type, 1>::value)) || ...);
    return !later && (Side == 0 || !is_operand<U, typename tl_at<P, L>::type, 0>::value);
  }(std::make_index_sequence<tl_size<L>::value>{});
}

/// Inside the fused pass, a / b with b independent of the Eigen values
/// becomes a * reciprocal(b): the reciprocal is computed once, outside the
/// loop, and no division is left per element (same rules, other grouping).
template <class T, class... Bs> struct hoisted { using type = T; };
template <class R, class A, class... Bs> requires(!is_frontier<Unary<R, A>>::value)
struct hoisted<Unary<R, A>, Bs...> {
  using type = Unary<R, typename hoisted<A, Bs...>::type>;
};
template <class R, class A, class B, class... Bs> requires(!is_frontier<Binary<R, A, B>>::value)
struct hoisted<Binary<R, A, B>, Bs...> {
  using HA = typename hoisted<A, Bs...>::type;
  using HB = typename hoisted<B, Bs...>::type;
  using type = std::conditional_t<std::is_same_v<R, rules::Div> && uses_eigen<A, Bs...>::value && !uses_eigen<B, Bs...>::value,
                                  Binary<rules::Mul, HA, Unary<rules::Reciprocal, HB>>, Binary<R, HA, HB>>;
};

/// The packet-level type of a node inside the fused pass (frontiers are
/// packets read from memory).
template <class S, class Pk, class T, class... EBs> struct packet_node_type { using type = node_type_t<S, T, EBs...>; };
template <class S, class Pk, class T, class... EBs> requires(is_frontier<T>::value)
struct packet_node_type<S, Pk, T, EBs...> { using type = Pk; };
template <class S, class Pk, class T, class... EBs> requires(!is_frontier<T>::value && requires { std::declval<T>().a; })
struct packet_node_type<S, Pk, T, EBs...> {
  struct Get {
    template <class U> const typename packet_node_type<S, Pk, U, EBs...>::type& operator()(std::type_identity<U>) const;
  };
  using type = std::remove_cvref_t<decltype(op_value<S, T>(std::declval<const Get&>()))>;
};

/// The values of the frontiers (fin) and where their per-element adjoints go
/// (fout), in the order of frontiers_t<A>; contiguous, n elements each.
template <class S, std::size_t NF>
struct FrontierIO {
  std::array<const S*, NF> in{};
  std::array<S*, NF> out{};
};

/// A seed given per element (the bridge's upstream gradient): contiguous, n
/// elements. A plain S seeds every element alike.
template <class S>
struct ElementSeed {
  const S* g;
};

/// f(l) for every lane l of packet type Pk, l a compile-time constant: a
/// packet slot indexed only by constants can live in registers (one access
/// at a run-time index puts the whole pass's slots in memory with clang++).
template <class Pk, class F>
METAGRAD_INLINE inline void for_lanes(F&& f) {
  [&]<int... L>(std::integer_sequence<int, L...>) METAGRAD_INLINE {
    (f(std::integral_constant<int, L>{}), ...);
  }(std::make_integer_sequence<int, int(Pk::SizeAtCompileTime)>{});
}

/// The seed of one packet (lanes >= m are zero).
template <class Pk, bool Tail, class S>
Pk seed_packet(const ElementSeed<S>& seed, std::int64_t i, int m) {
  if constexpr (!Tail) return Eigen::Map<const Pk>(seed.g + i);
  Pk r = Pk::Zero();
  for_lanes<Pk>([&](auto l) {
    if (l < m) r[l] = seed.g[i + l];
  });
  return r;
}
template <class Pk, bool Tail, class S>
Pk seed_packet(S seed, std::int64_t, int m) {
  if constexpr (!Tail) return Pk::Constant(seed);
  Pk r = Pk::Zero();
  for_lanes<Pk>([&](auto l) {
    if (l < m) r[l] = seed;
  });
  return r;
}
/// The seeds' sum over n elements (a root that reads no array: a uniform seed only).
template <class S>
S seed_total(S seed, std::int64_t n) { return seed * static_cast<S>(n); }
template <class S>
S seed_total(const ElementSeed<S>&, std::int64_t) {
  static_assert(sizeof(S) == 0, "packet_sweep: a per-element seed needs an expression that reads an array");
  return S(0);
}

/// What a pass does besides the sum: mg::grad's passes (PlainPass) run the
/// reverse sweep and know every binding's shape at compile time.
struct PlainPass {
  static constexpr bool runtime_broadcast = false;
  static constexpr bool backward = true;
  /// The first element of this pass (packet_sweep runs the last n % lanes
  /// elements as a one-lane pass from here).
  std::int64_t begin = 0;
};
/// The bridge's passes: `one[j]` says that Eigen binding j holds ONE value for
/// all n elements (a 0-d tensor), known only at run time. Nodes that read
/// only such bindings are computed once, before the loop, and their adjoints
/// summed across it (as for compile-time uniform nodes). `values`, if set,
/// receives every element's value; backward = false skips the reverse sweep.
template <class S, std::size_t NB, bool Backward>
struct BroadcastPass {
  static constexpr bool runtime_broadcast = true;
  static constexpr bool backward = Backward;
  std::array<bool, NB> one{};
  S* values = nullptr;
  /// Store or recompute (see keep_plan): the forward pass writes the values
  /// of the kept nodes here (if set), the backward pass reads them back and
  /// computes only what the reverse sweep reads and was not kept.
  S* const* kept = nullptr;
};

// ----------------------------------------- 4a. store or recompute (bridge)
/// Nodes whose value is as cheap to compute again as to read back from
/// memory: arithmetic, and square roots (one instruction per packet).
template <class R>
inline constexpr bool cheap_rule =
    std::is_same_v<R, rules::Add> || std::is_same_v<R, rules::Sub> || std::is_same_v<R, rules::Mul> ||
    std::is_same_v<R, rules::Div> || std::is_same_v<R, rules::Neg> || std::is_same_v<R, rules::Abs> ||
    std::is_same_v<R, rules::Relu> || std::is_same_v<R, rules::Sign> || std::is_same_v<R, rules::Square> ||
    std::is_same_v<R, rules::Reciprocal> || std::is_same_v<R, rules::Sqrt> || std::is_same_v<R, rules::Rsqrt> ||
    std::is_same_v<R, rules::Floor> || std::is_same_v<R, rules::Ceil> || std::is_same_v<R, rules::Round> ||
    std::is_same_v<R, rules::Minimum> || std::is_same_v<R, rules::Maximum>;
template <class T>
constexpr bool cheap_node() {
  if constexpr (!requires { std::declval<T>().a; }) return true;  // (leaves)
  else if constexpr (small_int_pow<T>::value) return true;
  else return cheap_rule<decltype(rule_of(std::declval<T>()))>;
}
/// What node T's reverse step reads (rules::kA / kB: its operands, kY: its
/// value), from the rules' probed VJPs; only the sides that lead to a
/// variable are run.
template <class T, class... Bs>
constexpr unsigned vjp_reads() {
  if constexpr (!requires { std::declval<T>().a; }) {
    return 0;
  } else {
    using R = decltype(rule_of(std::declval<T>()));
    using A = std::remove_cvref_t<decltype(std::declval<T>().a)>;
    if constexpr (!requires { std::declval<T>().b; }) {
      return needs_grad<A, Bs...>::value ? rules::unary_needs<R> : 0u;
    } else if constexpr (small_int_pow<T>::value) {
      return needs_grad<A, Bs...>::value ? unsigned(rules::kA) : 0u;
    } else {
      using B = std::remove_cvref_t<decltype(std::declval<T>().b)>;
      return (needs_grad<A, Bs...>::value ? rules::grad_a_needs<R> : 0u) |
             (needs_grad<B, Bs...>::value ? rules::grad_b_needs<R> : 0u);
    }
  }
}
/// The bridge's two passes over an elementwise expression (node list L):
/// which varying nodes the forward keeps (`keep`: expensive to compute, and
/// read by the reverse sweep) and which the backward computes (`compute`:
/// read by the reverse sweep or needed for a computed node, and not kept).
/// Decided at compile time from the node types: a transcendental whose
/// value the reverse sweep reads (exp, tanh, sigmoid) is stored once; one
/// whose value it does not read (sin: its VJP reads x) is not computed again.
template <std::size_t K>
struct KeepPlan {
  std::array<bool, K> keep{}, compute{};
  std::array<std::size_t, K> slot{};
  std::size_t kept = 0;
};
template <class L, class... Bs> struct keep_plan;
template <class... Ts, class... Bs>
struct keep_plan<TypeList<Ts...>, Bs...> {
  static constexpr std::size_t K = sizeof...(Ts);
  static constexpr KeepPlan<K> value = [] {
    using L = TypeList<Ts...>;
    constexpr bool varying[] = {uses_eigen<Ts, Bs...>::value...};
    constexpr bool cheap[] = {cheap_node<Ts>()...};
    constexpr bool active[] = {(uses_eigen<Ts, Bs...>::value && needs_grad<Ts, Bs...>::value)...};
    constexpr unsigned reads[] = {vjp_reads<Ts, Bs...>()...};
    constexpr std::size_t child_a[] = {[] {
      if constexpr (requires { std::declval<Ts>().a; }) return tl_index<std::remove_cvref_t<decltype(std::declval<Ts>().a)>, L>::value;
      else return K;
    }()...};
    constexpr std::size_t child_b[] = {[] {
      if constexpr (requires { std::declval<Ts>().b; }) return tl_index<std::remove_cvref_t<decltype(std::declval<Ts>().b)>, L>::value;
      else return K;
    }()...};
    KeepPlan<K> p;
    std::array<bool, K> read{}, needed{};
    for (std::size_t q = 0; q < K; ++q) {
      if (!active[q]) continue;
      if (reads[q] & rules::kY) read[q] = true;
      if ((reads[q] & rules::kA) && child_a[q] < K) read[child_a[q]] = true;
      if ((reads[q] & rules::kB) && child_b[q] < K) read[child_b[q]] = true;
    }
    for (std::size_t r = 0; r < K; ++r) {  // parents come after their children
      const std::size_t u = K - 1 - r;
      bool need = read[u];
      for (std::size_t q = u + 1; q < K; ++q)
        if (needed[q] && !p.keep[q] && (child_a[q] == u || child_b[q] == u)) need = true;
      needed[u] = need;
      p.keep[u] = need && varying[u] && !cheap[u];
      p.compute[u] = need && !p.keep[u];
    }
    for (std::size_t u = 0; u < K; ++u)
      if (p.keep[u]) p.slot[u] = p.kept++;
    return p;
  }();
};

/// The fused pass: inner elementwise expression A (numbered), runtime
/// constants C, frontier values and adjoint buffers fio, bindings bs. Writes
/// d(sum_i seed_i A_i)/d(binding) into out (a tuple shaped like the bindings:
/// arrays (anything with .data()) for Eigen bindings, scalars otherwise; only
/// variables of A are touched) and returns sum_i A_i.
template <class S, class A, int P = lanes<S>, std::size_t NC, class Out, std::size_t NF, class Seed, class Pass,
          class... Bs>
METAGRAD_INLINE inline S packet_pass(const std::array<double, NC>& consts, Out& out, const FrontierIO<S, NF>& fio, Seed seed,
                                     const Pass& pass, std::int64_t n, const Bs&... bs) {
  constexpr bool RB = Pass::runtime_broadcast;
  using PB = PacketBindings<S, P, Bs...>;
  using Pk = typename PB::Pk;
  using Fronts = frontiers_t<A>;
  using Nodes = typename inner_order<typename hoisted<A, Bs...>::type, TypeList<>>::type;
  constexpr std::size_t K = tl_size<Nodes>::value;
  using Root = typename tl_at<K - 1, Nodes>::type;
  using Elem = flat_tuple<typename PB::template elem_binding<Bs>...>;
  const auto bound = std::forward_as_tuple(bs...);

  return [&]<std::size_t... I, std::size_t... J>(std::index_sequence<I...>, std::index_sequence<J...>) -> S {
    using Types = flat_tuple<
        typename packet_node_type<S, Pk, typename tl_at<I, Nodes>::type, typename PB::template elem_binding<Bs>...>::type...>;
    using FrontPk = std::array<Pk, tl_size<Fronts>::value + 1>;  // this packet of each frontier
    constexpr bool varying[] = {uses_eigen<typename tl_at<I, Nodes>::type, Bs...>::value..., false};
    // Plain slots: packets or scalars, no flags. The uniform ones are filled
    // once, here; each packet works on its own copy (chunk below), so that
    // every slot can live in a register (clang++ keeps a slot that outlives
    // the loop body in memory, and reloads it at every step).
    // Contiguous sources for the Eigen bindings that A reads.
    auto sources = make_flat_tuple([&] {
      using B = std::tuple_element_t<J, std::tuple<Bs...>>;
      if constexpr (is_eigen_value<binding_value_t<B>>::value && reads_direct<A, B::name>::value)
        return Source<S, binding_value_t<B>>(bval(std::get<J>(bound)));
      else return 0;
    }()...);
    Elem elem{};
    // Where the per-element gradients go, read once: out may live anywhere
    // (mg::grad_into's result), and the stores below would otherwise make the
    // compiler reload each pointer per packet.
    const std::array<S*, sizeof...(Bs) + 1> optr{[&]() -> S* {
      using B = std::tuple_element_t<J, std::tuple<Bs...>>;
      if constexpr (is_eigen_value<binding_value_t<B>>::value && reads_direct<A, B::name>::value && !is_data_binding<B>)
        return std::get<J>(out).data();
      else return nullptr;
    }()..., nullptr};
    Types vals;
    FrontPk fpk;
    // What the loop reads, as locals: the packet stores may alias anything
    // (Eigen's stores), so a value read through a reference is read again at
    // every packet.
    const std::int64_t count = n;
    const Seed seed_l = seed;
    const FrontierIO<S, NF> io = fio;
    auto getter_of = [](const Types& v) METAGRAD_INLINE {
      return [&v]<class U>(std::type_identity<U>) METAGRAD_INLINE -> const auto& { return fget<tl_index<U, Nodes>::value>(v); };
    };
    const auto get = getter_of(vals);
    auto compute = [&]<std::size_t Ii>(Types& v, const Elem& el, const FrontPk& fp,
                                       std::integral_constant<std::size_t, Ii>) METAGRAD_INLINE {
      using T = typename tl_at<Ii, Nodes>::type;
      auto& slot = fget<Ii>(v);
      if constexpr (is_var<T>::value) slot = fget<binding_index<T::name, Bs...>()>(el).value;
      else if constexpr (is_frontier<T>::value) slot = fp[tl_index<T, Fronts>::value];
      else if constexpr (is_intc<T>::value) slot = static_cast<S>(T::value);
      else if constexpr (is_const_at<T>::value) slot = static_cast<S>(consts[T::index]);
      else slot = op_value<S, T>(getter_of(v));
    };
    // Scalar bindings and everything that depends on them only: once.
    ((void)[&] {
       using B = std::tuple_element_t<J, std::tuple<Bs...>>;
       if constexpr (!is_eigen_value<binding_value_t<B>>::value)
         fget<J>(elem).value = static_cast<S>(bval(std::get<J>(bound)));
     }(), ...);
    ((varying[I] ? void() : compute(vals, elem, fpk, std::integral_constant<std::size_t, I>{})), ...);

    // Run-time uniform nodes (BroadcastPass): varying by type, but reading
    // only bindings that hold one value. Loaded and computed once, here.
    std::array<bool, K + 1> rtu{};
    if constexpr (RB) {
      auto uniform_child = [&]<class C>(std::type_identity<C>) {
        constexpr std::size_t c = tl_index<C, Nodes>::value;
        return !varying[c] || rtu[c];
      };
      ((void)[&] {
         using T = typename tl_at<I, Nodes>::type;
         if constexpr (!varying[I] || is_frontier<T>::value) rtu[I] = false;
         else if constexpr (is_var<T>::value) rtu[I] = pass.one[binding_index<T::name, Bs...>()];
         else if constexpr (requires { std::declval<T>().b; })
           rtu[I] = uniform_child(std::type_identity<std::remove_cvref_t<decltype(std::declval<T>().a)>>{}) &&
                    uniform_child(std::type_identity<std::remove_cvref_t<decltype(std::declval<T>().b)>>{});
         else rtu[I] = uniform_child(std::type_identity<std::remove_cvref_t<decltype(std::declval<T>().a)>>{});
       }(), ...);
      ((void)[&] {
         using B = std::tuple_element_t<J, std::tuple<Bs...>>;
         if constexpr (is_eigen_value<binding_value_t<B>>::value && reads_direct<A, B::name>::value)
           if (pass.one[J]) fget<J>(elem).value = Pk::Constant(fget<J>(sources).ptr[0]);
       }(), ...);
      ((varying[I] && rtu[I] ? compute(vals, elem, fpk, std::integral_constant<std::size_t, I>{}) : void()), ...);
    }

    // Adjoint accumulators of the uniform nodes (packets, summed at the end).
    // (Varying nodes keep no accumulator; uniform nodes no per-packet adjoint.)
    // ... and of the run-time uniform ones; and the value's. They go through
    // the loop by value (in registers: clang++ reloads an accumulator kept in
    // memory at every packet).
    struct None {};
    using UniformAcc = flat_tuple<std::conditional_t<varying[I], None, Pk>...>;
    using RuntimeUniformAcc = flat_tuple<std::conditional_t<varying[I] && RB, Pk, None>...>;
    using Accumulators = flat_tuple<UniformAcc, RuntimeUniformAcc, Pk>;  // (no local class: g++ 12 fails on one here)
    Accumulators acc0;
    ((void)[&] {
       if constexpr (!varying[I]) fget<I>(fget<0>(acc0)) = Pk::Zero();
       if constexpr (varying[I] && RB) fget<I>(fget<1>(acc0)) = Pk::Zero();
     }(), ...);
    fget<2>(acc0) = Pk::Zero();

    // One varying node of a packet: computed; in the bridge's passes (store
    // or recompute), kept by the forward, read back or skipped by the backward.
    auto step = [&]<std::size_t Ii>(Types& v, const Elem& el, const FrontPk& fp, std::integral_constant<std::size_t, Ii> ii,
                                    std::int64_t i, int m) METAGRAD_INLINE {
      if constexpr (RB) {
        constexpr KeepPlan<K> plan = keep_plan<Nodes, Bs...>::value;
        if constexpr (Pass::backward && plan.keep[Ii]) {
          const S* src = pass.kept[plan.slot[Ii]] + i;
          auto& slot = fget<Ii>(v);
          if (m == P) slot = Eigen::Map<const Pk>(src);
          else for_lanes<Pk>([&](auto l) { slot[l] = src[l < m ? int(l) : m - 1]; });
          return;
        } else if constexpr (Pass::backward && !plan.compute[Ii]) {
          return;  // (the reverse sweep does not read it)
        } else {
          compute(v, el, fp, ii);
          if constexpr (!Pass::backward && plan.keep[Ii]) {
            if (pass.kept) {
              S* dst = pass.kept[plan.slot[Ii]] + i;
              const auto& slot = fget<Ii>(v);
              if (m == P) Eigen::Map<Pk>{dst} = slot;
              else for_lanes<Pk>([&](auto l) {
                if (l < m) dst[l] = slot[l];
              });
            }
          }
        }
      } else {
        compute(v, el, fp, ii);
      }
    };
    // (the bridge's passes keep theirs in place: their adjoints are added
    // under run-time conditions, and g++ then copies the whole set per packet)
    using AccArg = std::conditional_t<RB, Accumulators&, Accumulators>;
    auto done = [](auto& a) METAGRAD_INLINE {
      if constexpr (std::is_reference_v<AccArg>) return 0; else return std::remove_cvref_t<decltype(a)>(a);
    };
    auto chunk = [&]<bool Tail>(std::bool_constant<Tail>, std::int64_t i, int m, AccArg acc) METAGRAD_INLINE {
      auto& uacc = fget<0>(acc);
      auto& racc = fget<1>(acc);
      auto& vacc = fget<2>(acc);
      // (the bridge's passes, whose slots are filled under run-time
      // conditions, work in place: a copy per packet is not optimised away)
      std::conditional_t<RB, Types&, Types> lv = vals;
      std::conditional_t<RB, Elem&, Elem> le = elem;
      FrontPk lf;
      const auto lget = getter_of(lv);
      // Load the packet of every Eigen binding A reads (the tail is padded
      // with its last element, and masked below).
      ((void)[&] {
         using B = std::tuple_element_t<J, std::tuple<Bs...>>;
         if constexpr (is_eigen_value<binding_value_t<B>>::value && reads_direct<A, B::name>::value) {
           if constexpr (RB) {
             if (pass.one[J]) return;
           }
           const S* p = fget<J>(sources).ptr + i;
           auto& v = fget<J>(le).value;
           if constexpr (!Tail) v = Eigen::Map<const Pk>(p);
           else for_lanes<Pk>([&](auto l) { v[l] = p[l < m ? int(l) : m - 1]; });
         }
       }(), ...);
      [&]<std::size_t... F>(std::index_sequence<F...>) {
        ((void)[&] {
           const S* p = io.in[F] + i;
           if constexpr (!Tail) lf[F] = Eigen::Map<const Pk>(p);
           else for_lanes<Pk>([&](auto l) { lf[F][l] = p[l < m ? int(l) : m - 1]; });
         }(), ...);
      }(std::make_index_sequence<NF>{});
      ((varying[I] && !(RB && rtu[I]) ? step(lv, le, lf, std::integral_constant<std::size_t, I>{}, i, m) : void()), ...);
      // In the tail only lanes < m are real (the others repeat the last
      // element: finite, but their contributions must not count).
      auto add_real_lanes = [m](Pk& acc, const Pk& c) METAGRAD_INLINE {
        for_lanes<Pk>([&](auto l) {
          if (l < m) acc[l] += c[l];
        });
      };
      if constexpr (uses_eigen<Root, Bs...>::value && !(RB && Pass::backward)) {  // (the bridge's backward ignores it)
        const Pk& y = fget<K - 1>(lv);
        if constexpr (!Tail) vacc += y; else add_real_lanes(vacc, y);
        if constexpr (RB) {
          if (pass.values) {
            if constexpr (!Tail) Eigen::Map<Pk>{pass.values + i} = y;
            else for_lanes<Pk>([&](auto l) {
              if (l < m) pass.values[i + l] = y[l];
            });
          }
        }
      }
      if constexpr (!Pass::backward) return done(acc);
      // Reverse: adjoints of the varying nodes of this packet.
      flat_tuple<std::conditional_t<varying[I], Pk, None>...> adj;
      if constexpr (RB) {  // (a run-time uniform node may get no contribution here)
        auto zero = [&]<std::size_t Ii>(std::integral_constant<std::size_t, Ii>) {
          if constexpr (varying[Ii]) {
            if (rtu[Ii]) fget<Ii>(adj) = Pk::Zero();
          }
        };
        (zero(std::integral_constant<std::size_t, I>{}), ...);
      }
      if constexpr (uses_eigen<Root, Bs...>::value) {
        fget<K - 1>(adj) = seed_packet<Pk, Tail>(seed_l, i, m);
      }
      auto back = [&]<std::size_t Ii>(std::integral_constant<std::size_t, Ii>) METAGRAD_INLINE {
        using T = typename tl_at<Ii, Nodes>::type;
        if constexpr (uses_eigen<T, Bs...>::value && needs_grad<T, Bs...>::value) {
          const Pk& a = fget<Ii>(adj);
          if constexpr (RB) {
            if (rtu[Ii]) {  // gathered; propagated once after the loop
              if constexpr (!Tail) fget<Ii>(racc) += a; else add_real_lanes(fget<Ii>(racc), a);
              return;
            }
          }
          if constexpr (is_var<T>::value || is_frontier<T>::value) {
            // One tape node per variable: each element is written once, into
            // a buffer nobody else writes (so it needs no zeroing first).
            S* q;
            if constexpr (is_var<T>::value) q = optr[binding_index<T::name, Bs...>()] + i;
            else q = io.out[tl_index<T, Fronts>::value] + i;
            if constexpr (!Tail) Eigen::Map<Pk>{q} = a;
            else for_lanes<Pk>([&](auto l) {
              if (l < m) q[l] = a[l];
            });
          } else {
            auto send = [&]<class U, int Side, class C>(std::type_identity<U>, std::integral_constant<int, Side>,
                                                        const C& c) METAGRAD_INLINE {
              constexpr std::size_t u = tl_index<U, Nodes>::value;
              if constexpr (uses_eigen<U, Bs...>::value) {
                if constexpr (first_contribution<U, Ii, Side, Nodes>()) fget<u>(adj) = c;
                else fget<u>(adj) += c;
              } else if constexpr (!Tail) {
                fget<u>(uacc) += c;
              } else {
                add_real_lanes(fget<u>(uacc), Pk(c));
              }
            };
            op_vjp<S, T, Bs...>(lget, a, send);
          }
        }
      };
      [&]<std::size_t... R>(std::index_sequence<R...>) {
        (back(std::integral_constant<std::size_t, K - 1 - R>{}), ...);
      }(std::make_index_sequence<K>{});
      return done(acc);
    };
    Accumulators acc = acc0;
    std::int64_t i = 0;
    if constexpr (RB) {
      for (; i + P <= count; i += P) chunk(std::false_type{}, i, P, acc);
      if (i < count) chunk(std::true_type{}, i, static_cast<int>(count - i), acc);
    } else {
      // (mg::grad's passes have no partial packet: packet_sweep hands the
      // last n % P elements to the one-lane pass, which starts at begin)
      for (i = pass.begin; i + P <= count; i += P) acc = chunk(std::false_type{}, i, P, acc);
    }
    auto& uacc = fget<0>(acc);
    auto& racc = fget<1>(acc);
    const Pk& vacc = fget<2>(acc);
    if constexpr (!Pass::backward) return vacc.sum();

    // The run-time uniform nodes' reverse sweep, once: their adjoints summed
    // over the loop go to their operands (run-time or compile-time uniform);
    // a binding holding one value gets the sum in its single element.
    if constexpr (RB) {
      auto rsend = [&]<class U, class Side, class C>(std::type_identity<U>, Side, const C& c) {
        constexpr std::size_t u = tl_index<U, Nodes>::value;
        if constexpr (varying[u]) fget<u>(racc) += c;
        else fget<u>(uacc) += c;
      };
      auto rback = [&]<std::size_t Ii>(std::integral_constant<std::size_t, Ii>) {
        using T = typename tl_at<Ii, Nodes>::type;
        if constexpr (varying[Ii] && needs_grad<T, Bs...>::value && !is_frontier<T>::value) {
          if (!rtu[Ii]) return;
          const Pk a = fget<Ii>(racc);
          if constexpr (is_var<T>::value) optr[binding_index<T::name, Bs...>()][0] = a.sum();
          else op_vjp<S, T, Bs...>(get, a, rsend);
        }
      };
      [&]<std::size_t... R>(std::index_sequence<R...>) {
        (rback(std::integral_constant<std::size_t, K - 1 - R>{}), ...);
      }(std::make_index_sequence<K>{});
    }

    // The uniform part: its value repeats n times; its adjoints are the sums
    // of the packets gathered above (plus n * seed at a uniform root).
    S value;
    flat_tuple<std::conditional_t<varying[I], None, S>...> uadj;
    ((void)[&] {
       if constexpr (!varying[I]) fget<I>(uadj) = S(fget<I>(uacc).sum());
     }(), ...);
    if constexpr (uses_eigen<Root, Bs...>::value) {
      value = vacc.sum();
    } else {
      std::int64_t elements = n;
      if constexpr (!RB) elements -= pass.begin;
      value = static_cast<S>(elements) * static_cast<S>(fget<K - 1>(vals));
      fget<K - 1>(uadj) += seed_total(seed, elements);
    }
    auto usend = [&]<class U, class Side, class C>(std::type_identity<U>, Side, const C& c) {
      fget<tl_index<U, Nodes>::value>(uadj) += c;
    };
    auto uback = [&]<std::size_t Ii>(std::integral_constant<std::size_t, Ii>) {
      using T = typename tl_at<Ii, Nodes>::type;
      if constexpr (!uses_eigen<T, Bs...>::value && needs_grad<T, Bs...>::value) {
        const S a = fget<Ii>(uadj);
        if constexpr (is_var<T>::value) std::get<binding_index<T::name, Bs...>()>(out) += a;
        else op_vjp<S, T, Bs...>(get, a, usend);
      }
    };
    [&]<std::size_t... R>(std::index_sequence<R...>) {
      (uback(std::integral_constant<std::size_t, K - 1 - R>{}), ...);
    }(std::make_index_sequence<K>{});
    return value;
  }(std::make_index_sequence<K>{}, std::index_sequence_for<Bs...>{});
}

/// mg::grad's pass (see packet_pass): full packets, then the elements left
/// over one at a time. Assembling a partial packet lane by lane costs more
/// than the arithmetic there (measured with AVX2 at n = 3: 15 ns against 56
/// ns for a normal log-density; with AVX-512, 10-d Rosenbrock's one element
/// left over cost 32 ns as a masked packet). The one-lane pass is a second
/// instantiation; the packet pass then needs no partial-packet body.
template <class S, class A, std::size_t NC, class Out, std::size_t NF, class Seed, class... Bs>
S packet_sweep(const std::array<double, NC>& consts, Out& out, const FrontierIO<S, NF>& fio, Seed seed, std::int64_t n,
               const Bs&... bs) {
  constexpr int P = lanes<S>;
  const std::int64_t full = n - n % P;
  S value = S(0);
  if (full > 0) value = packet_pass<S, A>(consts, out, fio, seed, PlainPass{}, full, bs...);
  if (full < n) value += packet_pass<S, A, 1>(consts, out, fio, seed, PlainPass{full}, n, bs...);
  return value;
}

// ------------------------------------------------------- 4b. scan's loops
/// The value of a numbered scalar expression T (a scan's body): constants
/// from c, variables from bs.
template <class S, class T, std::size_t NC, class... Bs>
S eval_numbered(const std::array<double, NC>& c, const Bs&... bs) {
  if constexpr (is_var<T>::value) {
    using V = std::remove_cvref_t<decltype(as_value(lookup<T::name>(bs...)))>;
    static_assert(is_number_v<V>, "mg::scan: the body's outer variables must be bound to numbers");
    return static_cast<S>(as_value(lookup<T::name>(bs...)));
  } else if constexpr (is_intc<T>::value) {
    return static_cast<S>(T::value);
  } else if constexpr (is_const_at<T>::value) {
    return static_cast<S>(c[T::index]);
  } else if constexpr (small_int_pow<T>::value) {
    return math::ipow(eval_numbered<S, std::remove_cvref_t<decltype(std::declval<T>().a)>>(c, bs...), small_int_pow<T>::n);
  } else if constexpr (requires { std::declval<T>().b; }) {
    using R = decltype(rule_of(std::declval<T>()));
    return static_cast<S>(R::f(eval_numbered<S, std::remove_cvref_t<decltype(std::declval<T>().a)>>(c, bs...),
                               eval_numbered<S, std::remove_cvref_t<decltype(std::declval<T>().b)>>(c, bs...)));
  } else {
    static_assert(!is_scan<T>::value, "mg::scan: a scan's body cannot hold another scan");
    using R = decltype(rule_of(std::declval<T>()));
    return static_cast<S>(R::f(eval_numbered<S, std::remove_cvref_t<decltype(std::declval<T>().a)>>(c, bs...)));
  }
}

/// Forward loop of scan node T: c_t = body(c_(t-1), xs[t-1]) into slot s.
template <class S, class T, class Slot, class X, std::size_t NC, class... Bs>
void scan_forward(Slot& s, S init, const X& xs, const std::array<double, NC>& consts, const Bs&... bs) {
  using Body = std::remove_cvref_t<decltype(std::declval<T>().body)>;
  static_assert(!is_number_v<X>, "mg::scan: xs must be a vector (an Eigen vector binding)");
  const Eigen::Index n = xs.size();
  if (!s) s.emplace(n);
  else if (s->size() != n) s->resize(n);
  auto& y = *s;
  S c = init;
  for (Eigen::Index t = 0; t < n; ++t)
    c = y(t) = eval_numbered<S, Body>(consts, Binding<T::carry_name, S>{c}, Binding<T::elem_name, S>{static_cast<S>(xs(t))}, bs...);
}

/// Reverse loop of scan node T with adjoint g (one entry per step): the
/// adjoint of c_t is g_t plus what step t+1 sends back through its carry;
/// each step's body runs one forward and reverse sweep (packet_pass on
/// scalars). Sends the gradients of init, xs and the body's outer variables.
template <class S, class T, class... Bs, class Get, class G, class Send, std::size_t NC>
void scan_backward(const Get& get, const G& g, Send&& send, const std::array<double, NC>& consts, const Bs&... bs) {
  using Body = std::remove_cvref_t<decltype(std::declval<T>().body)>;
  using In = std::remove_cvref_t<decltype(std::declval<T>().init)>;
  using X = std::remove_cvref_t<decltype(std::declval<T>().xs)>;
  using Outer = typename body_vars<Body, T::carry_name, T::elem_name, TypeList<>>::type;
  const auto& y = plain_value(get(std::type_identity<T>{}));
  const auto& xs = plain_value(get(std::type_identity<X>{}));
  const S init = static_cast<S>(plain_value(get(std::type_identity<In>{})));
  const Eigen::Index n = y.size();
  Eigen::Array<S, Eigen::Dynamic, 1> gx(needs_grad<X, Bs...>::value ? n : 0);
  std::array<S, sizeof...(Bs) + 1> outer{};
  S a = 0;
  for (Eigen::Index t = n - 1; t >= 0; --t) {
    a += static_cast<S>(g(t));
    std::array<S, sizeof...(Bs) + 2> out{};
    packet_pass<S, Body, 1>(consts, out, FrontierIO<S, 0>{}, a, PlainPass{}, 1,
                            Binding<T::carry_name, S>{t ? static_cast<S>(y(t - 1)) : init},
                            Binding<T::elem_name, S>{static_cast<S>(xs(t))}, bs...);
    a = out[0];
    if constexpr (needs_grad<X, Bs...>::value) gx(t) = out[1];
    for (std::size_t j = 0; j < sizeof...(Bs); ++j) outer[j] += out[j + 2];
  }
  if constexpr (needs_grad<In, Bs...>::value) send(std::type_identity<In>{}, side_a, a);
  if constexpr (needs_grad<X, Bs...>::value) send(std::type_identity<X>{}, side_b, gx);
  [&]<class... Vs>(std::type_identity<TypeList<Vs...>>) {
    ((void)[&] {
       if constexpr (needs_grad<Vs, Bs...>::value) send(std::type_identity<Vs>{}, side_a, outer[binding_index<Vs::name, Bs...>()]);
     }(), ...);
  }(std::type_identity<Outer>{});
}

/// A zero of the binding's shape, to accumulate its gradient into (left
/// uninitialised when Fresh: a fused pass will write every element).
template <class S, class V, bool Fresh = false>
auto zero_like(const V& v) {
  if constexpr (requires { typename V::PlainObject; }) {
    typename V::PlainObject z(v.rows(), v.cols());
    if constexpr (!Fresh || int(V::SizeAtCompileTime) != Eigen::Dynamic) z.setZero();  // fixed size: free
    return z;
  } else {
    return static_cast<S>(0);
  }
}

template <class... Vs> struct first_tensor { using type = void; };
template <class V, class... Vs> struct first_tensor<V, Vs...> {
  using type = typename std::conditional_t<is_tensor_like<V>, std::type_identity<V>, first_tensor<Vs...>>::type;
};

/// Fixed (compile-time) rows and columns of the Eigen bindings A reads agree.
template <class A, class... Bs>
constexpr bool fixed_shapes_agree() {
  int rows = Eigen::Dynamic, cols = Eigen::Dynamic;
  bool ok = true;
  auto one = [&]<class V>(std::type_identity<V>, bool read) {
    if constexpr (is_eigen_value<V>::value) {
      if (!read) return;
      auto agree = [&](int& have, int now) {
        if (now == Eigen::Dynamic) return;
        if (have != Eigen::Dynamic && have != now) ok = false;
        have = now;
      };
      agree(rows, int(V::RowsAtCompileTime));
      agree(cols, int(V::ColsAtCompileTime));
    }
  };
  (one(std::type_identity<binding_value_t<Bs>>{}, reads_direct<A, Bs::name>::value), ...);
  return ok;
}

/// Where binding b's gradient accumulates (nothing for mg::data).
template <class S, bool Fresh, class B>
auto grad_slot(const B& b) {
  if constexpr (is_data_binding<B>) return '\0';
  else return zero_like<S, binding_value_t<B>, Fresh>(bval(b));
}

/// A frontier's shape.
struct Shape {
  Eigen::Index rows, cols;
};

/// The number of elements of the Eigen bindings that A reads and of its
/// frontiers, of shapes fs (they must agree: a sentence at compile time for
/// fixed sizes, else mg::Error).
template <class A, std::size_t NF, class... Bs>
std::int64_t common_size(const std::array<Shape, NF>& fs, const Bs&... bs) {
  static_assert(fixed_shapes_agree<A, Bs...>(), "mg: elementwise operands have different fixed sizes");
  Eigen::Index rows = -1, cols = -1;
  auto shape = [&](Eigen::Index r, Eigen::Index c) {
    if (rows >= 0 && (r != rows || c != cols))
      fail("mg::grad: elementwise operands of different shapes (", rows, "x", cols, " and ", r, "x", c, ")");
    rows = r;
    cols = c;
  };
  auto one = [&]<class B>(const B& b) {
    if constexpr (is_eigen_value<binding_value_t<B>>::value && reads_direct<A, B::name>::value)
      shape(bval(b).rows(), bval(b).cols());
  };
  (one(bs), ...);
  for (const Shape& f : fs) shape(f.rows, f.cols);
  return static_cast<std::int64_t>(rows * cols);
}
template <class A, class... Bs>
std::int64_t common_size(const Bs&... bs) { return common_size<A>(std::array<Shape, 0>{}, bs...); }

/// What a fused reduction node stores: its value and, for each binding it
/// reads, d(value)/d(binding) (the upstream gradient only scales these).
template <class S, class Jac, class FJac>
struct ReductionValue {
  static constexpr bool is_reduction = true;
  S value;
  Jac jac;
  FJac fjac;  // d(value)/d(frontier), per frontier
};
template <class S, class A, bool Exclusive, class B>
auto jac_slot(const B& b) {
  if constexpr ((reads_direct<A, B::name>::value || sliced<A, B::name>) && !Exclusive && !is_data_binding<B>)
    return zero_like<S, binding_value_t<B>, true>(bval(b));
  else return '\0';  // not read, or written straight into the gradient
}

// ------------------------------------------------- 5. the expression tape
template <class S, class E, class L, class... Bs> struct TapeImpl;
template <class S, class E, class... Ts, class... Bs>
struct TapeImpl<S, E, TypeList<Ts...>, Bs...> {
  using Nodes = TypeList<Ts...>;
  static constexpr std::size_t K = sizeof...(Ts);
  template <class T> static constexpr std::size_t at = tl_index<T, Nodes>::value;

  /// A fused reduction that is the only reader of variable N (N appears
  /// nowhere else) writes its derivative straight into N's gradient, which
  /// the reverse sweep then scales: no extra buffer, no extra pass.
  template <class T, detail::fixed_string N>
  static constexpr bool reduction_reads() {
    if constexpr (is_fused_reduction<T, Bs...>::value) {
      using A = std::remove_cvref_t<decltype(std::declval<T>().a)>;
      return reads_direct<A, N>::value || sliced<A, N>;
    }
    else return false;
  }
  template <class T, detail::fixed_string N>
  static constexpr bool exclusive = [] {
    if constexpr (is_fused_reduction<T, Bs...>::value) {
      constexpr std::size_t readers =
          (std::size_t{0} + ... + (is_fused_reduction<Ts, Bs...>::value && reduction_reads<Ts, N>() ? 1 : 0));
      constexpr bool operand = ((is_operand<Var<N>, Ts, 0>::value || is_operand<Var<N>, Ts, 1>::value) || ...);
      constexpr bool data = ((Bs::name == N && is_data_binding<Bs>) || ...);
      return reduction_reads<T, N>() && readers == 1 && !operand && !data;
    } else {
      return false;
    }
  }();
  /// Variable N's gradient is written whole by one node (its own tape node,
  /// which sees every contribution first, or one exclusive fused reduction),
  /// so it needs no zeroing.
  template <detail::fixed_string N>
  static constexpr bool fresh = (exclusive<Ts, N> || ...) || (std::is_same_v<Ts, Var<N>> || ...);
  template <class T> struct slot { using type = node_type_t<S, T, Bs...>; };
  template <class T> requires is_fused_reduction<T, Bs...>::value
  struct slot<T> {
    using A = std::remove_cvref_t<decltype(std::declval<T>().a)>;
    using Fronts = frontiers_t<A>;
    template <class L> struct fjac;
    template <class... Fs> struct fjac<TypeList<Fs...>> {
      using type = std::tuple<typename adjoint_type<node_type_t<S, Fs, Bs...>>::type...>;
    };
    using type = ReductionValue<S, decltype(std::make_tuple(jac_slot<S, A, exclusive<T, Bs::name>>(std::declval<const Bs&>())...)),
                                typename fjac<Fronts>::type>;
  };
  template <class T> using value_t = typename slot<T>::type;
  /// Recording (create_graph) sweeps over Tensors keep every adjoint a Tensor.
  using tensor_t = typename std::conditional_t<(is_tensor_like<binding_value_t<Bs>> || ...),
                                               first_tensor<binding_value_t<Bs>...>, std::type_identity<void>>::type;
  template <class T> struct generic_adjoint { using type = std::conditional_t<
      is_fused_reduction<T, Bs...>::value, S,
      std::conditional_t<!std::is_void_v<tensor_t> && is_number_v<value_t<T>>, tensor_t,
                         typename adjoint_type<value_t<T>>::type>>; };
  template <class T> struct adjoint : generic_adjoint<T> {};
  /// A variable bound to an Eigen value gathers its adjoint straight in its
  /// gradient (the result's storage, reused by mg::grad_into): its slot here
  /// only records that the first contribution has been stored.
  struct InGrad {};
  template <detail::fixed_string N>
  static constexpr bool gathers_in_grad = [] {
    if constexpr (is_bound<N, Bs...>) {
      using B = std::tuple_element_t<binding_index<N, Bs...>(), std::tuple<Bs...>>;
      return is_eigen_value<binding_value_t<B>>::value && !is_data_binding<B>;
    } else {
      return false;
    }
  }();
  template <detail::fixed_string N> requires(gathers_in_grad<N>)
  struct adjoint<Var<N>> { using type = InGrad; };
  template <class T> using adjoint_t = typename adjoint<T>::type;

  /// T is a unary node over a variable that gathers in its gradient, and
  /// T's rule can write its vector-Jacobian product into a destination.
  template <class T>
  static constexpr bool vjp_into_grad() {
    if constexpr (requires { std::declval<T>().a; } && !requires { std::declval<T>().b; }) {
      using C = std::remove_cvref_t<decltype(std::declval<T>().a)>;
      using R = decltype(rule_of(std::declval<T>()));
      if constexpr (is_var<C>::value && requires { &R::template vjp_into<int, int, int, int>; })
        return std::is_same_v<adjoint_t<C>, InGrad>;
      else return false;
    } else {
      return false;
    }
  }

  std::array<double, const_count<E>::value> consts;
  std::tuple<std::optional<value_t<Ts>>...> vals;

  /// Does the tape hold heap buffers (dynamic-size values, adjoints or a
  /// reduction's derivatives), worth keeping for the next sweep?
  template <class V>
  static constexpr bool holds_buffers = [] {
    if constexpr (requires { V::is_reduction; }) {
      return []<class... J, class... F>(std::type_identity<std::tuple<J...>>, std::type_identity<std::tuple<F...>>) {
        return (is_dynamic_plain<J> || ...) || (is_dynamic_plain<F> || ...);
      }(std::type_identity<decltype(V::jac)>{}, std::type_identity<decltype(V::fjac)>{});
    } else {
      return is_dynamic_plain<V>;
    }
  }();
  static constexpr bool keeps_buffers =
      ((holds_buffers<value_t<Ts>> || is_dynamic_plain<adjoint_t<Ts>>) || ...);

  /// Adjoint slots and got[k] (node k has received a contribution in this
  /// sweep). A tape that keeps buffers keeps these too, so that a repeated
  /// sweep (mg::grad_into) writes into the last one's; others use locals,
  /// which the compiler keeps in registers.
  struct Adjoints {
    std::tuple<std::optional<adjoint_t<Ts>>...> adj;
    std::array<bool, K> got{};
  };
  struct NoAdjoints {};
  [[no_unique_address]] std::conditional_t<keeps_buffers, Adjoints, NoAdjoints> kept;

  explicit TapeImpl(const E& e) : consts(consts_of(e)) {}
  /// For a kept tape: the runtime constants of this call's expression.
  void rebind(const E& e) { consts = consts_of(e); }

  template <class U> const auto& val() const { return *std::get<at<U>>(vals); }
  auto getter() const {
    return [this]<class U>(std::type_identity<U>) -> const auto& { return *std::get<at<U>>(vals); };
  }
  S value() const { return static_cast<S>(plain_value(*std::get<K - 1>(vals))); }

  /// Forward sweep; grads (shaped like the bindings) is where exclusive
  /// reductions leave their derivatives.
  template <class Grads>
  void forward(Grads& grads, const Bs&... bs) { (compute<Ts>(grads, bs...), ...); }
  template <class T, class Grads>
  void compute(Grads& grads, const Bs&... bs) {
    auto& s = std::get<at<T>>(vals);
    if constexpr (is_var<T>::value) store(s, as_value(lookup<T::name>(bs...)));
    else if constexpr (is_intc<T>::value) s.emplace(static_cast<S>(T::value));
    else if constexpr (is_const_at<T>::value) s.emplace(static_cast<S>(consts[T::index]));
    else if constexpr (is_fused_reduction<T, Bs...>::value) {
      using A = typename slot<T>::A;
      constexpr bool mean = std::is_same_v<decltype(rule_of(std::declval<T>())), rules::Mean>;
      using Fronts = typename slot<T>::Fronts;
      constexpr std::size_t NF = tl_size<Fronts>::value;
      if (!s) s.emplace(value_t<T>{S(0), std::make_tuple(jac_slot<S, A, exclusive<T, Bs::name>>(bs)...), {}});
      else reset_jac(s->jac, std::index_sequence_for<Bs...>{}, bs...);
      value_t<T>& r = *s;
      auto out = [&]<std::size_t... J>(std::index_sequence<J...>) {
        return std::forward_as_tuple([&]() -> auto& {
          if constexpr (exclusive<T, Bs::name>) return std::get<J>(grads); else return std::get<J>(r.jac);
        }()...);
      }(std::index_sequence_for<Bs...>{});
      // Slices add into their variable's derivative after the pass, which
      // writes it whole only if it also reads the variable directly.
      [&]<std::size_t... J>(std::index_sequence<J...>) {
        ((void)[&] {
           if constexpr (sliced<A, Bs::name> && !reads_direct<A, Bs::name>::value && !is_data_binding<Bs>)
             std::get<J>(out).setZero();
         }(), ...);
      }(std::index_sequence_for<Bs...>{});
      std::array<rules::Span, NF + 1> spans{};
      FrontierIO<S, NF> fio;
      const auto bound = std::forward_as_tuple(bs...);
      // The bound vectors that slices read, as contiguous memory.
      auto sources = [&]<std::size_t... F>(std::index_sequence<F...>) {
        return make_flat_tuple(slice_source<typename tl_at<F, Fronts>::type>(bs...)...);
      }(std::make_index_sequence<NF>{});
      const std::int64_t n = [&]<std::size_t... F>(std::index_sequence<F...>) {
        // Each frontier's value and a buffer of its shape for its adjoint: a
        // slice of a variable is read in place, any other frontier's value
        // was computed earlier on this tape.
        std::array<Shape, NF> shapes{};
        ((void)[&] {
           using Fr = typename tl_at<F, Fronts>::type;
           if constexpr (slice_of_var<Fr>::value) {
             using V = typename slice_root<Fr>::type;
             constexpr std::size_t j = binding_index<V::name, Bs...>();
             const auto& xv = bval(std::get<j>(bound));
             const rules::Span sp = spans[F] = slice_span<Fr>(xv.size());
             fio.in[F] = fget<F>(sources).ptr + sp.offset;
             const bool row = xv.rows() == 1 && xv.cols() != 1;
             shapes[F] = row ? Shape{1, sp.length} : Shape{sp.length, 1};
             if constexpr (needs_grad<V, Bs...>::value) {
               std::get<F>(r.fjac).resize(shapes[F].rows, shapes[F].cols);
               fio.out[F] = std::get<F>(r.fjac).data();
             }
           } else {
             const auto& v = val<Fr>();
             std::get<F>(r.fjac).resize(v.rows(), v.cols());
             fio.in[F] = v.data(), fio.out[F] = std::get<F>(r.fjac).data();
             shapes[F] = Shape{v.rows(), v.cols()};
           }
         }(), ...);
        return common_size<A>(shapes, bs...);
      }(std::make_index_sequence<NF>{});
      r.value = packet_sweep<S, A>(consts, out, fio, mean ? S(1) / static_cast<S>(n) : S(1), n, bs...);
      // (a separate pass: adding in place inside the packet loop, where head
      // and tail of one vector overlap by an element, stalls every store)
      [&]<std::size_t... F>(std::index_sequence<F...>) {
        ((void)[&] {
           using Fr = typename tl_at<F, Fronts>::type;
           if constexpr (slice_of_var<Fr>::value) {
             using V = typename slice_root<Fr>::type;
             if constexpr (needs_grad<V, Bs...>::value) {
               using Arr = Eigen::Array<S, Eigen::Dynamic, 1>;
               Eigen::Map<Arr>(std::get<binding_index<V::name, Bs...>()>(out).data() + spans[F].offset, spans[F].length) +=
                   Eigen::Map<const Arr>(std::get<F>(r.fjac).data(), spans[F].length);
             }
           }
         }(), ...);
      }(std::make_index_sequence<NF>{});
      if constexpr (mean) r.value /= static_cast<S>(n);
    } else if constexpr (is_scan<T>::value) {
      scan_forward<S, T>(s, static_cast<S>(plain_value(val<std::remove_cvref_t<decltype(std::declval<T>().init)>>())),
                         val<std::remove_cvref_t<decltype(std::declval<T>().xs)>>(), consts, bs...);
    } else if constexpr (!is_dynamic_plain<value_t<T>>) {
      s.emplace(naming_variable<decltype(rule_of(std::declval<T>())), std::remove_cvref_t<decltype(std::declval<T>().a)>>(
          [&] { return op_value<S, T>(getter()); }));
    } else if constexpr (requires { decltype(rule_of(std::declval<T>()))::writes_into; }) {
      // (a product: one GEMM straight into the node's buffer)
      if (!s) s.emplace();
      decltype(rule_of(std::declval<T>()))::f_into(*s, val<std::remove_cvref_t<decltype(std::declval<T>().a)>>(),
                                                    val<std::remove_cvref_t<decltype(std::declval<T>().b)>>());
    } else {
      naming_variable<decltype(rule_of(std::declval<T>())), std::remove_cvref_t<decltype(std::declval<T>().a)>>([&] {
        store(s, op_value<S, T, true>(getter()));  // into the kept buffer, if any
        return 0;
      });
    }
  }
  /// A kept reduction's derivative slots made ready for this call's bindings:
  /// scalars (which the pass adds into) zeroed, arrays (written whole) resized.
  template <class Jac, std::size_t... J>
  static void reset_jac(Jac& jac, std::index_sequence<J...>, const Bs&... bs) {
    const auto bound = std::forward_as_tuple(bs...);
    ((void)[&] {
       auto& j = std::get<J>(jac);
       using Slot = std::remove_cvref_t<decltype(j)>;
       if constexpr (is_number_v<Slot>) {
         j = Slot(0);
       } else if constexpr (is_dynamic_plain<Slot>) {
         const auto& v = bval(std::get<J>(bound));
         if (j.rows() != v.rows() || j.cols() != v.cols()) j.resize(v.rows(), v.cols());
       }
     }(), ...);
  }

  /// The bound vector that frontier Fr slices, as contiguous memory (0 for
  /// other frontiers).
  template <class Fr>
  static auto slice_source(const Bs&... bs) {
    if constexpr (slice_of_var<Fr>::value) {
      constexpr std::size_t j = binding_index<slice_root<Fr>::type::name, Bs...>();
      using B = std::tuple_element_t<j, std::tuple<Bs...>>;
      return Source<S, binding_value_t<B>>(bval(std::get<j>(std::forward_as_tuple(bs...))));
    } else {
      return 0;
    }
  }
  /// The elements of a vector of `size` that slice Fr reads (its counts are
  /// on this tape); a count out of range names the variable.
  template <class Fr>
  rules::Span slice_span(Eigen::Index size) const {
    using R = decltype(rule_of(std::declval<Fr>()));
    using A = std::remove_cvref_t<decltype(std::declval<Fr>().a)>;
    using C = std::remove_cvref_t<decltype(std::declval<Fr>().b)>;
    rules::Span in{0, size};
    if constexpr (slice_of_var<A>::value) in = slice_span<A>(size);
    const rules::Span sp = naming_variable<R, typename slice_root<Fr>::type>(
        [&] { return R::span(in.length, plain_value(val<C>())); });
    return {in.offset + sp.offset, sp.length};
  }

  template <class G, class Grads>
  void backward(const G& g, Grads& grads, const Bs&... bs) {
    if constexpr (keeps_buffers) {
      kept.got.fill(false);
      backward_with(kept, g, grads, bs...);
    } else {
      Adjoints local;
      backward_with(local, g, grads, bs...);
    }
  }
  template <class G, class Grads>
  void backward_with(Adjoints& store_to, const G& g, Grads& grads, [[maybe_unused]] const Bs&... bs) {
    auto& adj = store_to.adj;
    auto& got = store_to.got;
    store(std::get<K - 1>(adj), g);
    got[K - 1] = true;
    const auto get = getter();
    auto send = [&]<class U, class Side, class C>(std::type_identity<U>, Side, C&& c) {
      constexpr std::size_t u = at<U>;
      if constexpr (std::is_same_v<adjoint_t<U>, InGrad>) {
        auto& o = std::get<binding_index<U::name, Bs...>()>(grads);
        if (!got[u]) assign_into(o, c); else add_into(o, c);
        got[u] = true;
      } else if constexpr (needs_grad<U, Bs...>::value) {
        auto& s = std::get<u>(adj);
        using V = std::remove_cvref_t<decltype(plain_value(std::declval<const value_t<U>&>()))>;
        using CV = std::remove_cvref_t<C>;
        if constexpr (is_number_v<V> && !is_number_v<CV> && !is_tensor_like<CV>) {
          const S r = S(c.sum());  // a scalar broadcast against an array
          if (!got[u]) s.emplace(r); else *s += r;
        } else {  // evaluated straight into the slot
          if (!got[u]) store(s, std::forward<C>(c)); else add_into(*s, c);
        }
        got[u] = true;
      }
    };
    // A rule that writes into a destination (a product) writes into the
    // child's kept buffer or the variable's gradient: no temporary.
    auto into = [&]<class U, class Side, class W>(std::type_identity<U>, Side, W& write) -> bool {
      constexpr std::size_t u = at<U>;
      auto run = [&](auto& dst) {
        if (got[u]) write(dst, std::true_type{}); else write(dst, std::false_type{});
        got[u] = true;
        return true;
      };
      if constexpr (std::is_same_v<adjoint_t<U>, InGrad>) {
        return run(std::get<binding_index<U::name, Bs...>()>(grads));
      } else if constexpr (needs_grad<U, Bs...>::value && is_dynamic_plain<adjoint_t<U>>) {
        auto& s = std::get<u>(adj);
        if (!s) s.emplace();
        return run(*s);
      } else {
        return false;
      }
    };
    auto back = [&]<class T>(std::type_identity<T>) {
      if constexpr (needs_grad<T, Bs...>::value && !std::is_same_v<adjoint_t<T>, InGrad>) {
        if (!got[at<T>]) return;
        const auto& a = *std::get<at<T>>(adj);
        if constexpr (is_var<T>::value) {
          if constexpr (is_bound<T::name, Bs...>)
            assign_into(std::get<binding_index<T::name, Bs...>()>(grads), a);
        } else if constexpr (is_fused_reduction<T, Bs...>::value) {
          const auto& r = *std::get<at<T>>(vals);
          [&]<std::size_t... J>(std::index_sequence<J...>) {
            ((void)[&] {
               using B = std::tuple_element_t<J, std::tuple<Bs...>>;
               auto& o = std::get<J>(grads);
               if constexpr (exclusive<T, B::name>) {
                 if constexpr (requires { o.array(); }) o.array() *= a; else o *= a;
               } else if constexpr ((reads_direct<typename slot<T>::A, B::name>::value || sliced<typename slot<T>::A, B::name>) &&
                                    !is_data_binding<B>) {
                 const auto& jac = std::get<J>(r.jac);
                 if constexpr (requires { jac.array(); }) send(std::type_identity<Var<B::name>>{}, side_a, a * jac.array());
                 else send(std::type_identity<Var<B::name>>{}, side_a, a * jac);
               }
             }(), ...);
          }(std::index_sequence_for<Bs...>{});
          [&]<std::size_t... F>(std::index_sequence<F...>) {
            ((void)[&] {
               using Fr = typename tl_at<F, typename slot<T>::Fronts>::type;
               if constexpr (!slice_of_var<Fr>::value) send(std::type_identity<Fr>{}, side_a, a * std::get<F>(r.fjac));
             }(), ...);
          }(std::make_index_sequence<tl_size<typename slot<T>::Fronts>::value>{});
        } else if constexpr (is_scan<T>::value) {
          scan_backward<S, T, Bs...>(get, a, send, consts, bs...);
        } else if constexpr (vjp_into_grad<T>()) {
          // The rule writes its product straight into the variable's
          // gradient when it is the first contribution (prod: no temporary).
          using C = std::remove_cvref_t<decltype(std::declval<T>().a)>;
          // (T the only reader of C: always the first, and no other branch
          // compiled, which keeps the sweep small enough to inline.)
          constexpr bool only_reader =
              (std::size_t{0} + ... + ((is_operand<C, Ts, 0>::value || is_operand<C, Ts, 1>::value) ? 1 : 0)) == 1;
          if (only_reader || !got[at<C>]) {
            auto dst = std::get<binding_index<C::name, Bs...>()>(grads).array();
            decltype(rule_of(std::declval<T>()))::vjp_into(dst, plain_value(get(std::type_identity<C>{})),
                                                            plain_value(get(std::type_identity<T>{})), a);
            got[at<C>] = true;
          } else if constexpr (!only_reader) {
            op_vjp<S, T, Bs...>(get, a, send, into);
          }
        } else {
          op_vjp<S, T, Bs...>(get, a, send, into);
        }
      }
    };
    [&]<std::size_t... R>(std::index_sequence<R...>) {
      (back(std::type_identity<typename tl_at<K - 1 - R, Nodes>::type>{}), ...);
    }(std::make_index_sequence<K>{});
  }
};

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// The tape of expression E (runtime constants numbered) under bindings Bs.
template <class S, class E, class... Bs>
using Tape = TapeImpl<S, E, typename post_order<typename numbered<E>::type, TypeList<>, Bs...>::type, Bs...>;

/// The interface the bridge uses: a tape per evaluation.
template <class S>
struct Sweep {
  template <class E, class... Bs>
  static auto fwd(const E& e, const Bs&... bs) {
    Tape<S, E, Bs...> t(e);
    std::tuple<> none;  // the bridge's expressions are elementwise: no reductions
    t.forward(none, bs...);
    return t;
  }
  template <class E, class T, class G, class Grads, class... Bs>
  static void bwd(const E&, T& tape, const G& g, Grads& grads, const Bs&... bs) { tape.backward(g, grads, bs...); }
};

}  // namespace detail
}  // namespace metagrad
