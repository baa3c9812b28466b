// tests/support/finite_difference.hpp — the central finite difference the
// static suites check gradients against (the dynamic suites use
// mg::autograd::gradcheck through support/check.hpp).
#pragma once
#include <Eigen/Core>

namespace check {
/// (f(v + h e_i) - f(v - h e_i)) / 2h: the derivative of scalar function f
/// along element i of v.
template <class F>
double central_difference(F f, Eigen::VectorXd v, Eigen::Index i, double step = 1e-6) {
  v[i] += step;
  const double up = f(v);
  v[i] -= 2 * step;
  return (up - f(v)) / (2 * step);
}
}  // namespace check
