// metagrad/detail/dual_packet.hpp — L dual numbers held as two SIMD registers,
// the values and the tangents apart (structure of arrays). mg::hvp and
// mg::hessian run the fused pass (static/packet_pass.hpp) on these instead of
// on Eigen arrays of Dual<T>, whose arithmetic and transcendentals Eigen
// computes one dual at a time through glibc: here a product is three vector
// multiplies and exp one vectorised kernel (detail/vmath.hpp) plus the
// table's VJP over the tangents.
//
// Every function comes from the derivative table, as for scalar duals:
//   f(v + t e) = f(v) + vjp_f(v, f(v), t) e     (unary rows),
//   (a * b)' = a' b + a b',  (a / b)' = (a' - (a / b) b') / b.
// Comparisons give a mask of L bools, so the rules' keep_where chooses lane by
// lane, as over an Eigen array.
// `dual_packet_node` says which nodes have these forms; a fused pass with
// any other node keeps Eigen arrays of duals (steps are the same rules).
#pragma once
#include <Eigen/Core>
#include <cstring>
#include <type_traits>
#include <utility>

#include "config.hpp"
#include "dual.hpp"
#include "splat.hpp"


namespace metagrad {

template <class T, int L>
struct DualPacket {
  using Arr = Eigen::Array<T, L, 1>;
  /// The constants of the rules' formulas (K<1>(y), ...) are plain T.
  using Scalar = T;
  static constexpr int SizeAtCompileTime = L;
  Arr v, t;

  DualPacket() = default;
  template <class V, class U>
  METAGRAD_INLINE DualPacket(const V& value, const U& tangent) : v(value), t(tangent) {}
  /// x in every lane (detail/splat.hpp: one register broadcast).
  METAGRAD_INLINE static Arr broadcast(T x) { return detail::splat<Arr>(x); }
  /// Every lane d.
  METAGRAD_INLINE explicit DualPacket(const Dual<T>& d) : v(broadcast(d.v)), t(broadcast(d.t)) {}
  METAGRAD_INLINE static DualPacket Zero() { return {Arr::Zero(), Arr::Zero()}; }
  METAGRAD_INLINE static DualPacket Constant(const Dual<T>& d) { return DualPacket(d); }
  /// L consecutive duals of memory, split into values and tangents (two
  /// vector loads and two shuffles; lane by lane, the compiler writes the
  /// lanes to the stack and reads them back as a vector, a failed
  /// store-to-load forward per packet).
  METAGRAD_INLINE static DualPacket load(const Dual<T>* p) {
    DualPacket r;
#if METAGRAD_VECTOR_EXTENSIONS
    if constexpr (L >= 2) {
      typedef T V __attribute__((vector_size(sizeof(T) * L)));
      V a, b;
      std::memcpy(&a, static_cast<const void*>(p), sizeof(V));
      std::memcpy(&b, static_cast<const void*>(p + L / 2), sizeof(V));
      [&]<int... I>(std::integer_sequence<int, I...>) METAGRAD_INLINE {
        const V value = __builtin_shufflevector(a, b, (2 * I)...);
        const V tangent = __builtin_shufflevector(a, b, (2 * I + 1)...);
        std::memcpy(r.v.data(), &value, sizeof(V));
        std::memcpy(r.t.data(), &tangent, sizeof(V));
      }(std::make_integer_sequence<int, L>{});
      return r;
    }
#endif
    for (int l = 0; l < L; ++l) {
      r.v[l] = p[l].v;
      r.t[l] = p[l].t;
    }
    return r;
  }
  METAGRAD_INLINE void store(Dual<T>* p) const {
#if METAGRAD_VECTOR_EXTENSIONS
    if constexpr (L >= 2) {
      typedef T V __attribute__((vector_size(sizeof(T) * L)));
      V value, tangent;
      std::memcpy(&value, v.data(), sizeof(V));
      std::memcpy(&tangent, t.data(), sizeof(V));
      [&]<int... I>(std::integer_sequence<int, I...>) METAGRAD_INLINE {
        // memory holds v0 t0 v1 t1 ...: element 2i is v[i], 2i + 1 is t[i]
        const V lo = __builtin_shufflevector(value, tangent, ((I % 2) * L + I / 2)...);
        const V hi = __builtin_shufflevector(value, tangent, ((I % 2) * L + L / 2 + I / 2)...);
        std::memcpy(static_cast<void*>(p), &lo, sizeof(V));
        std::memcpy(static_cast<void*>(p + L / 2), &hi, sizeof(V));
      }(std::make_integer_sequence<int, L>{});
      return;
    }
#endif
    for (int l = 0; l < L; ++l) p[l] = Dual<T>(v[l], t[l]);
  }
  METAGRAD_INLINE Dual<T> sum() const { return {v.sum(), t.sum()}; }

