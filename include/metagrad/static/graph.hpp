// metagrad/static/graph.hpp — the type-level graph behind the static tape: runtime
// constants numbered by position (so that equal subexpression types are equal
// computations), type lists, what a node reads (variables, Eigen values,
// frontiers of a fused reduction, slices of variables), and the node list in
// evaluation order (children first, each distinct subexpression once).
#pragma once
#include <array>
#include <cstddef>
#include <type_traits>

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
template <class T, class L> struct tl_contains;
template <class T, class... Ts> struct tl_contains<T, TypeList<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {};
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
/// (Not into a condition: a comparison passes no gradient on.)
template <class R, class A, class... Bs> struct needs_grad<Unary<R, A>, Bs...>
    : std::bool_constant<rules::differentiable<R> && needs_grad<A, Bs...>::value> {};
template <class R, class A, class B, class... Bs> struct needs_grad<Binary<R, A, B>, Bs...>
    : std::bool_constant<rules::differentiable<R> && (needs_grad<A, Bs...>::value || needs_grad<B, Bs...>::value)> {};

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

}  // namespace detail
}  // namespace metagrad
