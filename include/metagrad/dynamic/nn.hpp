// metagrad/dynamic/nn.hpp — mg::nn::functional losses (mean reduction).
//   binary_cross_entropy_with_logits(z, y) = mean(max(z,0) - z*y + log(1+exp(-|z|)))
//     d/dz = (sigmoid(z) - y) / n,  d/dy = -z / n
//   mse_loss(a, b) = mean((a - b)^2)
//     d/da = 2 (a - b) / n,  d/db = -d/da
//   l1_loss(a, b) = mean(|a - b|)  (composed: MeanBackward0 over AbsBackward0, as PyTorch)
//   nll_loss(logp, t) = -mean_i logp[i, t_i] over the i with t_i != ignore_index
//     d/dlogp[i, t_i] = -g / count                             NllLossBackward0
//   cross_entropy(x, t) = nll_loss(log_softmax(x, 1), t)
#pragma once
#include "factories.hpp"
#include "reductions.hpp"

namespace metagrad::nn::functional {

/// softplus(x) = log(1 + e^x) (SoftplusBackward0: d/dx = sigmoid(x)); the row
/// is in the derivative table, so `mg::softplus` is also a static node.
using metagrad::softplus;

template <class T>
class LossNode final : public BasicNode<T> {
 public:
  enum Kind { BCEWithLogits, MSE };
  explicit LossNode(Kind k) : kind_(k) {}
  std::string name() const override {
    return kind_ == BCEWithLogits ? "BinaryCrossEntropyWithLogitsBackward0" : "MseLossBackward0";
  }
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    const auto A = a.unpack(*this), B = b.unpack(*this);
    const auto gn = g / static_cast<T>(A.numel());
    if (kind_ == BCEWithLogits) {
      if (this->edge(0).valid()) out[0] = (sigmoid(A) - B) * gn;
      if (this->edge(1).valid()) out[1] = -A * gn;
    } else {
      const auto d = (A - B) * (gn * T(2));
      if (this->edge(0).valid()) out[0] = d;
      if (this->edge(1).valid()) out[1] = -d;
    }
  }
  void release_variables() override { a.reset(); b.reset(); }
  std::vector<Sizes> saved_sizes() const override { return SavedVariable<T>::shapes(a, b); }
  SavedVariable<T> a, b;
 private:
  Kind kind_;
};

namespace detail {
template <class T>
BasicTensor<T> loss(const BasicTensor<T>& a, const BasicTensor<T>& b, typename LossNode<T>::Kind k, const char* op) {
  metagrad::detail::check(a.sizes() == b.sizes(), op, ": target size (", b.sizes(),
                          ") must be the same as input size (", a.sizes(), ")");
  BasicTensor<T> value;
  {
    NoGradGuard ng;
    if (k == LossNode<T>::BCEWithLogits) {
      auto elem = kernels::binary(a.impl(), b.impl(), [](const auto& z, const auto& y) {
        using std::abs, std::exp, std::log1p, std::max;
        if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(z)>>)
          return max(z, decltype(z)(0)) - z * y + log1p(exp(-abs(z)));
        else
          return (z.max(0) - z * y + math::log1p(math::exp(-z.abs()))).eval();
      });
      value = BasicTensor<T>(std::move(elem)).mean();
    } else {
      auto d = a - b;
      value = (d * d).mean();
    }
  }
  if (is_grad_enabled() && (a.requires_grad() || b.requires_grad())) {
    auto n = make_node<T, LossNode<T>>(k);
    n->add_edge(gradient_edge(a));
    n->add_edge(gradient_edge(b));
    n->a.save(a, false);
    n->b.save(b, false);
    set_history(value, n);
  }
  return value;
}
}  // namespace detail

template <class T>
BasicTensor<T> binary_cross_entropy_with_logits(const BasicTensor<T>& input, const BasicTensor<T>& target) {
  return detail::loss(input, target, LossNode<T>::BCEWithLogits, "binary_cross_entropy_with_logits");
}
template <class T>
BasicTensor<T> mse_loss(const BasicTensor<T>& input, const BasicTensor<T>& target) {
  return detail::loss(input, target, LossNode<T>::MSE, "mse_loss");
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
  T total = 0;
  for (std::int64_t i = 0; i < n; ++i)
    if (t[i] != ignore_index) {
      pick.data_ptr()[i * c + t[i]] = T(-1) / static_cast<T>(count);
      total += lc.data_ptr()[i * c + t[i]];
    }
  BasicTensor<T> out(new_impl<T>(Sizes{}));
  out.data_ptr()[0] = -total / static_cast<T>(count);  // (0/0 = NaN when every target is ignored, as PyTorch)
  record_rule(out, logp, "NllLossBackward0", rules::NllLoss<BasicTensor<T>>{pick});
  return out;
}
template <class T>
BasicTensor<T> cross_entropy(const BasicTensor<T>& input, const BasicTensor<std::int64_t>& target,
                             std::int64_t ignore_index = -100) {
  return nll_loss(log_softmax(input, 1), target, ignore_index);
}

}  // namespace metagrad::nn::functional