  /// One lane, read or written as a Dual<T>.
  struct Lane {
    T& v;
    T& t;
    Lane& operator=(const Dual<T>& d) { v = d.v, t = d.t; return *this; }
    Lane& operator+=(const Dual<T>& d) { v += d.v, t += d.t; return *this; }
    operator Dual<T>() const { return {v, t}; }
  };
  Lane operator[](int l) { return {v[l], t[l]}; }
  Dual<T> operator[](int l) const { return {v[l], t[l]}; }

  METAGRAD_INLINE DualPacket& operator+=(const DualPacket& o) { v += o.v, t += o.t; return *this; }
  METAGRAD_INLINE DualPacket& operator-=(const DualPacket& o) { v -= o.v, t -= o.t; return *this; }
};

namespace detail {
template <class P> struct is_dual_packet : std::false_type {};
template <class T, int L> struct is_dual_packet<DualPacket<T, L>> : std::true_type {};
/// An operand of + or - as a DualPacket (a dual in every lane; numbers are
/// handled by the operators themselves).
template <class T, int L>
METAGRAD_INLINE inline const DualPacket<T, L>& as_dual_packet(const DualPacket<T, L>& p) { return p; }
template <class T, int L>
METAGRAD_INLINE inline DualPacket<T, L> as_dual_packet(const Dual<T>& d) { return DualPacket<T, L>(d); }
/// Operands of a mixed operation: at least one DualPacket, the other a
/// DualPacket of the same kind, a Dual of its parts or a number.
template <class A, class B>
concept DualPacketOperands =
    (is_dual_packet<A>::value || is_dual_packet<B>::value) &&
    (std::is_arithmetic_v<A> || is_dual<A>::value || is_dual_packet<A>::value) &&
    (std::is_arithmetic_v<B> || is_dual<B>::value || is_dual_packet<B>::value);
/// The DualPacket type of a mixed operation's operands.
template <class A, class B>
using dual_packet_of = std::conditional_t<is_dual_packet<A>::value, A, B>;
}  // namespace detail

template <class A, class B> requires detail::DualPacketOperands<A, B>
METAGRAD_INLINE inline auto operator+(const A& a, const B& b) {
  using P = detail::dual_packet_of<A, B>;
  constexpr int L = P::SizeAtCompileTime;
  using T = typename P::Scalar;
  if constexpr (std::is_arithmetic_v<B>) return P(a.v + static_cast<T>(b), a.t);
  else if constexpr (std::is_arithmetic_v<A>) return P(static_cast<T>(a) + b.v, b.t);
  else {
    const auto& x = detail::as_dual_packet<T, L>(a);
    const auto& y = detail::as_dual_packet<T, L>(b);
    return P(x.v + y.v, x.t + y.t);
  }
}
template <class A, class B> requires detail::DualPacketOperands<A, B>
METAGRAD_INLINE inline auto operator-(const A& a, const B& b) {
  using P = detail::dual_packet_of<A, B>;
  constexpr int L = P::SizeAtCompileTime;
  using T = typename P::Scalar;
  if constexpr (std::is_arithmetic_v<B>) return P(a.v - static_cast<T>(b), a.t);
  else if constexpr (std::is_arithmetic_v<A>) return P(static_cast<T>(a) - b.v, -b.t);
  else {
    const auto& x = detail::as_dual_packet<T, L>(a);
    const auto& y = detail::as_dual_packet<T, L>(b);
    return P(x.v - y.v, x.t - y.t);
  }
}
/// (a b)' = a' b + a b'
template <class A, class B> requires detail::DualPacketOperands<A, B>
METAGRAD_INLINE inline auto operator*(const A& a, const B& b) {
  using P = detail::dual_packet_of<A, B>;
  using T = typename P::Scalar;
  if constexpr (std::is_arithmetic_v<B>) return P(a.v * static_cast<T>(b), a.t * static_cast<T>(b));
  else if constexpr (std::is_arithmetic_v<A>) return P(static_cast<T>(a) * b.v, static_cast<T>(a) * b.t);
  else return P(a.v * b.v, a.t * b.v + a.v * b.t);  // (a Dual operand's parts broadcast)
}
/// (a / b)' = (a' - (a / b) b') / b (the scalar dual's grouping)
template <class A, class B> requires detail::DualPacketOperands<A, B>
METAGRAD_INLINE inline auto operator/(const A& a, const B& b) {
  using P = detail::dual_packet_of<A, B>;
  using T = typename P::Scalar;
  if constexpr (std::is_arithmetic_v<B>) {
    return P(a.v / static_cast<T>(b), a.t / static_cast<T>(b));
  } else if constexpr (std::is_arithmetic_v<A>) {
    const auto q = static_cast<T>(a) / b.v;
    return P(q, (T(0) - q * b.t) / b.v);
  } else {
    const auto q = a.v / b.v;
    return P(q, (a.t - q * b.t) / b.v);
  }
}
template <class T, int L>
METAGRAD_INLINE inline DualPacket<T, L> operator-(const DualPacket<T, L>& a) { return {-a.v, -a.t}; }
template <class T, int L>
METAGRAD_INLINE inline const DualPacket<T, L>& operator+(const DualPacket<T, L>& a) { return a; }

namespace detail {
/// A comparison's operand as values lane by lane (a number or a dual: the
/// same in every lane).
template <class T, int L, class X>
METAGRAD_INLINE inline Eigen::Array<T, L, 1> lane_values(const X& x) {
  if constexpr (std::is_arithmetic_v<X>) return Eigen::Array<T, L, 1>::Constant(static_cast<T>(x));
  else if constexpr (is_dual<X>::value) return Eigen::Array<T, L, 1>::Constant(x.v);
  else return x.v;
}
}  // namespace detail
/// Comparisons of dual packets compare the values lane by lane: a mask of L
/// bools, as an Eigen array's comparison is, so that the rules' keep_where
/// chooses per lane (relu's derivative at a NaN, pow's at a zero base).
#define METAGRAD_DUAL_PACKET_COMPARISON(OP)                                                      \
  template <class A, class B> requires detail::DualPacketOperands<A, B>                          \
  METAGRAD_INLINE inline auto operator OP(const A& a, const B& b) {                              \
    using P = detail::dual_packet_of<A, B>;                                                      \
    constexpr int L = P::SizeAtCompileTime;                                                      \
    using T = typename P::Scalar;                                                                \
    return Eigen::Array<bool, L, 1>(detail::lane_values<T, L>(a) OP detail::lane_values<T, L>(b)); \
  }
METAGRAD_DUAL_PACKET_COMPARISON(<)
METAGRAD_DUAL_PACKET_COMPARISON(<=)
METAGRAD_DUAL_PACKET_COMPARISON(>)
METAGRAD_DUAL_PACKET_COMPARISON(>=)
METAGRAD_DUAL_PACKET_COMPARISON(==)
METAGRAD_DUAL_PACKET_COMPARISON(!=)
#undef METAGRAD_DUAL_PACKET_COMPARISON
/// p where c holds, 0 elsewhere (value and tangent), lane by lane or, for a
/// bool, for the whole packet; keep_where_not the other way round.
template <class T, int L>
METAGRAD_INLINE inline DualPacket<T, L> keep_where(const Eigen::Array<bool, L, 1>& c, const DualPacket<T, L>& p) {
  return {c.select(p.v, T(0)), c.select(p.t, T(0))};
}
template <class T, int L>
METAGRAD_INLINE inline DualPacket<T, L> keep_where_not(const Eigen::Array<bool, L, 1>& c, const DualPacket<T, L>& p) {
  return {c.select(T(0), p.v), c.select(T(0), p.t)};
}
template <class T, int L>
METAGRAD_INLINE inline DualPacket<T, L> keep_where(bool c, const DualPacket<T, L>& p) { return c ? p : DualPacket<T, L>::Zero(); }
template <class T, int L>
METAGRAD_INLINE inline DualPacket<T, L> keep_where_not(bool c, const DualPacket<T, L>& p) { return c ? DualPacket<T, L>::Zero() : p; }

namespace detail {
/// y = f(v), y' = vjp(v, y, t): the table's row over the value and tangent
/// registers (its array forms are the vectorised kernels).
template <class Rule, class T, int L>
METAGRAD_INLINE inline DualPacket<T, L> dual_packet_unary(const DualPacket<T, L>& x) {
  using A = typename DualPacket<T, L>::Arr;
  const A y = Rule::f(x.v);
  return {y, A(Rule::vjp(x.v, y, x.t))};
}
}  // namespace detail
#define METAGRAD_DUAL_PACKET_UNARY(Rule, fn) \
  template <class T, int L>                  \
  METAGRAD_INLINE inline DualPacket<T, L> fn(const DualPacket<T, L>& x) { return detail::dual_packet_unary<rules::Rule>(x); }
METAGRAD_FOR_EACH_UNARY(METAGRAD_DUAL_PACKET_UNARY)
#undef METAGRAD_DUAL_PACKET_UNARY
template <int N, class T, int L>
METAGRAD_INLINE inline DualPacket<T, L> polygamma_n(const DualPacket<T, L>& x) {
  return detail::dual_packet_unary<rules::Polygamma<N>>(x);
}

/// a^b for an exponent that is one dual for every lane (a constant in a
/// fused pass): the Pow row's sides, y' = vjp_a(v, b, y, t) + vjp_b(v, b, y, b')
/// with d/da = b a^(b-1), d/db = a^b log a (skipped when b' = 0, as for
/// scalar duals: log a is NaN for a < 0).
template <class T, int L>
METAGRAD_INLINE inline DualPacket<T, L> pow(const DualPacket<T, L>& a, const Dual<T>& b) {
  using A = typename DualPacket<T, L>::Arr;
  const A y = math::array_pow(a.v, b.v);
  A t = A(rules::Pow::vjp_a(a.v, b.v, y, a.t));
  if (b.t != T(0)) t += A(rules::Pow::vjp_b(a.v, b.v, y, b.t));
  return {y, t};
}

namespace detail {
template <class R> struct dual_packet_rule : std::false_type {};
#define METAGRAD_DUAL_PACKET_RULE(Rule, fn) \
  template <> struct dual_packet_rule<rules::Rule> : std::true_type {};
METAGRAD_FOR_EACH_UNARY(METAGRAD_DUAL_PACKET_RULE)
#undef METAGRAD_DUAL_PACKET_RULE
template <> struct dual_packet_rule<rules::Add> : std::true_type {};
template <> struct dual_packet_rule<rules::Sub> : std::true_type {};
template <> struct dual_packet_rule<rules::Mul> : std::true_type {};
template <> struct dual_packet_rule<rules::Div> : std::true_type {};
}  // namespace detail

}  // namespace metagrad
