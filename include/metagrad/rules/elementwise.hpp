// metagrad/rules/elementwise.hpp — THE derivative table of metagrad's
// elementwise ops. Each rule is written once, generically, and serves:
//   * the static symbolic derivative `mg::d` (with static expression values),
//   * the static fused reverse sweep `mg::grad` (with double / Eigen values),
//   * the dynamic engine's backward nodes (with Eigen maps, or with Tensors
//     when create_graph records the backward pass).
// For elementwise ops the vector-Jacobian product with cotangent g equals the
// Jacobian-vector product with tangent g, so `vjp` also drives forward-mode
// `d`. `x` is the input, `y` the op's output (saved to avoid recomputing),
// `g` the incoming gradient. `K<N>(v)` is the constant N in v's value family
// (an integral constant for static expressions, a scalar otherwise).
//
// Adding an elementwise op: one METAGRAD_UNARY_RULE line here, one test line,
// one doc line. The static node, the dynamic op, the printer name, gradcheck
// and fuzzing all pick it up from the table below.
#pragma once
#include <Eigen/Core>
#include <type_traits>
#include <utility>

#include <unsupported/Eigen/SpecialFunctions>

#include "../detail/cmath.hpp"
#include "../detail/vmath.hpp"
#include "../detail/vmath_erf.hpp"
#include "../detail/vmath_inverse_hyperbolic.hpp"
#include "../detail/vmath_inverse_trig.hpp"
#include "../detail/vmath_atan2_hypot.hpp"
#include "../detail/vmath_pow.hpp"
#include "../detail/vselect.hpp"
#include "probe.hpp"

