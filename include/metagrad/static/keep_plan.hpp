// metagrad/static/keep_plan.hpp — store or recompute, for the bridge's two passes
// over an elementwise expression: which node values the forward pass keeps and
// which the backward pass computes again, decided at compile time from the
// rules' probed vector-Jacobian products (rules/probe.hpp).
#pragma once
#include <array>
#include <cstddef>

#include "../rules/probe.hpp"
#include "steps.hpp"

namespace metagrad {
namespace detail {

// ----------------------------------------- 4a. store or recompute (bridge)
/// Nodes whose value is as cheap to compute again as to read back from
/// memory: arithmetic, square roots, comparisons and selections (one
/// instruction or two per packet). A condition is never kept.
template <class R>
inline constexpr bool cheap_rule =
    std::is_same_v<R, rules::Add> || std::is_same_v<R, rules::Sub> || std::is_same_v<R, rules::Mul> ||
    std::is_same_v<R, rules::Div> || std::is_same_v<R, rules::Neg> || std::is_same_v<R, rules::Abs> ||
    std::is_same_v<R, rules::Relu> || std::is_same_v<R, rules::Sign> || std::is_same_v<R, rules::Square> ||
    std::is_same_v<R, rules::Reciprocal> || std::is_same_v<R, rules::Sqrt> || std::is_same_v<R, rules::Rsqrt> ||
    std::is_same_v<R, rules::Floor> || std::is_same_v<R, rules::Ceil> || std::is_same_v<R, rules::Round> ||
    std::is_same_v<R, rules::Minimum> || std::is_same_v<R, rules::Maximum> || !rules::differentiable<R> ||
    std::is_same_v<R, rules::KeepWhere> || std::is_same_v<R, rules::KeepWhereNot> ||
    std::is_same_v<R, rules::ClampMin> || std::is_same_v<R, rules::ClampMax>;
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
      if constexpr (needs_grad<A, Bs...>::value && needs_grad<B, Bs...>::value) return rules::grad_ab_needs<R>;
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

}  // namespace detail
}  // namespace metagrad
