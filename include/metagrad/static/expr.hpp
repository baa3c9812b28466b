// metagrad/static/expr.hpp — static-mode expression types. The type of an
// expression IS its tree: variables are empty types named by a string
// (`mg::var<"x">`), integral constants are types (`3_c`), runtime doubles are
// Const leaves, and every op is Unary<Rule, A> or Binary<Rule, A, B> with
// the Rule taken from the shared derivative table (rules/).
#pragma once
#include <boost/hana/basic_tuple.hpp>
#include <boost/hana/bool.hpp>
#include <boost/hana/contains.hpp>
#include <boost/hana/filter.hpp>
#include <boost/hana/index_if.hpp>
#include <boost/hana/set.hpp>
#include <boost/hana/core/to.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <boost/hana/union.hpp>
#include <type_traits>

#include "../detail/fixed_string.hpp"
#include "../rules/along.hpp"
#include "../rules/elementwise.hpp"
#include "../rules/extrema.hpp"
#include "../rules/indexing.hpp"
#include "../rules/linalg.hpp"
#include "../rules/losses.hpp"
#include "../rules/pow.hpp"
#include "../rules/reductions.hpp"
#include "../rules/select.hpp"

namespace metagrad {

/// Gives every node `e(bindings...)`, the same as `mg::eval(e, bindings...)`.
template <class D>
struct ExprBase {
  template <class... Bs>
  constexpr auto operator()(const Bs&... bs) const { return eval(static_cast<const D&>(*this), bs...); }
  /// `x[i]`: element i (a run-time index) of a vector expression.
  template <class I> requires std::is_integral_v<I>
  constexpr auto operator[](I i) const { return index_expr(static_cast<const D&>(*this), i); }
};

/// A value bound to the variable named S: what `x = 3.0` makes.
template <detail::fixed_string S, class V>
struct Binding {
  static constexpr auto name = S;
  V value;
};

namespace detail {
/// An Eigen expression with no memory of its own (`2.0 * v`, `v.reverse()`):
/// it has a plain type to evaluate into, and no data().
template <class V>
concept unstored_eigen_expression = requires(const std::remove_cvref_t<V>& v) {
  typename std::remove_cvref_t<V>::PlainObject;
  v.eval();
} && !requires(const std::remove_cvref_t<V>& v) { v.data(); };
}  // namespace detail

/// `x = mg::data(v)`: v is read like any binding but gets no gradient (data,
/// not a parameter; PyTorch's requires_grad=False). `g[x]` is then a compile
/// error, and nothing is computed for it.
template <class V>
struct Data {
  const V& value;
};
template <class V>
constexpr Data<V> data(const V& v) {
  static_assert(!detail::unstored_eigen_expression<V>,
                "mg::data: evaluate an Eigen expression before binding it as data, e.g. mg::data((2.0 * v).eval())");
  return {v};
}
template <class V> struct is_data : std::false_type {};
template <class V> struct is_data<Data<V>> : std::true_type {};

template <class T> struct is_binding : std::false_type {};
template <detail::fixed_string S, class V> struct is_binding<Binding<S, V>> : std::true_type {};

/// What a binding stores: numbers and temporaries by value, other lvalues
/// (Eigen matrices, tensors) by reference — a binding is consumed within the
/// full-expression that makes it, like std::forward_as_tuple. Integral values
/// are stored as double: `(x / y)(x = 3, y = 2)` is 1.5, never integer arithmetic.
/// An Eigen expression that has no memory of its own (`2.0 * v`, `v.reverse()`,
/// `a.array() + 1`) is evaluated once, into its plain type, when bound.
template <class V>
struct binding_storage {
  using type = std::conditional_t<
      std::is_integral_v<std::remove_cvref_t<V>>, double,
      std::conditional_t<std::is_lvalue_reference_v<V> && !std::is_arithmetic_v<std::remove_cvref_t<V>>,
                         const std::remove_reference_t<V>&, std::remove_cvref_t<V>>>;
};
template <class V>
  requires detail::unstored_eigen_expression<V>
struct binding_storage<V> {
  using type = typename std::remove_cvref_t<V>::PlainObject;
};
template <class V>
using binding_storage_t = typename binding_storage<V>::type;

template <detail::fixed_string S>
struct Var : ExprBase<Var<S>> {
  static constexpr auto name = S;
  template <class V>
  constexpr Binding<S, binding_storage_t<V>> operator=(V&& v) const {
    return {static_cast<binding_storage_t<V>>(std::forward<V>(v))};
  }
};

/// `mg::var<"x">`: the variable named x.
template <detail::fixed_string S>
inline constexpr Var<S> var{};

/// An integral constant, e.g. `3_c`; folded at compile time.
template <long long N>
struct IntC : ExprBase<IntC<N>> {
  static constexpr long long value = N;
};

/// A runtime constant (a double appearing in an expression).
struct Const : ExprBase<Const> {
  double value;
  constexpr explicit Const(double v) : value(v) {}
};

template <class R, class A>
struct Unary : ExprBase<Unary<R, A>> {
  A a;
  constexpr explicit Unary(A a_) : a(a_) {}
};

template <class R, class A, class B>
struct Binary : ExprBase<Binary<R, A, B>> {
  A a;
  B b;
  constexpr Binary(A a_, B b_) : a(a_), b(b_) {}
};

/// A recurrence like jax.lax.scan: the vector [c_1 ... c_n] with c_0 = init
/// and c_t = body(carry = c_(t-1), elem = xs[t-1]); `body` is a scalar
/// expression over the variables named C and El and any outer variables.
template <class Body, detail::fixed_string C, detail::fixed_string El, class Init, class Xs>
struct Scan : ExprBase<Scan<Body, C, El, Init, Xs>> {
  static constexpr auto carry_name = C;
  static constexpr auto elem_name = El;
  Body body;
  Init init;
  Xs xs;
  constexpr Scan(Body b, Init i, Xs x) : body(b), init(i), xs(x) {}
};
template <class T> struct is_scan : std::false_type {};
template <class B, detail::fixed_string C, detail::fixed_string El, class I, class X>
struct is_scan<Scan<B, C, El, I, X>> : std::true_type {};

// ------------------------------------------------------------------ traits
/// The rule of a node (in unevaluated contexts: decltype(rule_of(e))).
template <class R, class A> R rule_of(const Unary<R, A>&);
template <class R, class A, class B> R rule_of(const Binary<R, A, B>&);

template <class T> struct is_expr_impl : std::false_type {};
template <detail::fixed_string S> struct is_expr_impl<Var<S>> : std::true_type {};
template <long long N> struct is_expr_impl<IntC<N>> : std::true_type {};
template <> struct is_expr_impl<Const> : std::true_type {};
template <class R, class A> struct is_expr_impl<Unary<R, A>> : std::true_type {};
template <class R, class A, class B> struct is_expr_impl<Binary<R, A, B>> : std::true_type {};
template <class B, detail::fixed_string C, detail::fixed_string El, class I, class X>
struct is_expr_impl<Scan<B, C, El, I, X>> : std::true_type {};

/// A static-mode expression type.
template <class T>
concept StaticExpr = is_expr_impl<std::remove_cvref_t<T>>::value;

template <class T> struct is_var : std::false_type {};
template <detail::fixed_string S> struct is_var<Var<S>> : std::true_type {};
template <class T> struct is_intc : std::false_type {};
template <long long N> struct is_intc<IntC<N>> : std::true_type {};

/// The set of variables in E, as a Boost.Hana set of hana::type<Var<...>>.
template <class E> struct free_vars_impl { static constexpr auto value = boost::hana::make_set(); };
template <detail::fixed_string S> struct free_vars_impl<Var<S>> {
  static constexpr auto value = boost::hana::make_set(boost::hana::type_c<Var<S>>);
};
template <class R, class A> struct free_vars_impl<Unary<R, A>> { static constexpr auto value = free_vars_impl<A>::value; };
template <class R, class A, class B> struct free_vars_impl<Binary<R, A, B>> {
  static constexpr auto value = boost::hana::union_(free_vars_impl<A>::value, free_vars_impl<B>::value);
};
/// A scan's variables: those of init and xs, and the body's outer ones.
template <class B, detail::fixed_string C, detail::fixed_string El, class I, class X>
struct free_vars_impl<Scan<B, C, El, I, X>> {
  static constexpr auto value = boost::hana::union_(
      boost::hana::union_(free_vars_impl<I>::value, free_vars_impl<X>::value),
      boost::hana::to_set(boost::hana::filter(boost::hana::to_tuple(free_vars_impl<B>::value), [](auto t) {
        using V = typename decltype(t)::type;
        return boost::hana::bool_c<!(V::name == C) && !(V::name == El)>;
      })));
};

/// Pure expressions (no runtime constants) are fully described by their type,
/// so equal types are equal expressions (used by `e - e -> 0`, `e + e -> 2*e`).
template <class E> struct is_pure : std::true_type {};
template <> struct is_pure<Const> : std::false_type {};
template <class R, class A> struct is_pure<Unary<R, A>> : is_pure<A> {};
template <class R, class A, class B> struct is_pure<Binary<R, A, B>>
    : std::bool_constant<is_pure<A>::value && is_pure<B>::value> {};
template <class B, detail::fixed_string C, detail::fixed_string El, class I, class X>
struct is_pure<Scan<B, C, El, I, X>> : std::bool_constant<is_pure<B>::value && is_pure<I>::value && is_pure<X>::value> {};

/// Elementwise-only expressions (the ones the bridge can fuse). A rule that
/// is not elementwise says so (`static constexpr bool elementwise = false`).
template <class R> struct is_elementwise_rule : std::bool_constant<[] {
  if constexpr (requires { R::elementwise; }) return R::elementwise; else return true;
}()> {};
template <class E> struct is_elementwise : std::bool_constant<!is_scan<E>::value> {};
template <class R, class A> struct is_elementwise<Unary<R, A>>
    : std::bool_constant<is_elementwise_rule<R>::value && is_elementwise<A>::value> {};
template <class R, class A, class B> struct is_elementwise<Binary<R, A, B>>
    : std::bool_constant<is_elementwise_rule<R>::value && is_elementwise<A>::value && is_elementwise<B>::value> {};

/// In the static family the constant N is the type IntC<N>.
template <class V>
struct constant_family<V, std::enable_if_t<StaticExpr<V>>> {
  template <int N>
  static constexpr auto make() { return IntC<N>{}; }
  static constexpr auto real(double v) { return Const(v); }
};

namespace literals {
namespace detail_lit {
/// The digits of an integer literal (decimal, 0x hex, 0b binary, 0 octal,
/// with ' separators) as a value; `integral` is false for a floating
/// literal (`0.5`, `1e3`, `0x1p3`), `fits` false past 2^63 - 1.
struct Parsed {
  long long value = 0;
  bool integral = true;
  bool fits = true;
};
template <char... Cs>
constexpr Parsed parse() {
  constexpr char s[] = {Cs...};
  constexpr int n = sizeof...(Cs);
  int base = 10, i = 0;
  if (n > 1 && s[0] == '0') {
    if (s[1] == 'x' || s[1] == 'X') base = 16, i = 2;
    else if (s[1] == 'b' || s[1] == 'B') base = 2, i = 2;
    else base = 8, i = 1;
  }
  constexpr unsigned long long top = 9223372036854775807ull;
  unsigned long long v = 0;
  for (; i < n; ++i) {
    const char c = s[i];
    if (c == '\'') continue;
    int digit = base;  // (not a digit of this base)
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit >= base) return {0, false, true};
    if (v > (top - static_cast<unsigned long long>(digit)) / static_cast<unsigned long long>(base)) return {0, true, false};
    v = v * static_cast<unsigned long long>(base) + static_cast<unsigned long long>(digit);
  }
  return {static_cast<long long>(v), true, true};
}
}  // namespace detail_lit
/// `3_c`: the integral constant 3 as a static expression (an integer
/// literal in any base; a fractional one is refused: `0.5_c` is not 0.5).
template <char... Cs>
constexpr IntC<detail_lit::parse<Cs...>().value> operator""_c() {
  static_assert(detail_lit::parse<Cs...>().integral,
                "mg: _c makes an integral constant (2_c, 100_c); write a fractional one as a plain number (0.5 * x) "
                "or as a ratio of integral ones (1_c / 2_c)");
  static_assert(detail_lit::parse<Cs...>().fits, "mg: a _c constant must fit in a 64-bit signed integer");
  return {};
}
}  // namespace literals

}  // namespace metagrad
