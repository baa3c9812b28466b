// metagrad/dynamic/nn.hpp — mg::nn::functional losses (mean reduction).
//   binary_cross_entropy_with_logits(z, y), mse_loss(a, b): one node each,
//     their rules in rules/losses.hpp (dz = (sigmoid(z) - y) g / n, ...)
//   l1_loss(a, b) = mean(|a - b|)  (composed: MeanBackward0 over AbsBackward0, as PyTorch)
//   nll_loss(logp, t) = -mean_i logp[i, t_i] over the i with t_i != ignore_index
//     d/dlogp[i, t_i] = -g / count                             NllLossBackward0
//   cross_entropy(x, t) = nll_loss(log_softmax(x, 1), t)
#pragma once
#include "factories.hpp"
#include "../rules/losses.hpp"
#include "reductions.hpp"
#include "rule_node.hpp"

namespace metagrad::nn::functional {

/// softplus(x) = log(1 + e^x) (SoftplusBackward0: d/dx = sigmoid(x)); the row
/// is in the derivative table, so `mg::softplus` is also a static node.
using metagrad::softplus;

namespace detail {
/// A loss of two same-shape tensors whose backward is rule R (rules/losses.hpp),
/// run by a PairNode that saves only what R's formulas read.
template <class R, class T>
BasicTensor<T> loss(const BasicTensor<T>& a, const BasicTensor<T>& b, const char* op) {
  metagrad::detail::check(a.sizes() == b.sizes(), op, ": target size (", b.sizes(),
                          ") must be the same as input size (", a.sizes(), ")");
  BasicTensor<T> value;
  {
    NoGradGuard ng;
    if constexpr (std::is_same_v<R, rules::BceWithLogits>) {
      auto elem = kernels::binary(a.impl(), b.impl(), [](const auto& z, const auto& y) { return R::term(z, y); });
      value = BasicTensor<T>(std::move(elem)).mean();
    } else {
      auto d = a - b;
      value = (d * d).mean();
    }
  }
  record_pair_rule<R>(value, a, b, R::node_name);
  return value;
}
}  // namespace detail

template <class T>
BasicTensor<T> binary_cross_entropy_with_logits(const BasicTensor<T>& input, const BasicTensor<T>& target) {
  return detail::loss<rules::BceWithLogits>(input, target, "binary_cross_entropy_with_logits");
}
template <class T>
BasicTensor<T> mse_loss(const BasicTensor<T>& input, const BasicTensor<T>& target) {
  return detail::loss<rules::MseLoss>(input, target, "mse_loss");
}

template <class T>
BasicTensor<T> l1_loss(const BasicTensor<T>& input, const BasicTensor<T>& target) {
  return (input - target).abs().mean();
}

/// The mean negative log-likelihood of class indices t (int64, shape N) under
/// log-probabilities logp (N x C); targets equal to ignore_index count for nothing.
template <class T>
BasicTensor<T> nll_loss(const BasicTensor<T>& logp, const BasicTensor<std::int64_t>& target,
                        std::int64_t ignore_index = -100) {
  using metagrad::detail::check;
  using metagrad::detail::fail;
  check(logp.dim() == 2, "nll_loss: expected a 2-d input (batch x classes), got shape ", logp.sizes());
  check(target.dim() == 1, "nll_loss: expected a 1-d target of class indices, got shape ", target.sizes());
  const std::int64_t n = logp.size(0), c = logp.size(1);
  if (target.size(0) != n)
    fail("Expected input batch_size (", n, ") to match target batch_size (", target.size(0), ").");
  const auto tc = target.contiguous();
  const auto lc = logp.contiguous();
  const std::int64_t* t = tc.data_ptr();
  // The weights of the picked entries: -1/count at [i, t_i] (a constant of the graph).
  BasicTensor<T> pick(new_impl<T>({n, c}));
  kernels::fill(pick.impl(), T(0));
  std::int64_t count = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (t[i] == ignore_index) continue;
    if (t[i] < 0 || t[i] >= c) fail("Target ", t[i], " is out of bounds.");
    ++count;
  }
  T total = 0;  // (the negated sum, from +0: a loss of 0 is +0, as PyTorch's)
  for (std::int64_t i = 0; i < n; ++i)
    if (t[i] != ignore_index) {
      pick.data_ptr()[i * c + t[i]] = T(-1) / static_cast<T>(count);
      total -= lc.data_ptr()[i * c + t[i]];
    }
  BasicTensor<T> out(new_impl<T>(Sizes{}));
  out.data_ptr()[0] = total / static_cast<T>(count);  // (0/0 = NaN when every target is ignored, as PyTorch)
  record_rule(out, logp, "NllLossBackward0", rules::NllLoss<BasicTensor<T>>{pick});
  return out;
}
template <class T>
BasicTensor<T> cross_entropy(const BasicTensor<T>& input, const BasicTensor<std::int64_t>& target,
                             std::int64_t ignore_index = -100) {
  return nll_loss(log_softmax(input, 1), target, ignore_index);
}

}  // namespace metagrad::nn::functional
