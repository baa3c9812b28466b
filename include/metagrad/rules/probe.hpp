// metagrad/rules/probe.hpp — which operands a rule's vector-Jacobian product
// reads, found by evaluating it on probes: a probe is a type carrying a bit
// set, every operation on probes unites their sets, so the VJP's result type
// names exactly the operands its formula used. The dynamic nodes save only
// those (as PyTorch generates what a node saves from the names its
// derivatives.yaml formula uses): no hand-written mask can be wrong.
#pragma once
#include <tuple>
#include <type_traits>
#include <utility>

namespace metagrad::rules {
/// Operand bits: the (first) input, the second input, the output.
enum : unsigned { kA = 1, kB = 2, kY = 4 };

namespace probe {
template <unsigned M>
struct P {
  using value_type = double;  // the constants of a formula are plain numbers
  static constexpr unsigned mask = M;
};
template <class T> struct is_p : std::false_type {};
template <unsigned M> struct is_p<P<M>> : std::true_type {};
template <class T> constexpr unsigned mask_of() {
  if constexpr (is_p<T>::value) return T::mask; else return 0;
}
/// A probe with a probe or with a constant of the formula (a number, or an
/// argument of the op such as nll_loss's weights).
template <class A, class B>
concept Operands = is_p<A>::value || is_p<B>::value;
#define METAGRAD_PROBE_BINARY(OP) \
  template <class A, class B> requires Operands<A, B> constexpr P<mask_of<A>() | mask_of<B>()> operator OP(const A&, const B&) { return {}; }
METAGRAD_PROBE_BINARY(+)
METAGRAD_PROBE_BINARY(-)
METAGRAD_PROBE_BINARY(*)
METAGRAD_PROBE_BINARY(/)
METAGRAD_PROBE_BINARY(<)
METAGRAD_PROBE_BINARY(<=)
METAGRAD_PROBE_BINARY(>)
METAGRAD_PROBE_BINARY(>=)
METAGRAD_PROBE_BINARY(==)
METAGRAD_PROBE_BINARY(!=)
#undef METAGRAD_PROBE_BINARY
template <unsigned M> constexpr P<M> operator-(const P<M>&) { return {}; }
#define METAGRAD_PROBE_FUNCTION(fn) \
  template <unsigned M> constexpr P<M> fn(const P<M>&) { return {}; }
METAGRAD_PROBE_FUNCTION(exp) METAGRAD_PROBE_FUNCTION(log) METAGRAD_PROBE_FUNCTION(sin) METAGRAD_PROBE_FUNCTION(cos)
METAGRAD_PROBE_FUNCTION(tan) METAGRAD_PROBE_FUNCTION(tanh) METAGRAD_PROBE_FUNCTION(sigmoid) METAGRAD_PROBE_FUNCTION(sqrt)
METAGRAD_PROBE_FUNCTION(abs) METAGRAD_PROBE_FUNCTION(sign) METAGRAD_PROBE_FUNCTION(relu) METAGRAD_PROBE_FUNCTION(rsqrt)
METAGRAD_PROBE_FUNCTION(sinh) METAGRAD_PROBE_FUNCTION(cosh) METAGRAD_PROBE_FUNCTION(square) METAGRAD_PROBE_FUNCTION(log1p)
METAGRAD_PROBE_FUNCTION(expm1) METAGRAD_PROBE_FUNCTION(atan) METAGRAD_PROBE_FUNCTION(erf) METAGRAD_PROBE_FUNCTION(erfc)
METAGRAD_PROBE_FUNCTION(reciprocal) METAGRAD_PROBE_FUNCTION(softplus) METAGRAD_PROBE_FUNCTION(lgamma)
METAGRAD_PROBE_FUNCTION(digamma)
#undef METAGRAD_PROBE_FUNCTION
template <class A, class B> requires Operands<A, B> constexpr P<mask_of<A>() | mask_of<B>()> pow(const A&, const B&) { return {}; }
template <class A, class B> requires Operands<A, B> constexpr P<mask_of<A>() | mask_of<B>()> keep_where(const A&, const B&) { return {}; }
template <class A, class B> requires Operands<A, B> constexpr P<mask_of<A>() | mask_of<B>()> keep_where_not(const A&, const B&) { return {}; }
template <int N, unsigned M> constexpr P<M> polygamma_n(const P<M>&) { return {}; }
template <unsigned M> constexpr P<M> polygamma(int, const P<M>&) { return {}; }
/// Functions of one operand and the op's own arguments (a shape, a dim, an
/// index, k): rules/structure.hpp's formulas.
#define METAGRAD_PROBE_WITH_ARGS(fn) \
  template <unsigned M, class... Args> constexpr P<M> fn(const P<M>&, const Args&...) { return {}; }
METAGRAD_PROBE_WITH_ARGS(sum_to_size) METAGRAD_PROBE_WITH_ARGS(expand) METAGRAD_PROBE_WITH_ARGS(reshape)
METAGRAD_PROBE_WITH_ARGS(t) METAGRAD_PROBE_WITH_ARGS(permute) METAGRAD_PROBE_WITH_ARGS(index_select)
METAGRAD_PROBE_WITH_ARGS(index_select_backward) METAGRAD_PROBE_WITH_ARGS(gather)
METAGRAD_PROBE_WITH_ARGS(gather_backward) METAGRAD_PROBE_WITH_ARGS(tril) METAGRAD_PROBE_WITH_ARGS(transpose)
METAGRAD_PROBE_WITH_ARGS(linalg_inv) METAGRAD_PROBE_WITH_ARGS(sym_lower) METAGRAD_PROBE_WITH_ARGS(as_column)
METAGRAD_PROBE_WITH_ARGS(select) METAGRAD_PROBE_WITH_ARGS(select_backward) METAGRAD_PROBE_WITH_ARGS(slice)
METAGRAD_PROBE_WITH_ARGS(slice_backward) METAGRAD_PROBE_WITH_ARGS(as_strided_backward)
#undef METAGRAD_PROBE_WITH_ARGS
/// Products of two operands (the matrix products' formulas).
#define METAGRAD_PROBE_PRODUCT(fn) \
  template <unsigned M, unsigned N> constexpr P<M | N> fn(const P<M>&, const P<N>&) { return {}; }
METAGRAD_PROBE_PRODUCT(matmul) METAGRAD_PROBE_PRODUCT(mm) METAGRAD_PROBE_PRODUCT(mv) METAGRAD_PROBE_PRODUCT(bmm)
METAGRAD_PROBE_PRODUCT(outer) METAGRAD_PROBE_PRODUCT(linalg_solve_t)
#undef METAGRAD_PROBE_PRODUCT
/// The engine's view of a dimension (rules/reductions.hpp's `d`), on probes.
struct Along {
  template <unsigned M> constexpr P<M> back(const P<M>&) const { return {}; }
  template <unsigned M> constexpr P<M> sum(const P<M>&) const { return {}; }
  template <unsigned M> constexpr P<M> mean(const P<M>&) const { return {}; }
  template <unsigned M> constexpr P<M> cumsum(const P<M>&) const { return {}; }
  template <unsigned M, unsigned N> constexpr P<M | N> prod_others(const P<M>&, const P<N>&) const { return {}; }
  constexpr double count() const { return 1; }
  constexpr double correction() const { return 0; }
};
}  // namespace probe

/// What the VJP of unary rule R reads: kA (x) and/or kY (y).
template <class R>
inline constexpr unsigned unary_needs = decltype(R::vjp(probe::P<kA>{}, probe::P<kY>{}, probe::P<0>{}))::mask;
/// What the VJPs of binary rule R for a and for b read (kA, kB, kY).
template <class R>
inline constexpr unsigned grad_a_needs =
    decltype(R::vjp_a(probe::P<kA>{}, probe::P<kB>{}, probe::P<kY>{}, probe::P<0>{}))::mask;
template <class R>
inline constexpr unsigned grad_b_needs =
    decltype(R::vjp_b(probe::P<kA>{}, probe::P<kB>{}, probe::P<kY>{}, probe::P<0>{}))::mask;
/// What binary rule R's VJPs read when both sides need a gradient: its
/// vjp_ab (both at once), if it has one, else vjp_a's and vjp_b's together.
template <class R>
inline constexpr unsigned grad_ab_needs = [] {
  if constexpr (requires { R::vjp_ab(probe::P<kA>{}, probe::P<kB>{}, probe::P<kY>{}, probe::P<0>{}); }) {
    using Both = decltype(R::vjp_ab(probe::P<kA>{}, probe::P<kB>{}, probe::P<kY>{}, probe::P<0>{}));
    return std::remove_cvref_t<decltype(std::get<0>(std::declval<Both>()))>::mask |
           std::remove_cvref_t<decltype(std::get<1>(std::declval<Both>()))>::mask;
  } else {
    return grad_a_needs<R> | grad_b_needs<R>;
  }
}();
/// What the VJP along a dimension of reduction rule R reads: kA (x) and/or kY (y).
template <class R>
inline constexpr unsigned along_needs =
    decltype(R::vjp_along(probe::P<kA>{}, probe::P<kY>{}, probe::P<0>{}, probe::Along{}))::mask;
template <class R> inline constexpr bool uses_input = (unary_needs<R> & kA) != 0;
template <class R> inline constexpr bool uses_output = (unary_needs<R> & kY) != 0;
}  // namespace metagrad::rules
