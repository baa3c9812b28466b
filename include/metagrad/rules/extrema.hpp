// metagrad/rules/extrema.hpp — the derivative rules of minimum(a, b),
// maximum(a, b) and relu(x) = maximum(x, 0), as PyTorch's (derivatives.yaml, "maximum"):
//   maximum: d/da = g where a > b, g / 2 where a = b, 0 where a < b;
//            d/db likewise with a and b swapped; minimum with < and >.
// A NaN on either side is none of these: both sides get g, as in PyTorch.
//   relu(x) = maximum(x, 0) with -0 and NaN kept: dx = 0 where y <= 0, else g
//            (PyTorch's threshold_backward: g at a NaN, 0 at 0 and -0).
// The formulas choose by the comparisons of rules/select.hpp, so they serve
// every engine (and `mg::d` to any order) as the rows of elementwise.hpp do.
#pragma once
#include <Eigen/Core>
#include <type_traits>

#include "elementwise.hpp"
#include "select.hpp"

namespace metagrad {
namespace rules {

/// The share of g that goes to a side which `loses` where c_lose holds and
/// ties where c_tie holds: 0, g / 2, else g.
template <class Lose, class Tie, class G>
constexpr auto extremum_share(const Lose& lose, const Tie& tie, const G& g) {
  return keep_where_not(lose, g - keep_where(tie, g / K<2>(g)));
}

/// relu(x): d/dx = 0 where y = relu(x) <= 0, else g (at y = NaN too).
struct Relu {
  static constexpr const char* node_name = "ReluBackward0";
  static constexpr const char* symbol = "relu";
  static constexpr Domain domain = Domain::piecewise;
  template <class X> static constexpr auto f(const X& x) { return relu(x); }
  template <class X, class Y, class G>
  static constexpr auto vjp(const X&, const Y& y, const G& g) { return keep_where_not(y <= K<0>(y), g); }
};

/// minimum(a, b), a NaN kept: the gradient goes to the smaller side; a tie
/// splits it in half (MinimumBackward0).
struct Minimum {
  static constexpr Domain domain_a = Domain::real, domain_b = Domain::real;
  static constexpr const char* node_name = "MinimumBackward0";
  static constexpr const char* symbol = "minimum";
  template <class A, class B> static constexpr auto f(const A& a, const B& b) { return minimum(a, b); }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_a(const A& a, const B& b, const Y&, const G& g) { return extremum_share(a > b, a == b, g); }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_b(const A& a, const B& b, const Y&, const G& g) { return extremum_share(b > a, a == b, g); }
};
/// maximum(a, b), a NaN kept: the gradient goes to the larger side; a tie
/// splits it in half (MaximumBackward0).
struct Maximum {
  static constexpr Domain domain_a = Domain::real, domain_b = Domain::real;
  static constexpr const char* node_name = "MaximumBackward0";
  static constexpr const char* symbol = "maximum";
  template <class A, class B> static constexpr auto f(const A& a, const B& b) { return maximum(a, b); }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_a(const A& a, const B& b, const Y&, const G& g) { return extremum_share(a < b, a == b, g); }
  template <class A, class B, class Y, class G>
  static constexpr auto vjp_b(const A& a, const B& b, const Y&, const G& g) { return extremum_share(b < a, a == b, g); }
};

}  // namespace rules
}  // namespace metagrad
