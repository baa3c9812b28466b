// metagrad/rules/pow.hpp — the derivative rule of a^b, the one row of the
// table whose derivatives need conditions (rules/select.hpp), as PyTorch's
// pow_backward_self / pow_backward_exponent:
//   d/da = b a^(b-1)   but 0 where b = 0 (x^0 is constant, x = 0 included),
//   d/db = a^b log a   but 0 where a = 0 and b >= 0 (0^b is constant there:
//                      not 0 * -inf = NaN).
// It serves every engine, as the rows of rules/elementwise.hpp do.
#pragma once
#include <Eigen/Core>
#include <type_traits>

#include "elementwise.hpp"
#include "select.hpp"

namespace metagrad {
namespace rules {

/// a^b: d/da = b a^(b-1), d/db = a^b log a (each 0 where PyTorch's is: see the
/// banner). PowBackward0 when b is a number, PowBackward2 when a is.
struct Pow {
  static constexpr const char* node_name = "PowBackward1";
  static constexpr const char* symbol = "pow";
  template <class A, class B> static constexpr auto f(const A& a, const B& b) { return pow_fn(a, b); }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_a(const A& a, const B& b, const Y&, const G& g) {
    if constexpr (std::is_base_of_v<Eigen::ArrayBase<A>, A> && std::is_arithmetic_v<B>) {
      using P = decltype((g * (b * pow_fn(a, b - K<1>(b)))).eval());
      return P(g * (b * pow_fn(a, lowered(b))));  // evaluated while pow_fn's array lives
    } else if constexpr (std::is_arithmetic_v<B>) {
      return g * (b * pow_fn(a, lowered(b)));
    } else if constexpr (requires { B::value; }) {  // (a static constant: pow(x, 0_c) is 1_c already)
      return g * (b * pow_fn(a, b - K<1>(b)));
    } else {
      return keep_where_not(b == K<0>(b), g * (b * pow_fn(a, b - K<1>(b))));
    }
  }
  /// b - 1, or 0 for b = 0: x^0 has derivative 0 everywhere, x = 0 included
  /// (PyTorch's pow_backward), not 0 * 0^-1 = NaN. (A number exponent only.)
  template <class B> static constexpr B lowered(B b) { return b == B(0) ? B(0) : b - B(1); }
  /// (a = 0 and b >= 0 is |a| + relu(-b) = 0: one comparison, which every
  /// value family has — a static expression has no `and` of conditions.)
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_b(const A& a, const B& b, const Y& y, const G& g) {
    return keep_where_not((abs(a) + relu(-b)) == K<0>(g), g * (y * log(a)));
  }
};

}  // namespace rules
}  // namespace metagrad
