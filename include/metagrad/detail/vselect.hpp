// metagrad/detail/vselect.hpp — a select that Eigen 3.4 vectorises.
//
// Eigen 3.4's `cond.select(a, b)` has no packet path (its evaluator lacks
// PacketAccessBit), and its comparisons return bools, which have none either:
// every formula with a condition — abs's g * sign(x), clamp's and relu's
// masks, pow's zero cases, maximum's ties — ran one element at a time, and so
// did everything nested inside it (pow's backward called the vector pow
// kernel once per element: 29 ns an element, 10x its forward).
//
// `vselect<S>(c, a, b)` takes a condition that is a comparison of two float
// or double arrays (`x >= lo`, `y != 0`: Eigen's scalar_cmp_op) apart and
// evaluates c ? a : b with packets:
//   * one branch a number (keep_where's 0, clamp's bound, sign's ±1): one
//     ternary op over the comparison's operands and the other branch — on
//     AVX-512 a compare into a k mask and a masked blend, as a compiler's own
//     vectorisation makes;
//   * both branches arrays: a mask of the compared type (all bits set where
//     c holds, as Eigen's packet comparisons make) and a blend by it.
// Other conditions (a stored array of bools, duals) get Eigen's own select.
// NaN compares as in C++: false for < <= > >= ==, true for !=.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace metagrad::detail {

/// a CMP b, for numbers (bool) and for packets (Eigen's mask packets).
template <int Cmp, class S>
EIGEN_STRONG_INLINE bool compare_as(const S& a, const S& b) {
  using namespace Eigen::internal;
  if constexpr (Cmp == cmp_EQ) return a == b;
  else if constexpr (Cmp == cmp_LT) return a < b;
  else if constexpr (Cmp == cmp_LE) return a <= b;
  else if constexpr (Cmp == cmp_GT) return a > b;
  else if constexpr (Cmp == cmp_GE) return a >= b;
  else if constexpr (Cmp == cmp_NEQ) return !(a == b);
  else return !(a == a && b == b);  // cmp_UNORD
}
template <int Cmp, class P>
EIGEN_STRONG_INLINE P compare_packet(const P& a, const P& b) {
  using namespace Eigen::internal;
  if constexpr (Cmp == cmp_EQ) return pcmp_eq(a, b);
  else if constexpr (Cmp == cmp_LT) return pcmp_lt(a, b);
  else if constexpr (Cmp == cmp_LE) return pcmp_le(a, b);
  else if constexpr (Cmp == cmp_GT) return pcmp_lt(b, a);
  else if constexpr (Cmp == cmp_GE) return pcmp_le(b, a);
  else if constexpr (Cmp == cmp_NEQ) return pandnot(ptrue(a), pcmp_eq(a, b));
  else return pandnot(ptrue(a), pand(pcmp_eq(a, a), pcmp_eq(b, b)));
}
#if defined(EIGEN_VECTORIZE_AVX512)
/// The comparison's _mm512_cmp predicate (ordered, but != and "unordered").
template <int Cmp>
inline constexpr int avx512_predicate = Cmp == Eigen::internal::cmp_EQ    ? _CMP_EQ_OQ
                                        : Cmp == Eigen::internal::cmp_LT  ? _CMP_LT_OQ
                                        : Cmp == Eigen::internal::cmp_LE  ? _CMP_LE_OQ
                                        : Cmp == Eigen::internal::cmp_GT  ? _CMP_GT_OQ
                                        : Cmp == Eigen::internal::cmp_GE  ? _CMP_GE_OQ
                                        : Cmp == Eigen::internal::cmp_NEQ ? _CMP_NEQ_UQ
                                                                          : _CMP_UNORD_Q;
