// metagrad/dynamic/clamp.hpp — clamp(x, min, max) and its one-sided forms:
// every element limited to [min, max] (NaN stays NaN; with min > max every
// element is max, as in PyTorch). The gradient passes where x is inside:
//   clamp(x, lo, hi):  d/dx = g [lo <= x <= hi]       ClampBackward1
//   clamp_min(x, lo):  d/dx = g [x >= lo]             ClampMinBackward0
//   clamp_max(x, hi):  d/dx = g [x <= hi]             ClampMaxBackward0
// (a missing bound is no condition; the masks are constants of the graph).
// The backward formulas are rules::ClampMin / ClampMax's (rules/select.hpp),
// with the bounds as arguments (rules::Clamp, ClampMinArg, ClampMaxArg).
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
  BasicTensor<T> out(std::in_place, [&] {
    return kernels::unary(x.impl(), [limit](const auto& v) {
      if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(v)>>) return limit(v);
      else return v.unaryExpr(limit);
    });
  });
  // The formulas are the table's ClampMin / ClampMax (rules/select.hpp) with
  // constant bounds (rules/structure.hpp); what they read is probed, and they
  // run as one fused loop (UnaryNode with the bounds in its rule).
  if (lo && hi) record_unary(out, x, name, rules::Clamp<T>{*lo, *hi});
  else if (lo) record_unary(out, x, name, rules::ClampMinArg<T>{*lo});
  else record_unary(out, x, name, rules::ClampMaxArg<T>{*hi});
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
