// metagrad/dynamic/tensor_members.hpp — the BasicTensor members every tensor
// has, declared in tensor.hpp: its autograd state (requires_grad, is_leaf,
// grad_fn — regenerated as AsStridedBackward0 for a view whose base changed
// in place —, requires_grad_, retain_grad, hooks) and element access (item,
// at, is_nonzero, to_eigen).
#pragma once
#include "views.hpp"

namespace metagrad {

template <class T>
bool BasicTensor<T>::requires_grad() const {
  const auto& m = impl();
  return m.requires_grad || grad_fn_ref() != nullptr;
}

template <class T>
bool BasicTensor<T>::is_leaf() const { return grad_fn_ref() == nullptr; }

template <class T>
std::shared_ptr<BasicNode<T>> BasicTensor<T>::grad_fn() const { return grad_fn_ref(); }

template <class T>
const std::shared_ptr<BasicNode<T>>& BasicTensor<T>::grad_fn_ref() const {
  auto& m = impl();
  // (an integer or bool tensor never requires grad, so neither does the base
  // of such a view: nothing to regenerate, and nothing instantiated for it)
  if constexpr (std::is_floating_point_v<T>)
    if (const auto* x = m.extras_if_any(); x && x->view_base && x->view_version != m.storage->version) [[unlikely]]
      regenerate_view_grad_fn();
  return m.grad_fn;
}

template <class T>
void BasicTensor<T>::regenerate_view_grad_fn() const {
  // the base changed in place since this view's history was recorded:
  // regenerate it as a view of the base's current history
  auto& m = impl();
  auto& x = m.extras();
  x.view_version = m.storage->version;
  BasicTensor base(x.view_base);
  if (base.requires_grad()) {
    // (recorded whatever the grad mode: the view's history is its base's)
    using R = rules::AsStrided<std::shared_ptr<const ViewChain>>;
    auto n = make_node<T, RuleNode<R, T>>("AsStridedBackward0", R{x.view_base->sizes, x.view_chain});
    add_gradient_edge(*n, base);
    m.grad_fn = std::move(n);
    m.output_nr = 0;
  }
}

template <class T>
BasicTensor<T>& BasicTensor<T>::requires_grad_(bool r) {
  if (!is_leaf())
    detail::fail("you can only change requires_grad flags of leaf variables. If you want to use a computed "
                 "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
  detail::check_can_require_grad<T>(r);
  impl().requires_grad = r;
  return *this;
}

template <class T>
void BasicTensor<T>::retain_grad() const {
  detail::check(requires_grad(), "can't retain_grad on Tensor that has requires_grad=False");
  if (is_leaf() || impl().retains_grad) return;
  impl().retains_grad = true;
  grad_fn()->hooks().retain_grad.push_back(impl_ptr());
}

template <class T>
template <class U>
U BasicTensor<T>::item() const {
  if (numel() != 1)
    detail::fail("a Tensor with ", numel(), " elements cannot be converted to Scalar "
                 "(only one element tensors can be converted to C++ scalars)");
  return static_cast<U>(*data_ptr());
}

template <class T>
template <class F>
unsigned BasicTensor<T>::register_hook(F&& fn) const {
  detail::check(requires_grad(), "cannot register a hook on a tensor that doesn't require gradient");
  TensorHook<T> h;
  h.output_nr = impl().output_nr;
  if constexpr (std::is_void_v<std::invoke_result_t<F&, const BasicTensor&>>) {
    h.fn = [f = std::forward<F>(fn)](const BasicTensor& g) mutable { f(g); return BasicTensor(); };
  } else {
    h.fn = [f = std::forward<F>(fn)](const BasicTensor& g) mutable { return BasicTensor(f(g)); };
  }
  auto fn_ = grad_fn();
  auto& hooks = fn_ ? fn_->hooks().tensor_hooks : impl().extras().hooks;
  hooks.push_back(std::move(h));
  return static_cast<unsigned>(hooks.size() - 1);
}

template <class T>
void BasicTensor<T>::remove_hook(unsigned handle) const {
  auto fn_ = grad_fn();
  auto& hooks = fn_ ? fn_->hooks().tensor_hooks : impl().extras().hooks;
  detail::check(handle < hooks.size(), "Invalid index, no hook at position ", handle);
  hooks[handle].fn = nullptr;
}

template <class T>
bool BasicTensor<T>::is_nonzero() const {
  detail::check(numel() == 1, "Boolean value of Tensor with more than one value is ambiguous");
  return item() != T(0);
}

template <class T>
T BasicTensor<T>::at(std::initializer_list<std::int64_t> idx) const {
  detail::check(static_cast<int>(idx.size()) == dim(), "at(): expected ", dim(), " indices, got ", idx.size());
  std::int64_t off = impl().offset;
  int d = 0;
  for (auto i : idx) {
    const std::int64_t n = sizes()[d];
    if (i < -n || i >= n) detail::fail("index ", i, " is out of bounds for dimension ", d, " with size ", n);
    off += (i < 0 ? i + n : i) * strides()[d];
    ++d;
  }
  return impl().storage->data[off];
}

template <class T>
Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> BasicTensor<T>::to_eigen() const {
  detail::check(dim() <= 2, "to_eigen(): expected a tensor with <= 2 dimensions, got ", sizes());
  if (dim() == 0) return Eigen::Matrix<T, 1, 1>::Constant(item());
  return kernels::mat(impl());
}

}  // namespace metagrad
