// metagrad/static/ops.hpp — building static expressions. Every constructor
// simplifies at compile time, so derivatives come out simplified for free:
// integral constants fold, 0*e -> 0, 1*e -> e, e+0 -> e, e-e -> 0,
// e+e -> 2*e, e/e -> 1, --e -> e, pow(e,1) -> e, pow(e,0) -> 1, and
// constants gather to the left (a_c * (b_c * e) -> (a*b)_c * e).
#pragma once
#include <tuple>

#include "expr.hpp"

namespace metagrad {
namespace simplify {

template <class A, long long N> inline constexpr bool is_c = std::is_same_v<A, IntC<N>>;

template <class A> constexpr auto lift(const A& a) {
  if constexpr (StaticExpr<A>) return a;
  else return Const(static_cast<double>(a));
}

template <class A> struct is_neg : std::false_type {};
template <class E> struct is_neg<Unary<rules::Neg, E>> : std::true_type {};

template <class A, class B>
constexpr bool divisible() {
  if constexpr (is_intc<A>::value && is_intc<B>::value) return B::value != 0 && A::value % B::value == 0;
  else return false;
}
template <class A, class B>
constexpr bool foldable_pow() {
  if constexpr (is_intc<A>::value && is_intc<B>::value) return B::value > 0 && B::value < 16;
  else return false;
}

constexpr long long ipow_ll(long long a, long long b) {
  long long r = 1;
  while (b-- > 0) r *= a;
  return r;
}

template <class A>
constexpr auto neg(const A& a) {
  if constexpr (is_intc<A>::value) return IntC<-A::value>{};
  else if constexpr (is_neg<A>::value) return a.a;
  else return Unary<rules::Neg, A>(a);
}

template <class A, class B>
constexpr auto mul(const A& a, const B& b);

template <class A, class B>
constexpr auto sub(const A& a, const B& b);

template <class A, class B>
constexpr auto add(const A& a, const B& b) {
  if constexpr (is_intc<A>::value && is_intc<B>::value) return IntC<A::value + B::value>{};
  else if constexpr (is_c<A, 0>) return b;
  else if constexpr (is_c<B, 0>) return a;
  else if constexpr (is_neg<B>::value) return sub(a, b.a);  // a + (-b) -> a - b
  else if constexpr (std::is_same_v<A, B> && is_pure<A>::value) return mul(IntC<2>{}, a);
  else return Binary<rules::Add, A, B>(a, b);
}

template <class A, class B>
constexpr auto sub(const A& a, const B& b) {
  if constexpr (is_intc<A>::value && is_intc<B>::value) return IntC<A::value - B::value>{};
  else if constexpr (is_c<B, 0>) return a;
  else if constexpr (is_c<A, 0>) return neg(b);
  else if constexpr (is_neg<B>::value) return add(a, b.a);  // a - (-b) -> a + b
  else if constexpr (std::is_same_v<A, B> && is_pure<A>::value) return IntC<0>{};
  else return Binary<rules::Sub, A, B>(a, b);
}

template <class E> struct scaled : std::false_type {};  // IntC<M> * e
template <long long M, class E> struct scaled<Binary<rules::Mul, IntC<M>, E>> : std::true_type {};

template <class A, class B>
constexpr auto mul(const A& a, const B& b) {
  if constexpr (is_intc<A>::value && is_intc<B>::value) return IntC<A::value * B::value>{};
  else if constexpr (is_c<A, 0> || is_c<B, 0>) return IntC<0>{};
  else if constexpr (is_c<A, 1>) return b;
  else if constexpr (is_c<B, 1>) return a;
  else if constexpr (is_intc<B>::value) return mul(b, a);
  else if constexpr (is_neg<A>::value) return neg(mul(a.a, b));  // (-a) b -> -(a b)
  else if constexpr (is_neg<B>::value) return neg(mul(a, b.a));
  else if constexpr (is_intc<A>::value && scaled<B>::value) return mul(IntC<A::value * decltype(b.a)::value>{}, b.b);
  else return Binary<rules::Mul, A, B>(a, b);
}

template <class A, class B>
constexpr auto div(const A& a, const B& b) {
  if constexpr (divisible<A, B>())
    return IntC<A::value / B::value>{};
  else if constexpr (is_c<A, 0>) return IntC<0>{};
  else if constexpr (is_c<B, 1>) return a;
  else if constexpr (std::is_same_v<A, B> && is_pure<A>::value) return IntC<1>{};
  else return Binary<rules::Div, A, B>(a, b);
}

template <class A, class B>
constexpr auto pow(const A& a, const B& b) {
  if constexpr (is_c<B, 0>) return IntC<1>{};
  else if constexpr (is_c<B, 1>) return a;
  else if constexpr (foldable_pow<A, B>())
    return IntC<ipow_ll(A::value, B::value)>{};
  else return Binary<rules::Pow, A, B>(a, b);
}

/// The node of binary rule R on a and b (numbers lifted to constants), unsimplified.
template <class R, class A, class B>
constexpr auto lifted_binary(const A& a, const B& b) {
  return Binary<R, decltype(lift(a)), decltype(lift(b))>(lift(a), lift(b));
}

}  // namespace simplify

template <class A, class B>
concept StaticOperands = (StaticExpr<A> && (StaticExpr<B> || std::is_arithmetic_v<B>)) ||
                         (std::is_arithmetic_v<A> && StaticExpr<B>);

template <class A, class B> requires StaticOperands<A, B>
constexpr auto operator+(const A& a, const B& b) { return simplify::add(simplify::lift(a), simplify::lift(b)); }
template <class A, class B> requires StaticOperands<A, B>
constexpr auto operator-(const A& a, const B& b) { return simplify::sub(simplify::lift(a), simplify::lift(b)); }
template <class A, class B> requires StaticOperands<A, B>
constexpr auto operator*(const A& a, const B& b) { return simplify::mul(simplify::lift(a), simplify::lift(b)); }
template <class A, class B> requires StaticOperands<A, B>
constexpr auto operator/(const A& a, const B& b) { return simplify::div(simplify::lift(a), simplify::lift(b)); }
template <StaticExpr A>
constexpr auto operator-(const A& a) { return simplify::neg(a); }
/// pow(e, N_c) (compile-time integer exponent), pow(e, e2), pow(e, double).
template <class A, class B> requires StaticOperands<A, B>
constexpr auto pow(const A& a, const B& b) { return simplify::pow(simplify::lift(a), simplify::lift(b)); }

/// The binary rows of the table (METAGRAD_FOR_EACH_BINARY: atan2, hypot,
/// minimum, maximum), with numbers on either side.
#define METAGRAD_STATIC_BINARY(Rule, fn)                                                                            \
  template <class A, class B> requires StaticOperands<A, B>                                                         \
  constexpr auto fn(const A& a, const B& b) {                                                                       \
    return simplify::lifted_binary<rules::Rule>(a, b);                                                              \
  }
METAGRAD_FOR_EACH_BINARY(METAGRAD_STATIC_BINARY)
#undef METAGRAD_STATIC_BINARY

/// Comparisons: a condition (a bool, or an array of bools, when evaluated),
/// through which no gradient flows; `where`, `clamp` and masks read them.
#define METAGRAD_STATIC_COMPARISON(OP, Rule)                                                        \
  template <class A, class B> requires StaticOperands<A, B>                                         \
  constexpr auto operator OP(const A& a, const B& b) {                                              \
    return simplify::lifted_binary<rules::Rule>(a, b);                                              \
  }
METAGRAD_STATIC_COMPARISON(<, Less)
METAGRAD_STATIC_COMPARISON(<=, LessEqual)
METAGRAD_STATIC_COMPARISON(>, Greater)
METAGRAD_STATIC_COMPARISON(>=, GreaterEqual)
METAGRAD_STATIC_COMPARISON(==, Equal)
METAGRAD_STATIC_COMPARISON(!=, NotEqual)
#undef METAGRAD_STATIC_COMPARISON

template <class T> struct is_condition : std::false_type {};
template <class R, class A, class B> struct is_condition<Binary<R, A, B>> : std::bool_constant<!rules::differentiable<R>> {};
template <class C, class A>
concept ConditionAndOperand = is_condition<C>::value && (StaticExpr<A> || std::is_arithmetic_v<A>);

/// a where c holds, else 0 (d/da: g where c holds).
template <class C, class A> requires ConditionAndOperand<C, A>
constexpr auto keep_where(const C& c, const A& a) {
  using LA = decltype(simplify::lift(a));
  if constexpr (simplify::is_c<LA, 0>) return IntC<0>{};
  else return Binary<rules::KeepWhere, C, LA>(c, simplify::lift(a));
}
/// b where c does not hold, else 0 (d/db: g where c does not hold).
template <class C, class B> requires ConditionAndOperand<C, B>
constexpr auto keep_where_not(const C& c, const B& b) {
  using LB = decltype(simplify::lift(b));
  if constexpr (simplify::is_c<LB, 0>) return IntC<0>{};
  else return Binary<rules::KeepWhereNot, C, LB>(c, simplify::lift(b));
}
/// `mg::where(c, a, b)`: a where condition c holds, b elsewhere (torch.where;
/// a NaN or inf in the branch not taken does not reach the value or the
/// gradient). d/da = g where c holds, d/db = g elsewhere, nothing into c.
template <class C, class A, class B> requires ConditionAndOperand<C, A> && ConditionAndOperand<C, B>
constexpr auto where(const C& c, const A& a, const B& b) {
  return simplify::add(keep_where(c, a), keep_where_not(c, b));
}
/// `mg::masked_fill(e, mask, v)`: v where the condition holds, e elsewhere
/// (Tensor.masked_fill; built as where(mask, v, e) and printed so).
/// d/de = g where the mask does not hold (MaskedFillBackward0), d/dv = g where
/// it holds, nothing into the mask.
template <class A, class C, class V> requires ConditionAndOperand<C, A> && ConditionAndOperand<C, V>
constexpr auto masked_fill(const A& e, const C& mask, const V& v) { return where(mask, v, e); }
/// `mg::clamp(e, lo, hi)`: e limited to [lo, hi], NaN kept (torch.clamp);
/// d/de = g where lo <= e <= hi, 0 elsewhere (ClampBackward1); bounds that
/// are expressions get the gradient where they bind. clamp_min / clamp_max
/// are the one-sided halves.
template <class A, class L> requires StaticOperands<A, L>
constexpr auto clamp_min(const A& a, const L& lo) { return simplify::lifted_binary<rules::ClampMin>(a, lo); }
template <class A, class H> requires StaticOperands<A, H>
constexpr auto clamp_max(const A& a, const H& hi) { return simplify::lifted_binary<rules::ClampMax>(a, hi); }
template <StaticExpr A, class L, class H>
  requires(StaticExpr<L> || std::is_arithmetic_v<L>) && (StaticExpr<H> || std::is_arithmetic_v<H>)
constexpr auto clamp(const A& a, const L& lo, const H& hi) { return clamp_max(clamp_min(a, lo), hi); }

/// Linear algebra on Eigen matrices (rules/linalg.hpp): A^-1, det(A),
/// log det(A), and X with A X = B (`mg::linalg::solve`).
template <StaticExpr A> constexpr auto inverse(const A& a) { return Unary<rules::Inverse, A>(a); }
template <StaticExpr A> constexpr auto det(const A& a) { return Unary<rules::Det, A>(a); }
template <StaticExpr A> constexpr auto logdet(const A& a) { return Unary<rules::LogDet, A>(a); }
namespace linalg {
template <StaticExpr A, StaticExpr B> constexpr auto solve(const A& a, const B& b) { return Binary<rules::Solve, A, B>(a, b); }
template <StaticExpr A> constexpr auto inv(const A& a) { return Unary<rules::Inverse, A>(a); }
template <StaticExpr A> constexpr auto det(const A& a) { return Unary<rules::Det, A>(a); }
/// The Cholesky factor L (A = L L^T) of a symmetric positive-definite matrix.
template <StaticExpr A> constexpr auto cholesky(const A& a) { return Unary<rules::Cholesky, A>(a); }
/// (sign det A, log |det A|) as two expressions (`auto [sign, logabsdet] =
/// mg::linalg::slogdet(A)`), no overflow of det itself; d log|det A| = g A^-T,
/// none through the sign.
template <StaticExpr A> constexpr auto slogdet(const A& a) {
  return std::tuple{Unary<rules::SlogdetSign, A>(a), Unary<rules::SlogdetLogAbs, A>(a)};
}
}  // namespace linalg

namespace nn::functional {
/// The losses (mean reduction; rules/losses.hpp): mean((a - b)^2) with
/// da = 2 (a - b) g / n; mean((1 - y) z - log sigmoid(z)) with
/// dz = (sigmoid(z) - y) g / n, dy = -z g / n (exact at z = 0, where a
/// composition through max and |z| would not be); and l1_loss = mean(|a - b|),
/// composed as in PyTorch (da = sign(a - b) g / n).
template <class A, class B> requires StaticOperands<A, B>
constexpr auto mse_loss(const A& a, const B& b) { return simplify::lifted_binary<rules::MseLoss>(a, b); }
template <class A, class B> requires StaticOperands<A, B>
constexpr auto binary_cross_entropy_with_logits(const A& z, const B& y) { return simplify::lifted_binary<rules::BceWithLogits>(z, y); }
template <class A, class B> requires StaticOperands<A, B>
constexpr auto l1_loss(const A& a, const B& b) { return mean(abs(a - b)); }
}  // namespace nn::functional

/// Parts of a vector expression (n, i, start: run-time integers); their
/// gradients scatter-add into the vector. `x[i]` is element i.
template <StaticExpr A>
constexpr auto index_expr(const A& a, std::int64_t i) { return Binary<rules::Index, A, Const>(a, Const(static_cast<double>(i))); }
template <StaticExpr A>
constexpr auto head(const A& a, std::int64_t n) { return Binary<rules::Head, A, Const>(a, Const(static_cast<double>(n))); }
template <StaticExpr A>
constexpr auto tail(const A& a, std::int64_t n) { return Binary<rules::Tail, A, Const>(a, Const(static_cast<double>(n))); }
/// Elements [start, start + n).
template <StaticExpr A>
constexpr auto segment(const A& a, std::int64_t start, std::int64_t n) {
  return head(Binary<rules::Skip, A, Const>(a, Const(static_cast<double>(start))), n);
}

/// `mg::scan(body, carry, init, elem, xs)`, like jax.lax.scan: the vector
/// [c_1 ... c_n], c_0 = init (a number or a scalar expression), c_t =
/// body(carry = c_(t-1), elem = xs[t-1]). Forward and reverse are loops.
template <StaticExpr Body, detail::fixed_string C, class I, detail::fixed_string El, StaticExpr X>
  requires(StaticExpr<I> || std::is_arithmetic_v<I>)
constexpr auto scan(const Body& body, const Var<C>&, const I& init, const Var<El>&, const X& xs) {
  static_assert(!(C == El), "mg::scan: the carry and the element must be different variables");
  using Init = decltype(simplify::lift(init));
  return Scan<Body, C, El, Init, X>(body, simplify::lift(init), xs);
}

// One function per row of the derivative table.
#define METAGRAD_STATIC_UNARY(Rule, fn) \
  template <StaticExpr A> constexpr auto fn(const A& a) { return Unary<rules::Rule, A>(a); }
METAGRAD_FOR_EACH_UNARY(METAGRAD_STATIC_UNARY)
#undef METAGRAD_STATIC_UNARY
namespace nn::functional {
/// softplus(x) = log(1 + e^x), d/dx = sigmoid(x): the table's row under
/// PyTorch's F.softplus spelling too, as dynamic/nn.hpp offers it for tensors.
using metagrad::softplus;
}  // namespace nn::functional
/// psi^(N)(a), the N-th derivative of digamma (the derivatives of lgamma
/// and digamma are written with it).
template <int N, StaticExpr A> constexpr auto polygamma_n(const A& a) { return Unary<rules::Polygamma<N>, A>(a); }

/// Reductions and products for Eigen-valued expressions.
template <StaticExpr A> constexpr auto sum(const A& a) {
  if constexpr (is_intc<A>::value) return a; else return Unary<rules::Sum, A>(a);
}
template <StaticExpr A> constexpr auto mean(const A& a) {
  if constexpr (is_intc<A>::value) return a; else return Unary<rules::Mean, A>(a);
}
template <StaticExpr A> constexpr auto prod(const A& a) {
  if constexpr (is_intc<A>::value) return a; else return Unary<rules::Prod, A>(a);
}
/// The product of the others, prod_{j != i} e_j, and its directional
/// derivatives: what mg::d of prod is written with, exact where elements are
/// 0 (d prod(e) = sum(prod_others(e) * de); rules::ProdOthers, ProdOthersJvp).
template <StaticExpr A> constexpr auto prod_others(const A& a) {
  if constexpr (is_intc<A>::value) return IntC<1>{}; else return Unary<rules::ProdOthers, A>(a);
}
template <StaticExpr A, StaticExpr T> constexpr auto prod_others_jvp(const A& a, const T& t) {
  if constexpr (is_intc<A>::value || simplify::is_c<T, 0>) return IntC<0>{};
  else return Binary<rules::ProdOthersJvp, A, T>(a, t);
}
/// (The third derivative of prod is a sum over triples of indices that no
/// static node holds: mg::d stops at the second.)
template <StaticExpr A, StaticExpr T, StaticExpr G> constexpr auto prod_others_jvp2(const A&, const T&, const G&) {
  static_assert(sizeof(G) == 0,
                "mg::d: prod has symbolic derivatives to the second order only; use mg::grad, mg::hvp or mg::hessian on d(prod(x), x)");
  return IntC<0>{};
}
/// log(sum(exp(e))) computed without overflow, the largest element (max,
/// amax: ties share the gradient evenly; where the largest is a NaN, max
/// gives it to the NaNs and amax makes it NaN, as PyTorch's max() and amax()) and the 2-norm sqrt(sum(e^2)), of
/// an Eigen-valued expression (a scalar is its own: logsumexp(x) = max(x) = x,
/// norm(x) = |x|). Their derivatives are in rules/reductions.hpp.
template <StaticExpr A> constexpr auto logsumexp(const A& a) { return Unary<rules::LogSumExp, A>(a); }
template <StaticExpr A> constexpr auto max(const A& a) { return Unary<rules::Max, A>(a); }
template <StaticExpr A> constexpr auto amax(const A& a) { return Unary<rules::Amax, A>(a); }
template <StaticExpr A> constexpr auto norm(const A& a) { return Unary<rules::Norm, A>(a); }
/// log_softmax(e) = (e - m) - log(sum(exp(e - m))) (m the largest element)
/// and softmax(e) = exp(e - m) / sum(exp(e - m)) over every element of a
/// vector expression, computed as PyTorch's `softmax(x, 0)` on a vector (a
/// number's are 0 and 1). Their rules are the ones along a dimension
/// (rules/reductions.hpp):
///   log_softmax: dx = g - exp(y) sum(g);   softmax: dx = y (g - sum(g y)),
/// and mg::d's tangents d log_softmax = de - sum(softmax(e) de),
/// d softmax = softmax(e) (de - sum(softmax(e) de)).
/// (Not e - logsumexp(e): where |m| is large the difference loses what
/// logsumexp rounds away — softmax([1e17, 1e17]) would be [1, 1].)
template <StaticExpr A> constexpr auto log_softmax(const A& a) { return Unary<rules::LogSoftmax, A>(a); }
template <StaticExpr A> constexpr auto softmax(const A& a) { return Unary<rules::Softmax, A>(a); }
/// The same reductions along one dimension (PyTorch's numbering, -1 the
/// last; an mg::Error names a dimension out of range): a matrix gives a
/// vector of the other dimension's length, a vector a number. softmax,
/// log_softmax and cumsum keep the shape. Each is rule R along the dimension
/// (rules/along.hpp) with R's own derivative, the one the dynamic engine runs:
///   sum:  dx = g;   mean: dx = g / n;   prod: dx = g prod_{j != i} x_j (exact at 0)
///   logsumexp: dx = g exp(x - y);   amax: dx = g / k on the k maxima;   norm: dx = g x / y
///   softmax: dx = y (g - sum(g y));  log_softmax: dx = g - exp(y) sum(g);  cumsum: dx_i = sum_{j >= i} g_j
template <class R, StaticExpr A>
constexpr auto along(const A& a, int dim) {
  return Binary<rules::AlongDim<R>, A, Const>(a, Const(static_cast<double>(dim)));
}
template <StaticExpr A> constexpr auto sum(const A& a, int dim) { return along<rules::SumDim>(a, dim); }
template <StaticExpr A> constexpr auto mean(const A& a, int dim) { return along<rules::MeanDim>(a, dim); }
template <StaticExpr A> constexpr auto prod(const A& a, int dim) { return along<rules::ProdDim>(a, dim); }
template <StaticExpr A> constexpr auto logsumexp(const A& a, int dim) { return along<rules::LogSumExp>(a, dim); }
template <StaticExpr A> constexpr auto amax(const A& a, int dim) { return along<rules::Amax>(a, dim); }
template <StaticExpr A> constexpr auto norm(const A& a, int dim) { return along<rules::Norm>(a, dim); }
template <StaticExpr A> constexpr auto softmax(const A& a, int dim) { return along<rules::Softmax>(a, dim); }
template <StaticExpr A> constexpr auto log_softmax(const A& a, int dim) { return along<rules::LogSoftmax>(a, dim); }
template <StaticExpr A> constexpr auto cumsum(const A& a, int dim) { return along<rules::Cumsum>(a, dim); }
template <StaticExpr A> constexpr auto transpose(const A& a) {
  if constexpr (is_intc<A>::value) return a; else return Unary<rules::Transpose, A>(a);
}
template <StaticExpr A, StaticExpr B> constexpr auto matmul(const A& a, const B& b) {
  if constexpr (simplify::is_c<A, 0> || simplify::is_c<B, 0>) return IntC<0>{};
  else return Binary<rules::MatMul, A, B>(a, b);
}
/// The outer product a b^T of two vectors, matmul(a, transpose(b)) (and so
/// its derivative: da = G b, db = G^T a).
template <StaticExpr A, StaticExpr B> constexpr auto outer(const A& a, const B& b) { return matmul(a, transpose(b)); }
template <StaticExpr A, StaticExpr B> constexpr auto dot(const A& a, const B& b) {
  if constexpr (simplify::is_c<A, 0> || simplify::is_c<B, 0>) return IntC<0>{};
  else return Binary<rules::Dot, A, B>(a, b);
}

}  // namespace metagrad