#endif
/// (l CMP r) ? t : e by packets: on AVX-512 through a k mask (Eigen's
/// pcmp_* there make a vector of the mask that its pselect turns back into
/// one, two instructions g++ keeps in the loop).
template <int Cmp, class P>
EIGEN_STRONG_INLINE P select_packet(const P& l, const P& r, const P& t, const P& e) {
#if defined(EIGEN_VECTORIZE_AVX512)
  using U = Eigen::internal::unpacket_traits<P>;
  if constexpr (std::is_same_v<typename U::type, double> && U::size == 8)
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(l, r, avx512_predicate<Cmp>), e, t);
  else if constexpr (std::is_same_v<typename U::type, float> && U::size == 16)
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(l, r, avx512_predicate<Cmp>), e, t);
  else
#endif
    return Eigen::internal::pselect(compare_packet<Cmp>(l, r), t, e);
}

/// (l CMP r) ? c : x (ConstThen) or (l CMP r) ? x : c, c a number.
template <class S, int Cmp, bool ConstThen>
struct select_number_op {
  using result_type = S;
  S c;
  EIGEN_STRONG_INLINE S operator()(const S& l, const S& r, const S& x) const {
    return compare_as<Cmp>(l, r) == ConstThen ? c : x;
  }
  template <class P>
  EIGEN_STRONG_INLINE P packetOp(const P& l, const P& r, const P& x) const {
    const P k = Eigen::internal::pset1<P>(c);
    if constexpr (ConstThen) return select_packet<Cmp>(l, r, k, x);
    else return select_packet<Cmp>(l, r, x, k);
  }
};

/// Every bit set: a mask lane where a condition holds (a NaN as a number).
template <class S>
S all_bits() {
  using U = std::conditional_t<sizeof(S) == 8, std::uint64_t, std::uint32_t>;
  const U ones = ~U(0);
  S r;
  std::memcpy(&r, &ones, sizeof(S));
  return r;
}
/// Elementwise a CMP b as a mask of S: all bits set where it holds, 0
/// elsewhere, in packets (Eigen's pcmp_*) and one element at a time alike,
/// so that either of blend_op's paths may read a mask either path made.
template <class S, int Cmp>
struct cmp_mask_op {
  using result_type = S;
  EIGEN_STRONG_INLINE S operator()(const S& a, const S& b) const { return compare_as<Cmp>(a, b) ? all_bits<S>() : S(0); }
  template <class P>
  EIGEN_STRONG_INLINE P packetOp(const P& a, const P& b) const { return compare_packet<Cmp>(a, b); }
};
/// m ? a : b by a mask of cmp_mask_op (a NaN lane is set: != 0 holds).
template <class S>
struct blend_op {
  using result_type = S;
  EIGEN_STRONG_INLINE S operator()(const S& m, const S& a, const S& b) const { return m != S(0) ? a : b; }
  template <class P>
  EIGEN_STRONG_INLINE P packetOp(const P& m, const P& a, const P& b) const {
    return Eigen::internal::pselect(m, a, b);
  }
};

/// Is C Eigen's comparison of two arrays of the floating type S?
template <class C, class S>
struct float_comparison : std::false_type {};
template <class S, Eigen::internal::ComparisonName Cmp, class L, class R>
  requires std::is_floating_point_v<S>
struct float_comparison<Eigen::CwiseBinaryOp<Eigen::internal::scalar_cmp_op<S, S, Cmp>, L, R>, S> : std::true_type {
  static constexpr int cmp = Cmp;
};
template <class C, class S>
inline constexpr bool float_comparison_v = float_comparison<C, S>::value;

/// c ? a : b elementwise for a comparison c of S arrays (float_comparison_v):
/// a and b each an array expression of S of c's size or a number.
template <class S, class C, class A, class B>
  requires float_comparison_v<C, S>
