// metagrad/static/steps.hpp — one node of the static tape: its forward step (the
// value from its children's, by its rule) and reverse step (the rule's
// vector-Jacobian products sent to its children), the types of its value and
// adjoint, and how slots are filled and accumulated without reallocating.
#pragma once
#include <optional>
#include <type_traits>
#include <utility>

#include "graph.hpp"

namespace metagrad {
namespace detail {

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
/// The same for a unary rule over an Eigen operand A (its adjoint G may be
/// a number: logdet's).
template <class R, class A, class G>
inline constexpr bool can_write_into_unary =
    requires { R::writes_into; } && !is_number_v<A> && !is_tensor_like<A> && !is_tensor_like<G>;

template <class Slot, class C>
void add_into(Slot& slot, const C& c);

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
      if constexpr (needs_grad<A, Bs...>::value && needs_grad<B, Bs...>::value && requires { R::vjp_ab(a, b, y, g); }) {
        if constexpr (can_write_into<R, G> && !std::is_same_v<A, B>) {
          // dB once, into B's buffer, then dA from it into A's: no temporary
          // when each is its buffer's first contribution (solve).
          auto send_a = [&](const auto& db) {
            auto wa = [&](auto& dst, auto add) { R::template vjp_a_from_b_into<decltype(add)::value>(dst, db, y); };
            if (!into(std::type_identity<A>{}, side_a, wa)) send(std::type_identity<A>{}, side_a, R::vjp_a_from_b(db, y));
          };
          auto wb = [&](auto& dst, auto add) {
            if constexpr (decltype(add)::value) {
              const auto& db = R::vjp_b_kept(a, b, y, g);
              add_into(dst, db);
              send_a(db);
            } else {
              R::template vjp_b_into<false>(dst, a, b, y, g);
              send_a(dst.array());
            }
          };
          if (into(std::type_identity<B>{}, side_b, wb)) return;
          auto db = R::vjp_b(a, b, y, g);
          send_a(db);
          send(std::type_identity<B>{}, side_b, std::move(db));
          return;
        }
        auto [da, db] = R::vjp_ab(a, b, y, g);  // both sides from one computation (solve: dB once)
        send(std::type_identity<A>{}, side_a, std::move(da));
        send(std::type_identity<B>{}, side_b, std::move(db));
        return;
      }
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
    if constexpr (needs_grad<A, Bs...>::value) {
      const auto& a = plain_value(get(std::type_identity<A>{}));
      bool written = false;
      if constexpr (can_write_into_unary<R, std::remove_cvref_t<decltype(a)>, G>) {
        auto writer = [&](auto& dst, auto add) { R::template vjp_a_into<decltype(add)::value>(dst, a, y, g); };
        written = into(std::type_identity<A>{}, side_a, writer);
      }
      if (!written) send(std::type_identity<A>{}, side_a, R::vjp(a, y, g));
    }
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

}  // namespace detail
}  // namespace metagrad
