// metagrad/static/eval.hpp — evaluating a static expression on bindings:
// `mg::eval(e, x = 3.0, y = 4.0)` or `e(x = 3.0, y = 4.0)`, bindings in any
// order. Scalars evaluate in constexpr; Eigen values evaluate elementwise
// (matrices as arrays, `matmul` as the matrix product). Binding an mg::Tensor
// goes through the bridge (bridge.hpp) and returns a Tensor.
#pragma once
#include <tuple>
#include <utility>

#include "../detail/config.hpp"
#include "ops.hpp"

namespace metagrad {
namespace detail {

template <class V> struct scalar_of { using type = V; };
template <class V> struct scalar_of<Data<V>> : scalar_of<V> {};
template <class V> requires requires { typename V::Scalar; } struct scalar_of<V> { using type = typename V::Scalar; };
template <class V> requires requires { typename V::value_type; } && (!requires { typename V::Scalar; })
struct scalar_of<V> { using type = typename V::value_type; };

/// The arithmetic type of a set of bindings (double unless all are float).
template <class... Ss>
struct floating_common {
  using C = std::common_type_t<Ss...>;
  using type = std::conditional_t<std::is_floating_point_v<C> || is_dual<C>::value, C, double>;
};
template <>
struct floating_common<> { using type = double; };
template <class... Bs>
using common_scalar_t = typename floating_common<typename scalar_of<std::remove_cvref_t<decltype(Bs::value)>>::type...>::type;

/// Values that route evaluation through the bridge (specialised there).
template <class V> struct is_bridge_value : std::false_type {};
/// A tensor (mg::Tensor and the other BasicTensors): evaluating a static
/// expression on one needs the bridge, so that it always means one fused node.
template <class V> inline constexpr bool is_tensor_value = requires(const V& v) { v.defined(); v.grad_fn(); };

template <detail::fixed_string Name, class... Bs>
inline constexpr bool is_bound = ((Bs::name == Name) || ...);

/// Position of the binding for variable Name among Bs (found with Hana).
template <detail::fixed_string Name, class... Bs>
constexpr std::size_t binding_index() {
  constexpr auto idx = boost::hana::index_if(boost::hana::make_basic_tuple(boost::hana::type_c<Bs>...),
                                             [](auto t) { return boost::hana::bool_c<(decltype(t)::type::name == Name)>; });
  return std::remove_cvref_t<decltype(idx.value())>::value;
}

/// A variable's name as characters: both compilers print `variable_named<'y'>`
/// (clang++ prints a fixed_string as character codes).
template <char... Cs> struct variable_named {};
template <detail::fixed_string Name, std::size_t... I>
auto name_chars(std::index_sequence<I...>) -> variable_named<Name.data[I]...>;
template <detail::fixed_string Name>
using variable_name_t = decltype(name_chars<Name>(std::make_index_sequence<Name.view().size()>{}));
inline constexpr double unbound_value = 0;
/// Instantiated only for a variable with no binding: the error names it.
template <class VariableName, bool Bound>
struct require_binding {
  static_assert(Bound && sizeof(VariableName) > 0,
                "metagrad: a variable of the expression has no binding; pass `var = value` for it "
                "(its name is spelled out in variable_named<...> here)");
};

template <detail::fixed_string Name, class... Bs>
constexpr const auto& lookup(const Bs&... bs) {
  if constexpr (!is_bound<Name, Bs...>) {
    (void)require_binding<variable_name_t<Name>, false>{};
    return unbound_value;  // (keeps the error to one)
  } else {
    return std::get<binding_index<Name, Bs...>()>(std::forward_as_tuple(bs...)).value;
  }
}

/// Leaves: Eigen matrices are read as arrays; scalars as they are.
template <class V>
constexpr decltype(auto) as_value(const V& v) {
  if constexpr (is_data<V>::value) return as_value(v.value);
  else if constexpr (std::is_base_of_v<Eigen::ArrayBase<V>, V>) return (v);  // already an array
  else if constexpr (requires { v.array(); }) return v.array();         // a matrix, read as an array
  else return (v);
}
/// f(x) over a fixed-size plain x of whole packets, f with a packet form
/// (the fused pass's one-packet nodes: sin, exp, tanh, ... of a packet).
template <class P>
inline constexpr bool packet_unary_of_plain = [] {
  namespace ei = Eigen::internal;
  if constexpr (requires(const P& p) { p.functor(); p.nestedExpression(); typename P::NestedExpression; typename P::PlainObject; }) {
    using F = std::remove_cvref_t<decltype(std::declval<const P&>().functor())>;
    using X = std::remove_cvref_t<typename P::NestedExpression>;
    using S = typename P::Scalar;
    if constexpr (requires { typename X::PlainObject; X::SizeAtCompileTime; } && std::is_same_v<typename X::Scalar, S>) {
      constexpr int n = X::SizeAtCompileTime, ps = ei::packet_traits<S>::size;
      return std::is_same_v<typename X::PlainObject, X> && n != Eigen::Dynamic && ps > 1 && n % ps == 0 && n / ps <= 4 &&
             bool(ei::packet_traits<S>::Vectorizable) && bool(ei::functor_traits<F>::PacketAccess);
    }
  }
  return false;
}();

/// f(x) for a packet_unary_of_plain: the functor's packetOp called directly.
/// Through Eigen's evaluator, g++ leaves the evaluator's packet() out of line
/// (one call per packet) once a translation unit holds many vector kernels.
template <class P>
METAGRAD_INLINE inline typename P::PlainObject packet_unary_value(const P& v) {
  namespace ei = Eigen::internal;
  using S = typename P::Scalar;
  constexpr int ps = ei::packet_traits<S>::size;
  typename P::PlainObject r;
  const S* x = v.nestedExpression().data();
  for (int k = 0; k < int(P::SizeAtCompileTime); k += ps)
    ei::pstoreu(r.data() + k, v.functor().packetOp(ei::ploadu<typename ei::packet_traits<S>::type>(x + k)));
  return r;
}

/// Eigen expressions are evaluated at each node (values are reused in grad).
template <class V>
constexpr auto eager(V&& v) {
  using P = std::remove_cvref_t<V>;
  if constexpr (requires { typename P::PlainObject; v.eval(); }) {
    if constexpr (std::is_same_v<typename P::PlainObject, P>) return P(std::forward<V>(v));  // moved when it can be
    else return typename P::PlainObject(v);
  } else {
    return std::forward<V>(v);
  }
}

/// Lazy = true keeps Eigen results as expressions (the bridge's vectorised
/// single pass); Lazy = false evaluates each node (values reused by grad).
template <bool Lazy, class V>
METAGRAD_INLINE constexpr auto finish(V&& v) {
  if constexpr (Lazy) return std::forward<V>(v);
  else if constexpr (packet_unary_of_plain<std::remove_cvref_t<V>>) return packet_unary_value(v);
  else return eager(std::forward<V>(v));
}

/// Elementwise operands must have one shape (or be scalars): a sentence at
/// compile time for fixed-size Eigen values, an mg::Error at run time.
template <class R, class A, class B>
constexpr void check_elementwise(const A& a, const B& b) {
  if constexpr (requires { a.rows(); b.rows(); A::RowsAtCompileTime; B::RowsAtCompileTime; } &&
                is_elementwise_rule<R>::value) {
    static_assert((A::RowsAtCompileTime == Eigen::Dynamic || B::RowsAtCompileTime == Eigen::Dynamic ||
                   int(A::RowsAtCompileTime) == int(B::RowsAtCompileTime)) &&
                      (A::ColsAtCompileTime == Eigen::Dynamic || B::ColsAtCompileTime == Eigen::Dynamic ||
                       int(A::ColsAtCompileTime) == int(B::ColsAtCompileTime)),
                  "mg: elementwise operands have different fixed sizes");
    if (a.rows() != b.rows() || a.cols() != b.cols())
      fail("mg: elementwise operation '", R::symbol, "' on shapes ", a.rows(), "x", a.cols(), " and ", b.rows(), "x",
           b.cols());
  }
}

/// Runs f; an mg::Error from a part of a variable (x[i], head(x, n), ...)
/// gets the variable's name added (the rule itself knows only the sizes).
template <class R, class A, class F>
constexpr auto naming_variable(F&& f) {
  if constexpr (requires { R::linear_in_a; } && is_var<A>::value) {
    try {
      return f();
    } catch (const Error& err) {
      fail(err.what(), " (variable ", A::name.view(), ")");
    }
  } else {
    return f();
  }
}

template <class S, bool Lazy = false>
struct Evaluator {
  template <detail::fixed_string N, class... Bs>
  static constexpr decltype(auto) run(const Var<N>&, const Bs&... bs) { return as_value(lookup<N>(bs...)); }
  template <long long N, class... Bs>
  static constexpr S run(const IntC<N>&, const Bs&...) { return static_cast<S>(N); }
  template <class... Bs>
  static constexpr S run(const Const& c, const Bs&...) { return static_cast<S>(c.value); }
  template <class R, class A, class... Bs>
  static constexpr auto run(const Unary<R, A>& e, const Bs&... bs) { return finish<Lazy>(R::f(run(e.a, bs...))); }
  /// pow(e, N_c) with a small N: by multiplication (vectorises on arrays).
  template <class A, long long N, class... Bs>
    requires(N >= -8 && N <= 8)
  static constexpr auto run(const Binary<rules::Pow, A, IntC<N>>& e, const Bs&... bs) {
    return finish<Lazy>(int_pow<N>(run(e.a, bs...)));
  }
  /// (Eigen keeps plain operands of an expression by reference: v^1 is v
  /// itself, never a copy that would die before the expression is used.)
  template <long long N, class V>
  static constexpr decltype(auto) int_pow(const V& v) {
    if constexpr (std::is_arithmetic_v<V>) return math::ipow(v, N);
    else if constexpr (N < 0) return S(1) / int_pow<-N>(v);
    else if constexpr (N == 0) return S(1) + S(0) * v;
    else if constexpr (N == 1) return (v);
    else return int_pow<N - 1>(v) * v;
  }
  /// A scan: the body evaluated n times, the carry and element bound first.
  template <class Body, detail::fixed_string C, detail::fixed_string El, class I, class X, class... Bs>
  static auto run(const Scan<Body, C, El, I, X>& e, const Bs&... bs) {
    const auto xs = eager(run(e.xs, bs...));
    using V = std::remove_cvref_t<decltype(xs)>;
    static_assert(!is_number_v<V>, "mg::scan: xs must be a vector (an Eigen vector binding)");
    using Sc = typename V::Scalar;
    Eigen::Array<Sc, Eigen::Dynamic, 1> out(xs.size());
    Sc c = static_cast<Sc>(run(e.init, bs...));
    for (Eigen::Index t = 0; t < xs.size(); ++t) {
      const Binding<C, Sc> carry{c};
      const Binding<El, Sc> elem{xs(t)};
      c = out(t) = static_cast<Sc>(Evaluator<Sc>::run(e.body, carry, elem, bs...));
    }
    return out;
  }
  template <class R, class A, class B, class... Bs>
  static constexpr auto run(const Binary<R, A, B>& e, const Bs&... bs) {
    decltype(auto) a = run(e.a, bs...);
    decltype(auto) b = run(e.b, bs...);
    check_elementwise<R>(a, b);
    return naming_variable<R, A>([&] { return finish<Lazy>(R::f(a, b)); });
  }
};

template <class... Bs>
inline constexpr bool all_bindings = (is_binding<Bs>::value && ...);

/// Eigen bindings share one scalar type (numbers promote: float with double
/// is double, integers are doubles).
template <class V> struct eigen_scalar { using type = void; };
template <class V> struct eigen_scalar<Data<V>> : eigen_scalar<V> {};
template <class V> requires requires { typename V::Scalar; } struct eigen_scalar<V> { using type = typename V::Scalar; };
template <class... Bs>
inline constexpr bool eigen_scalars_agree = [] {
  bool seen = false, ok = true;
  std::size_t first = 0;
  auto visit = [&]<class E>(std::type_identity<E>) {
    if constexpr (!std::is_void_v<E>) {
      const std::size_t id = std::is_same_v<E, float> ? 1 : std::is_same_v<E, double> ? 2 : 3;
      if (seen && id != first) ok = false;
      seen = true;
      first = id;
    }
  };
  (visit(std::type_identity<typename eigen_scalar<std::remove_cvref_t<decltype(Bs::value)>>::type>{}), ...);
  return ok;
}();

}  // namespace detail

template <class E, class... Bs>
constexpr auto eval(const E& e, const Bs&... bs) {
  static_assert(StaticExpr<E>, "mg::eval: the first argument must be a metagrad static expression");
  static_assert(detail::all_bindings<Bs...>, "mg::eval: arguments after the expression must be bindings `var = value`");
  static_assert(detail::eigen_scalars_agree<Bs...>,
                "mg: the Eigen bindings mix scalar types (float and double); bind values of one type, e.g. v.cast<double>()");
  static_assert(!(detail::is_tensor_value<std::remove_cvref_t<decltype(Bs::value)>> || ...) ||
                    (detail::is_bridge_value<std::remove_cvref_t<decltype(Bs::value)>>::value || ...),
                "mg::eval: a static expression on tensors needs the bridge: include <metagrad/bridge.hpp> or <metagrad/metagrad.hpp>");
  if constexpr ((detail::is_bridge_value<std::remove_cvref_t<decltype(Bs::value)>>::value || ...))
    return bridge_eval(e, bs...);
  else
    return detail::Evaluator<detail::common_scalar_t<Bs...>>::run(e, bs...);
}

}  // namespace metagrad