auto vselect(const C& c, const A& a, const B& b) {
  constexpr int cmp = float_comparison<C, S>::cmp;
  using L = std::remove_cvref_t<decltype(c.lhs())>;
  using R = std::remove_cvref_t<decltype(c.rhs())>;
  constexpr bool num_a = std::is_arithmetic_v<A>, num_b = std::is_arithmetic_v<B>;
  using K = Eigen::Array<S, C::RowsAtCompileTime, C::ColsAtCompileTime, 0, C::MaxRowsAtCompileTime, C::MaxColsAtCompileTime>;
  if constexpr (num_a && num_b) {
    using Op = select_number_op<S, cmp, true>;
    using X = typename K::ConstantReturnType;
    return Eigen::CwiseTernaryOp<Op, const L, const R, const X>(c.lhs(), c.rhs(), K::Constant(c.rows(), c.cols(), S(b)),
                                                                Op{S(a)});
  } else if constexpr (num_a) {
    using Op = select_number_op<S, cmp, true>;
    return Eigen::CwiseTernaryOp<Op, const L, const R, const B>(c.lhs(), c.rhs(), b, Op{S(a)});
  } else if constexpr (num_b) {
    using Op = select_number_op<S, cmp, false>;
    return Eigen::CwiseTernaryOp<Op, const L, const R, const A>(c.lhs(), c.rhs(), a, Op{S(b)});
  } else {
    using M = Eigen::CwiseBinaryOp<cmp_mask_op<S, cmp>, const L, const R>;
    return Eigen::CwiseTernaryOp<blend_op<S>, const M, const A, const B>(M(c.lhs(), c.rhs()), a, b);
  }
}

/// A comparison's value inside a fused pass (static/packet_pass.hpp): the
/// mask of a fixed-size packet (cmp_mask_op), not an array of bools, so that
/// `where` and `keep_where` over it blend in packets (over bools, Eigen's
/// select runs lane by lane, and so does the comparison that makes them).
template <class Arr>
struct PacketMask {
  Arr m{};
};
template <class T> struct is_packet_mask : std::false_type {};
template <class Arr> struct is_packet_mask<PacketMask<Arr>> : std::true_type {};
/// c, a comparison of fixed-size S arrays, as a mask.
template <class S, class C>
  requires float_comparison_v<C, S>
auto packet_mask(const C& c) {
  using L = std::remove_cvref_t<decltype(c.lhs())>;
  using R = std::remove_cvref_t<decltype(c.rhs())>;
  using Arr = Eigen::Array<S, C::RowsAtCompileTime, C::ColsAtCompileTime>;
  return PacketMask<Arr>{Arr(Eigen::CwiseBinaryOp<cmp_mask_op<S, float_comparison<C, S>::cmp>, const L, const R>(c.lhs(), c.rhs()))};
}
/// c ? a : b over a packet's mask; a and b arrays of its size or numbers.
template <class Arr, class A, class B>
Arr blend(const PacketMask<Arr>& c, const A& a, const B& b) {
  using S = typename Arr::Scalar;
  auto side = [&](const auto& v) -> decltype(auto) {
    if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(v)>>) return Arr::Constant(static_cast<S>(v));
    else return (v.derived());
  };
  return Arr(Eigen::CwiseTernaryOp<blend_op<S>, const Arr, const std::remove_cvref_t<decltype(side(a))>,
                                   const std::remove_cvref_t<decltype(side(b))>>(c.m, side(a), side(b)));
}

}  // namespace metagrad::detail

namespace Eigen::internal {
template <class S, int Cmp, bool ConstThen>
struct functor_traits<metagrad::detail::select_number_op<S, Cmp, ConstThen>> {
  enum { Cost = 2 * NumTraits<S>::AddCost, PacketAccess = packet_traits<S>::Vectorizable };
};
template <class S, int Cmp>
struct functor_traits<metagrad::detail::cmp_mask_op<S, Cmp>> {
  enum { Cost = NumTraits<S>::AddCost, PacketAccess = packet_traits<S>::Vectorizable };
};
template <class S>
struct functor_traits<metagrad::detail::blend_op<S>> {
  enum { Cost = NumTraits<S>::AddCost, PacketAccess = packet_traits<S>::Vectorizable };
};
}  // namespace Eigen::internal
