// metagrad/static/to_string.hpp — `mg::to_string(e)`: readable infix text,
// with the fewest parentheses: `3 * pow(x, 2) + exp(-y)`. Powers print as
// `pow(a, b)` (never `a^b`, which would read as xor in C++).
#pragma once
#include <cstdio>
#include <string>

#include "expr.hpp"

namespace metagrad {
namespace detail {

struct Printed {
  std::string text;
  int prec;  // 0: comparison, 1: + -, 2: * /, 3: unary minus, 4: atom or call
};

inline std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  double back = 0;
  for (int p = 1; p <= 17; ++p) {  // shortest text that reads back exactly
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    std::sscanf(buf, "%lf", &back);
    if (back == v) break;
  }
  return buf;
}

template <class E> Printed print(const E& e);

/// where(c, a, b) and clamp(x, lo, hi), printed as written (they are built
/// of two nodes each).
template <class E> struct is_where : std::false_type {};
template <class C, class A, class B>
struct is_where<Binary<rules::Add, Binary<rules::KeepWhere, C, A>, Binary<rules::KeepWhereNot, C, B>>> : std::true_type {};
template <class E> struct is_clamp : std::false_type {};
template <class X, class L, class H>
struct is_clamp<Binary<rules::ClampMax, Binary<rules::ClampMin, X, L>, H>> : std::true_type {};

inline std::string paren(const Printed& p, int min_prec) {
  return p.prec < min_prec ? "(" + p.text + ")" : p.text;
}

template <class E>
Printed print(const E& e) {
  if constexpr (is_var<E>::value) return {std::string(E::name.view()), 4};
  else if constexpr (is_intc<E>::value) return {std::to_string(E::value), E::value < 0 ? 3 : 4};
  else if constexpr (std::is_same_v<E, Const>) return {number(e.value), e.value < 0 ? 3 : 4};
  else if constexpr (is_scan<E>::value)
    return {"scan(" + print(e.body).text + ", " + std::string(E::carry_name.view()) + ", " + print(e.init).text + ", " +
                std::string(E::elem_name.view()) + ", " + print(e.xs).text + ")",
            4};
  else if constexpr (is_where<E>::value)
    return {"where(" + print(e.a.a).text + ", " + print(e.a.b).text + ", " + print(e.b.b).text + ")", 4};
  else if constexpr (is_clamp<E>::value)
    return {"clamp(" + print(e.a.a).text + ", " + print(e.a.b).text + ", " + print(e.b).text + ")", 4};
  else if constexpr (requires { e.b; }) {
    using R = decltype(rule_of(e));
    const Printed a = print(e.a), b = print(e.b);
    const std::string sym = R::symbol;
    if constexpr (!rules::differentiable<R>) return {paren(a, 1) + " " + sym + " " + paren(b, 1), 0};
    if constexpr (std::is_same_v<R, rules::KeepWhere>) return {"where(" + a.text + ", " + b.text + ", 0)", 4};
    if constexpr (std::is_same_v<R, rules::KeepWhereNot>) return {"where(" + a.text + ", 0, " + b.text + ")", 4};
    if (sym == "+") return {paren(a, 1) + " + " + paren(b, 1), 1};
    if (sym == "-") return {paren(a, 1) + " - " + paren(b, 2), 1};
    if (sym == "*") return {paren(a, 2) + " * " + paren(b, 2), 2};
    if (sym == "/") return {paren(a, 2) + " / " + paren(b, 3), 2};
    if (sym == "index") return {paren(a, 4) + "[" + b.text + "]", 4};
    return {sym + "(" + a.text + ", " + b.text + ")", 4};
  } else {
    using R = decltype(rule_of(e));
    const Printed a = print(e.a);
    if constexpr (std::is_same_v<R, rules::Neg>) {
      std::string t(1, '-');  // (not "-" + s: g++ 12 warns falsely on it, bug 105651)
      t += paren(a, 2);       // -(a * b) reads as -a * b: same value
      return {std::move(t), a.prec == 2 ? 2 : 3};
    }
    else {
      std::string sym = R::symbol;
      if (sym.ends_with("_fn")) sym.resize(sym.size() - 3);
      return {sym + "(" + a.text + ")", 4};
    }
  }
}

}  // namespace detail

template <StaticExpr E>
std::string to_string(const E& e) { return detail::print(e).text; }

}  // namespace metagrad