namespace metagrad {

/// Value families specialise this to say what "the constant N" is for them.
template <class V, class = void>
struct constant_family {
  /// The real constant v (an irrational such as ln 2 in a derivative).
  static constexpr auto real(double v) { return make_scalar(v); }
  template <int N>
  static constexpr auto make() { return make_scalar(N); }
  template <class N>
  static constexpr auto make_scalar(N v) {
    if constexpr (requires { typename V::Scalar; })
      return static_cast<typename V::Scalar>(v);
    else if constexpr (std::is_arithmetic_v<V>)
      return static_cast<V>(v);
    else if constexpr (requires { typename V::value_type; })
      return static_cast<typename V::value_type>(v);
    else
      return static_cast<double>(v);
  }
};

namespace rules {
/// A value a rule may keep in a local: anything but a dynamic-size Eigen
/// expression (numbers, duals, packets, fixed-size arrays, tensors, probes).
template <class X>
concept HeldValue = !requires { requires std::remove_cvref_t<X>::SizeAtCompileTime == Eigen::Dynamic; };
/// x itself, or a fixed-size Eigen expression evaluated.
template <class X>
constexpr auto held(const X& x) {
  if constexpr (requires { x.eval(); }) return x.eval(); else return x;
}
}  // namespace rules

namespace math {
/// exp, log, log2, log10, sin, cos, tan, atan, tanh, sigmoid, expm1, log1p,
/// sinh, cosh, softplus, erf, asinh, acosh, atanh, asin and acos of a float
/// or double Eigen array: the vectorised kernels of detail/vmath.hpp,
/// vmath_erf.hpp, vmath_inverse_hyperbolic.hpp and vmath_inverse_trig.hpp
/// (Eigen's own computes most of them one element at a time). More
/// constrained than Eigen's global functions, so overload resolution picks
/// these.
#define METAGRAD_VMATH_ARRAY(NAME)                                        \
  template <class D>                                                      \
    requires vmath::Vectorised<typename D::Scalar>                        \
  auto NAME(const Eigen::ArrayBase<D>& x) {                               \
    return x.derived().unaryExpr(vmath::NAME##_op<typename D::Scalar>{}); \
  }
METAGRAD_VMATH_ARRAY(exp)
METAGRAD_VMATH_ARRAY(log)
METAGRAD_VMATH_ARRAY(sin)
METAGRAD_VMATH_ARRAY(cos)
METAGRAD_VMATH_ARRAY(tanh)
METAGRAD_VMATH_ARRAY(sigmoid)
METAGRAD_VMATH_ARRAY(expm1)
METAGRAD_VMATH_ARRAY(log1p)
METAGRAD_VMATH_ARRAY(sinh)
METAGRAD_VMATH_ARRAY(cosh)
METAGRAD_VMATH_ARRAY(tan)
METAGRAD_VMATH_ARRAY(atan)
METAGRAD_VMATH_ARRAY(log2)
METAGRAD_VMATH_ARRAY(log10)
METAGRAD_VMATH_ARRAY(erf)
METAGRAD_VMATH_ARRAY(asinh)
METAGRAD_VMATH_ARRAY(acosh)
METAGRAD_VMATH_ARRAY(atanh)
METAGRAD_VMATH_ARRAY(asin)
METAGRAD_VMATH_ARRAY(acos)
#undef METAGRAD_VMATH_ARRAY
// Eigen array overloads of the functions Eigen does not have itself.
/// sigmoid of an array of other scalars (duals): element by element.
template <class D>
  requires(!vmath::Vectorised<typename D::Scalar>)
auto sigmoid(const Eigen::ArrayBase<D>& x) {
  return x.derived().unaryExpr([](const auto& v) { return sigmoid(v); });
}
template <class D>
auto relu(const Eigen::ArrayBase<D>& x) {
  using S = typename D::Scalar;
  const auto& v = x.derived();  // (-0 and NaN kept, as torch.relu)
  if constexpr (std::is_floating_point_v<S>) return detail::vselect<S>(v < S(0), S(0), v);
  else return (v < S(0)).select(S(0), v);
}
/// sign of a float or double array as torch.sign: 0 at a NaN (Eigen's keeps
/// the NaN; abs's derivative g * sign(x) is then 0 there, as PyTorch's).
template <class D>
  requires std::is_floating_point_v<typename D::Scalar>
auto sign(const Eigen::ArrayBase<D>& x) {
  using S = typename D::Scalar;
  const auto& v = x.derived();
  return detail::vselect<S>(v > S(0), S(1), detail::vselect<S>(v < S(0), S(-1), S(0)));
}
/// 2^x and round-half-to-even (torch.round) on Eigen arrays.
template <class D>
auto exp2(const Eigen::ArrayBase<D>& x) {
  using S = typename D::Scalar;
  return exp(x.derived() * S(ce::kLn2));
}
/// f(a, b) elementwise where a and/or b is an Eigen array (the other may be
/// a scalar), for binary functions Eigen has no array form of.
template <class F, class A, class B>
auto array_binary(F f, const A& a, const B& b) {
  if constexpr (std::is_arithmetic_v<A>) return b.derived().unaryExpr([f, a](auto v) { return f(decltype(v)(a), v); });
  else if constexpr (std::is_arithmetic_v<B>) return a.derived().unaryExpr([f, b](auto v) { return f(v, decltype(v)(b)); });
  else return a.derived().binaryExpr(b.derived(), f);
}
template <class A, class B>
concept ArrayOperands = (std::is_base_of_v<Eigen::ArrayBase<A>, A> && (std::is_base_of_v<Eigen::ArrayBase<B>, B> || std::is_arithmetic_v<B>)) ||
                        (std::is_arithmetic_v<A> && std::is_base_of_v<Eigen::ArrayBase<B>, B>);
/// Operands for a vmath functor of two operands: float or double arrays of
/// one scalar type, or such an array and a number.
template <class A, class B>
constexpr bool vmath_operands() {
  constexpr bool array_a = std::is_base_of_v<Eigen::ArrayBase<A>, A>, array_b = std::is_base_of_v<Eigen::ArrayBase<B>, B>;
  if constexpr (array_a && array_b) return std::is_same_v<typename A::Scalar, typename B::Scalar> && vmath::Vectorised<typename A::Scalar>;
  else if constexpr (array_a) return std::is_arithmetic_v<B> && vmath::Vectorised<typename A::Scalar>;
  else if constexpr (array_b) return std::is_arithmetic_v<A> && vmath::Vectorised<typename B::Scalar>;
  else return false;
}
/// Op<S>(a, b) elementwise by Eigen's binaryExpr (packets: detail/vmath*.hpp),
/// a number operand as a constant array.
template <template <class> class Op, class A, class B>
auto vmath_binary(const A& a, const B& b) {
  if constexpr (std::is_arithmetic_v<A>) {
    using S = typename B::Scalar;
    return B::PlainObject::Constant(b.rows(), b.cols(), static_cast<S>(a)).binaryExpr(b.derived(), Op<S>{});
  } else if constexpr (std::is_arithmetic_v<B>) {
    using S = typename A::Scalar;
    return a.derived().binaryExpr(A::PlainObject::Constant(a.rows(), a.cols(), static_cast<S>(b)), Op<S>{});
  } else {
    return a.derived().binaryExpr(b.derived(), Op<typename A::Scalar>{});
  }
}
/// atan2 and hypot of float or double arrays: detail/vmath_atan2_hypot.hpp's
/// kernels (within 1 ulp of <cmath>, which Eigen 3.4 would call one element
/// at a time); of other scalars, <cmath> element by element.
template <class A, class B> requires ArrayOperands<A, B>
auto atan2(const A& a, const B& b) {
  if constexpr (vmath_operands<A, B>()) return vmath_binary<vmath::atan2_op>(a, b);
  else return array_binary([](auto p, auto q) { return std::atan2(p, q); }, a, b);
}
template <class A, class B> requires ArrayOperands<A, B>
auto hypot(const A& a, const B& b) {
  if constexpr (vmath_operands<A, B>()) return vmath_binary<vmath::hypot_op>(a, b);
  else return array_binary([](auto p, auto q) { return std::hypot(p, q); }, a, b);
}
template <class A, class B> requires ArrayOperands<A, B>
auto minimum(const A& a, const B& b) {
  return array_binary([](auto p, auto q) { return math::minimum(p, q); }, a, b);
}
template <class A, class B> requires ArrayOperands<A, B>
auto maximum(const A& a, const B& b) {
  return array_binary([](auto p, auto q) { return math::maximum(p, q); }, a, b);
}
/// psi^(N) on Eigen arrays (the scalar code, lane by lane: Eigen's own
/// polygamma takes an array of orders).
template <int N, class D>
auto polygamma_n(const Eigen::ArrayBase<D>& x) {
  return x.derived().unaryExpr([](auto v) { return polygamma_n<N>(v); });
}
/// softplus of a float or double array: the vectorised kernel (as a select
/// around exp and log1p, Eigen 3.4 ran it one element at a time, and each
/// element through a whole packet kernel twice: 4x libtorch's time at 1M).
template <class D>
  requires vmath::Vectorised<typename D::Scalar>
auto softplus(const Eigen::ArrayBase<D>& x) {
  return x.derived().unaryExpr(vmath::softplus_op<typename D::Scalar>{});
}
template <class D>
  requires(!vmath::Vectorised<typename D::Scalar>)
auto softplus(const Eigen::ArrayBase<D>& x) {
  using S = typename D::Scalar;
  const auto& v = x.derived();
  return (v > S(20)).select(v, v.max(S(0)) + log1p(exp(-v.abs())));
}
/// x^y for an Eigen array and a scalar y: small integer and half powers by
/// multiplication/sqrt (Eigen's vectorised generic pow is ~40x slower), any
/// other exponent of a float or double array by the vector kernel
/// (detail/vmath_pow.hpp: 3.0 ns an element against <cmath>'s 9.9 and Eigen
/// 3.4's packet pow's 17, bench/vmath_eval, AVX-512), of other scalars by
/// <cmath>'s pow.
template <class D, class E>
  requires std::is_arithmetic_v<E>
auto array_pow(const Eigen::ArrayBase<D>& x, E y) {
  using S = typename D::Scalar;
  using A = Eigen::Array<S, D::RowsAtCompileTime, D::ColsAtCompileTime>;
  const S e = static_cast<S>(y);
  if constexpr (Integer<S>) return A(x.derived().unaryExpr([e](const S& a) { return math::pow(a, e); }));
  if (e == S(2)) return A(x.derived().square());
  if (e == S(1)) return A(x.derived());
  if (e == S(3)) return A(x.derived().cube());
  if (e == S(0)) return A(A::Ones(x.rows(), x.cols()));
  if (e == S(-1)) return A(x.derived().inverse());
  if (e == S(-2)) return A(x.derived().square().inverse());
  if (e == S(0.5)) return A(x.derived().sqrt());
  if (e == S(-0.5)) return A(x.derived().sqrt().inverse());
  if constexpr (vmath::Vectorised<S>) return A(vmath_binary<vmath::pow_op>(x, e));
  return A(x.derived().unaryExpr([e](const S& a) -> S {
    using std::pow;
    return pow(a, e);
  }));
}
}  // namespace math

namespace rules {
using namespace ::metagrad::math;

/// pow for every value family (Eigen arrays with a scalar exponent take the
/// fast path above; others find their pow by argument-dependent lookup).
template <class X>
constexpr bool integer_array() {
  if constexpr (std::is_base_of_v<Eigen::ArrayBase<X>, X>) return Integer<typename X::Scalar>;
  else return false;
}
template <class A, class B>
constexpr auto pow_fn(const A& a, const B& b) {
  if constexpr (std::is_base_of_v<Eigen::ArrayBase<A>, A> && std::is_arithmetic_v<B>) {
    return math::array_pow(a, b);
  } else if constexpr (integer_array<A>() && integer_array<B>()) {  // (integer tensors: exact)
    return a.binaryExpr(b, [](auto x, auto n) { return math::pow(x, n); }).eval();
  } else if constexpr (Integer<A> && Integer<B>) {
    return math::pow(a, b);
  } else if constexpr (std::is_arithmetic_v<A> && integer_array<B>()) {
    return b.unaryExpr([a](auto n) { return math::pow(static_cast<typename B::Scalar>(a), n); }).eval();
  } else if constexpr (math::vmath_operands<A, B>()) {  // (float or double arrays: the vector kernel)
    return math::vmath_binary<vmath::pow_op>(a, b);  // (lazy, as Eigen's pow: a vjp nests it in its expression)
  } else {
    return pow(a, b);
  }
}

template <int N, class V>
constexpr auto K(const V&) {
  return constant_family<std::remove_cvref_t<V>>::template make<N>();
}
/// The real constant c in v's value family.
template <class V>
constexpr auto Kr(double c, const V&) {
  return constant_family<std::remove_cvref_t<V>>::real(c);
}

/// Where a row is smooth and finite: the inputs gradcheck sweeps, the random
/// graphs, the fuzzer and the random static expressions draw for it (they
/// map any value into the row's domain). `piecewise`: constant or linear
/// pieces (floor, abs, ...), sampled inside one piece.
enum class Domain { real, positive, unit, above_one, piecewise };

/// Declares rule struct NAME: PyTorch's node name, the forward function, the
/// domain it is sampled on, and the vector-Jacobian product (which of x and y
/// it reads is found by probing it: rules/probe.hpp).
#define METAGRAD_UNARY_RULE(NAME, NODE, FWD, DOMAIN, VJP)                         \
  struct NAME {                                                                  \
    static constexpr const char* node_name = NODE;                               \
    static constexpr const char* symbol = #FWD;                                  \
    static constexpr Domain domain = Domain::DOMAIN;                             \
    template <class X>                                                           \
    static constexpr auto f(const X& x) { return FWD(x); }                       \
    template <class X, class Y, class G>                                         \
    static constexpr auto vjp([[maybe_unused]] const X& x,                       \
                              [[maybe_unused]] const Y& y, const G& g) {         \
      return VJP;                                                                \
    }                                                                            \
  };

template <class X> constexpr auto neg_fn(const X& x) { return -x; }
template <class X> constexpr auto reciprocal_fn(const X& x) { return K<1>(x) / x; }
/// torch.round rounds half to even: Eigen's rint, not its round.
template <class X> constexpr auto round_fn(const X& x) {
  if constexpr (std::is_base_of_v<Eigen::ArrayBase<X>, X>) return x.rint();
  else return round(x);
}

//                  rule        PyTorch node           forward        domain     d/dx as a VJP (x input, y output, g gradient)
METAGRAD_UNARY_RULE(Neg,        "NegBackward0",        neg_fn,        real,      -g)
METAGRAD_UNARY_RULE(Exp,        "ExpBackward0",        exp,           real,      g * y)
METAGRAD_UNARY_RULE(Log,        "LogBackward0",        log,           positive,  g / x)
METAGRAD_UNARY_RULE(Sin,        "SinBackward0",        sin,           real,      g * cos(x))
METAGRAD_UNARY_RULE(Cos,        "CosBackward0",        cos,           real,      -(g * sin(x)))
METAGRAD_UNARY_RULE(Tan,        "TanBackward0",        tan,           unit,      g * (K<1>(y) + y * y))
METAGRAD_UNARY_RULE(Tanh,       "TanhBackward0",       tanh,          real,      g * (K<1>(y) - y * y))
METAGRAD_UNARY_RULE(Sigmoid,    "SigmoidBackward0",    sigmoid,       real,      g * (y * (K<1>(y) - y)))
METAGRAD_UNARY_RULE(Sqrt,       "SqrtBackward0",       sqrt,          positive,  g / (K<2>(y) * y))
METAGRAD_UNARY_RULE(Abs,        "AbsBackward0",        abs,           piecewise, g * sign(x))
METAGRAD_UNARY_RULE(Sign,       "SignBackward0",       sign,          piecewise, g * K<0>(g))
METAGRAD_UNARY_RULE(Reciprocal, "ReciprocalBackward0", reciprocal_fn, positive,  -(g * (y * y)))
METAGRAD_UNARY_RULE(Log1p,      "Log1PBackward0",      log1p,         positive,  g / (K<1>(x) + x))
METAGRAD_UNARY_RULE(Expm1,      "Expm1Backward0",      expm1,         real,      g * (y + K<1>(y)))
METAGRAD_UNARY_RULE(Atan,       "AtanBackward0",       atan,          real,      g / (K<1>(x) + x * x))
METAGRAD_UNARY_RULE(Asin,       "AsinBackward0",       asin,          unit,      g * rsqrt(K<1>(x) - x * x))
METAGRAD_UNARY_RULE(Acos,       "AcosBackward0",       acos,          unit,      -(g * rsqrt(K<1>(x) - x * x)))
METAGRAD_UNARY_RULE(Sinh,       "SinhBackward0",       sinh,          real,      g * cosh(x))
METAGRAD_UNARY_RULE(Cosh,       "CoshBackward0",       cosh,          real,      g * sinh(x))
METAGRAD_UNARY_RULE(Asinh,      "AsinhBackward0",      asinh,         real,      g * rsqrt(x * x + K<1>(x)))
METAGRAD_UNARY_RULE(Acosh,      "AcoshBackward0",      acosh,         above_one, g * rsqrt(x * x - K<1>(x)))
METAGRAD_UNARY_RULE(Atanh,      "AtanhBackward0",      atanh,         unit,      g / (K<1>(x) - x * x))
METAGRAD_UNARY_RULE(Erf,        "ErfBackward0",        erf,           real,      g * (Kr(ce::kTwoOverSqrtPi, x) * exp(-(x * x))))
METAGRAD_UNARY_RULE(Erfc,       "ErfcBackward0",       erfc,          real,      -(g * (Kr(ce::kTwoOverSqrtPi, x) * exp(-(x * x)))))
METAGRAD_UNARY_RULE(Square,     "PowBackward0",        square,        real,      g * (K<2>(x) * x))
METAGRAD_UNARY_RULE(Rsqrt,      "RsqrtBackward0",      rsqrt,         positive,  -(g * (y * y * y)) / K<2>(y))
METAGRAD_UNARY_RULE(Exp2,       "Exp2Backward0",       exp2,          real,      g * (y * Kr(ce::kLn2, y)))
METAGRAD_UNARY_RULE(Log2,       "Log2Backward0",       log2,          positive,  g / (x * Kr(ce::kLn2, x)))
METAGRAD_UNARY_RULE(Log10,      "Log10Backward0",      log10,         positive,  g / (x * Kr(ce::kLn10, x)))
METAGRAD_UNARY_RULE(Floor,      "FloorBackward0",      floor,         piecewise, g * K<0>(g))
METAGRAD_UNARY_RULE(Ceil,       "CeilBackward0",       ceil,          piecewise, g * K<0>(g))
METAGRAD_UNARY_RULE(Round,      "RoundBackward0",      round_fn,      piecewise, g * K<0>(g))
METAGRAD_UNARY_RULE(Softplus,   "SoftplusBackward0",   softplus,      real,      g * sigmoid(x))
METAGRAD_UNARY_RULE(Lgamma,     "LgammaBackward0",     lgamma,        positive,  g * digamma(x))
METAGRAD_UNARY_RULE(Digamma,    "DigammaBackward0",    digamma,       positive,  g * polygamma_n<1>(x))

/// psi^(N), N >= 1 (digamma's derivatives: polygamma(N, x) in PyTorch). A
/// family of rows, one per order, each differentiating into the next, so
/// lgamma and digamma have derivatives of every order.
template <int N>
struct Polygamma {
  static_assert(N >= 1, "Polygamma<N> is the N-th derivative of digamma, N >= 1");
  static constexpr const char* node_name = "PolygammaBackward0";
  static constexpr const char* symbol = N == 1 ? "polygamma1" : N == 2 ? "polygamma2" : N == 3 ? "polygamma3" : "polygamma";
  template <class X>
  static constexpr auto f(const X& x) { return polygamma_n<N>(x); }
  template <class X, class Y, class G>
  static constexpr auto vjp(const X& x, const Y&, const G& g) { return g * polygamma_n<N + 1>(x); }
};

/// The ops whose every derivative is again built from ops of this table (so
/// gradgradcheck and the symbolic `d` can go to any order through them).
#define METAGRAD_FOR_EACH_UNARY(M) \
  M(Neg, neg) M(Exp, exp) M(Log, log) M(Sin, sin) M(Cos, cos) M(Tan, tan) M(Tanh, tanh) \
  M(Sigmoid, sigmoid) M(Sqrt, sqrt) M(Abs, abs) M(Relu, relu) M(Reciprocal, reciprocal) M(Sign, sign) \
  M(Log1p, log1p) M(Expm1, expm1) M(Atan, atan) M(Asin, asin) M(Acos, acos) M(Sinh, sinh) M(Cosh, cosh) \
  M(Asinh, asinh) M(Acosh, acosh) M(Atanh, atanh) M(Erf, erf) M(Erfc, erfc) M(Square, square) M(Rsqrt, rsqrt) \
  M(Exp2, exp2) M(Log2, log2) M(Log10, log10) M(Floor, floor) M(Ceil, ceil) M(Round, round) \
  M(Softplus, softplus) M(Lgamma, lgamma) M(Digamma, digamma)

// Binary elementwise rules: vjp_a / vjp_b are the products with the
// gradient of the output (which of a, b, y each reads is found by probing,
// so the dynamic node saves only what the gradients required will use).
// `passes_a` / `passes_b`: that side's VJP is g itself (nodes then hand the
// gradient on without computing anything).
template <class R> constexpr bool passes_a() { if constexpr (requires { R::passes_a; }) return R::passes_a; else return false; }
template <class R> constexpr bool passes_b() { if constexpr (requires { R::passes_b; }) return R::passes_b; else return false; }
struct Add {
  static constexpr const char* node_name = "AddBackward0";
  static constexpr const char* symbol = "+";
  static constexpr bool passes_a = true, passes_b = true;
  template <class A, class B> static constexpr auto f(const A& a, const B& b) { return a + b; }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_a(const A&, const B&, const Y&, const G& g) { return g; }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_b(const A&, const B&, const Y&, const G& g) { return g; }
};
struct Sub {
  static constexpr const char* node_name = "SubBackward0";
  static constexpr const char* symbol = "-";
  static constexpr bool passes_a = true;
  template <class A, class B> static constexpr auto f(const A& a, const B& b) { return a - b; }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_a(const A&, const B&, const Y&, const G& g) { return g; }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_b(const A&, const B&, const Y&, const G& g) { return -g; }
};
struct Mul {
  static constexpr const char* node_name = "MulBackward0";
  static constexpr const char* symbol = "*";
  template <class A, class B> static constexpr auto f(const A& a, const B& b) { return a * b; }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_a(const A&, const B& b, const Y&, const G& g) { return g * b; }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_b(const A& a, const B&, const Y&, const G& g) { return g * a; }
};
struct Div {
  static constexpr const char* node_name = "DivBackward0";
  static constexpr const char* symbol = "/";
  template <class A, class B> static constexpr auto f(const A& a, const B& b) { return a / b; }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_a(const A&, const B& b, const Y&, const G& g) { return g / b; }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_b(const A& a, const B& b, const Y&, const G& g) {
    return -(g * a) / (b * b);
  }
  /// Both sides at once (the static sweep, when a and b both lead to a
  /// variable): d/da = g / b, d/db = -(g / b) y with y = a / b — one division
  /// where vjp_a and vjp_b take two. Not for dynamic-size Eigen values, which
  /// would be evaluated into temporaries.
  template <class A, class B, class Y, class G>
    requires(HeldValue<B> && HeldValue<Y> && HeldValue<G>)
  static constexpr auto vjp_ab(const A&, const B& b, const Y& y, const G& g) {
    const auto da = held(g / b);
    return std::pair{da, held(-(da * y))};
  }
};
/// atan2(a, b): d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2).
struct Atan2 {
  static constexpr Domain domain_a = Domain::real, domain_b = Domain::positive;
  static constexpr const char* node_name = "Atan2Backward0";
  static constexpr const char* symbol = "atan2";
  template <class A, class B> static constexpr auto f(const A& a, const B& b) { return atan2(a, b); }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_a(const A& a, const B& b, const Y&, const G& g) { return g * b / (a * a + b * b); }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_b(const A& a, const B& b, const Y&, const G& g) { return -(g * a) / (a * a + b * b); }
};
/// hypot(a, b) = sqrt(a^2 + b^2): d/da = a / y, d/db = b / y (NaN at the
/// origin, as in PyTorch; its sampled domain keeps a away from 0 so that the
/// tests never land there).
struct Hypot {
  static constexpr Domain domain_a = Domain::positive, domain_b = Domain::real;
  static constexpr const char* node_name = "HypotBackward0";
  static constexpr const char* symbol = "hypot";
  template <class A, class B> static constexpr auto f(const A& a, const B& b) { return hypot(a, b); }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_a(const A& a, const B&, const Y& y, const G& g) { return g * a / y; }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_b(const A&, const B& b, const Y& y, const G& g) { return g * b / y; }
};
// (minimum and maximum, whose derivatives need the conditions of select.hpp,
// are rules/extrema.hpp; a file that expands the list below includes it.)
/// The binary rows (above, and extrema.hpp's), one entry each. The list generates the static
/// function (`mg::atan2(e1, e2)`), the Tensor free function and member
/// (`mg::atan2(a, b)`, `a.atan2(b)`), the dual-number overload, and the op
/// lists the tests, the random graphs, the fuzzer and the random static
/// expressions draw from (each operand sampled on the rule's domain_a /
/// domain_b: atan2's b is kept positive, away from the branch cut).
#define METAGRAD_FOR_EACH_BINARY(M) M(Atan2, atan2) M(Hypot, hypot) M(Minimum, minimum) M(Maximum, maximum)

// (a^b, whose derivatives need the conditions of select.hpp, is rules/pow.hpp.)

}  // namespace rules
}  // namespace metagrad
