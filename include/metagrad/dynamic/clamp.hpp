// metagrad/dynamic/clamp.hpp — clamp(x, min, max) and its one-sided forms:
// every element limited to [min, max] (NaN stays NaN; with min > max every
// element is max, as in PyTorch). The gradient passes where x is inside:
//   clamp(x, lo, hi):  d/dx = g [lo <= x <= hi]       ClampBackward1
//   clamp_min(x, lo):  d/dx = g [x >= lo]             ClampMinBackward0
//   clamp_max(x, hi):  d/dx = g [x <= hi]             ClampMaxBackward0
// (a missing bound is no condition; the masks are constants of the graph).
// The backward formulas are rules::ClampMin / ClampMax's (rules/select.hpp).
#pragma once
#include <optional>

#include "reductions.hpp"

namespace metagrad {
namespace detail {
template <class T>
BasicTensor<T> clamp_op(const BasicTensor<T>& x, std::optional<T> lo, std::optional<T> hi, const char* name) {
  check(lo.has_value() || hi.has_value(), "torch.clamp: At least one of 'min' or 'max' must not be None");
  const auto limit = [lo, hi](T v) {  // (a NaN fails both tests and stays)
    if (lo && v < *lo) v = *lo;
    if (hi && v > *hi) v = *hi;
    return v;
  };
  BasicTensor<T> out(kernels::unary(x.impl(), [limit](const auto& v) {
    if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(v)>>) return limit(v);
    else return v.unaryExpr(limit);
  }));
  // The formulas are the rules' (rules/select.hpp), the bounds being constants;
  // what they read is found by probing them, as for the table's binary ops.
  constexpr unsigned needs = rules::grad_a_needs<rules::ClampMin> | rules::grad_a_needs<rules::ClampMax>;
  static_assert((needs & ~(rules::kA | rules::kB)) == 0, "clamp's backward reads only x and the bounds");
  record_closure_node(out, x, name, (needs & rules::kA) != 0, false,
                  [lo, hi](const BasicTensor<T>& g, const BasicTensor<T>& xs, const BasicTensor<T>&) {
                    BasicTensor<T> r = g;
                    if (lo) r = rules::ClampMin::vjp_a(xs, *lo, r, r);
                    if (hi) r = rules::ClampMax::vjp_a(xs, *hi, r, r);
                    return r;
                  });
  return out;
}
}  // namespace detail

template <class T>
BasicTensor<T> clamp(const BasicTensor<T>& x, std::optional<std::type_identity_t<T>> min,
                     std::optional<std::type_identity_t<T>> max = std::nullopt) {
  return detail::clamp_op(x, min, max, "ClampBackward1");
}
template <class T>
BasicTensor<T> clamp_min(const BasicTensor<T>& x, std::type_identity_t<T> min) {
  return detail::clamp_op<T>(x, min, std::nullopt, "ClampMinBackward0");
}
template <class T>
BasicTensor<T> clamp_max(const BasicTensor<T>& x, std::type_identity_t<T> max) {
  return detail::clamp_op<T>(x, std::nullopt, max, "ClampMaxBackward0");
}
template <class T>
BasicTensor<T> BasicTensor<T>::clamp(std::optional<T> min, std::optional<T> max) const {
  return detail::clamp_op(*this, min, max, "ClampBackward1");
}
template <class T> BasicTensor<T> BasicTensor<T>::clamp_min(T min) const { return metagrad::clamp_min(*this, min); }
template <class T> BasicTensor<T> BasicTensor<T>::clamp_max(T max) const { return metagrad::clamp_max(*this, max); }

}  // namespace metagrad
