// metagrad/dynamic/structure.hpp — ops that rearrange elements: unsqueeze,
// squeeze and flatten (views), narrow (a slice view), transpose and permute
// (views), cat and stack.
//   unsqueeze/squeeze/flatten: the gradient reshaped back
//   permute(x, p):         d/dx = g.permute(p^-1)              PermuteBackward0
//   transpose(x, d0, d1):  d/dx = g with d0, d1 swapped back   TransposeBackward0
//   cat(xs, d):   d/dxs[i] = g.narrow(d, offset_i, size_i)     CatBackward0
//   stack(xs, d): d/dxs[i] = g.select(d, i)                    StackBackward0
#pragma once
#include "factories.hpp"

namespace metagrad {

template <class T>
BasicTensor<T> BasicTensor<T>::unsqueeze(int d) const {
  d = wrap_dim(d, dim() + 1);
  Sizes s = sizes();
  s.insert(d, 1);
  const BasicTensor c = contiguous();
  return detail::make_view(c, s, detail::contiguous_strides(s), c.impl().offset, ViewStep{ViewStep::Reshape, 0, 0, 0, 1, s},
                           "UnsqueezeBackward0");
}
template <class T>
BasicTensor<T> BasicTensor<T>::squeeze(int d) const {
  if (dim() == 0) return reshape({});
  d = wrap_dim(d, dim());
  if (sizes()[d] != 1) return *this;
  Sizes s = sizes();
  s.erase(d);
  const BasicTensor c = contiguous();
  return detail::make_view(c, s, detail::contiguous_strides(s), c.impl().offset, ViewStep{ViewStep::Reshape, 0, 0, 0, 1, s},
                           "SqueezeBackward1");
}
template <class T>
BasicTensor<T> BasicTensor<T>::squeeze() const {
  Sizes s;
  for (auto v : sizes())
    if (v != 1) s.push_back(v);
  const BasicTensor c = contiguous();
  return detail::make_view(c, s, detail::contiguous_strides(s), c.impl().offset, ViewStep{ViewStep::Reshape, 0, 0, 0, 1, s},
                           "SqueezeBackward0");
}
template <class T>
BasicTensor<T> BasicTensor<T>::flatten() const { return reshape({numel()}); }
/// Elements [start, start + length) along d: a view (SliceBackward0).
template <class T>
BasicTensor<T> BasicTensor<T>::narrow(int d, std::int64_t start, std::int64_t length) const {
  d = wrap_dim(d, dim());
  const std::int64_t n = sizes()[d];
  if (start < 0) start += n;
  detail::check(start >= 0 && length >= 0 && start + length <= n, "start (", start, ") + length (", length,
                ") exceeds dimension size (", n, ").");
  return slice(d, start, start + length);
}

namespace detail {
template <class T>
BasicTensor<T> permuted_view(const BasicTensor<T>& x, const Sizes& dims, const char* node_name) {
  const Sizes& s = x.sizes();
  const Sizes& st = x.strides();
  Sizes ns = s, nst = st;
  for (int i = 0; i < dims.size(); ++i) {
    ns[i] = s[dims[i]];
    nst[i] = st[dims[i]];
  }
  return make_view(x, ns, nst, x.impl().offset, ViewStep{ViewStep::Permute, 0, 0, 0, 1, dims}, node_name);
}
}  // namespace detail

template <class T>
BasicTensor<T> BasicTensor<T>::permute(const Sizes& dims) const {
  detail::check(dims.size() == dim(),
                "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
                "desired ordering of dimensions i.e. input.dim() = ", dim(), " is not equal to len(dims) = ",
                dims.size());
  Sizes p = dims;
  std::vector<bool> seen(dim(), false);
  for (int i = 0; i < p.size(); ++i) {
    p[i] = wrap_dim(static_cast<int>(p[i]), dim());
    detail::check(!seen[p[i]], "permute(): duplicate dims are not allowed.");
    seen[p[i]] = true;
  }
  return detail::permuted_view(*this, p, "PermuteBackward0");
}
template <class T>
BasicTensor<T> BasicTensor<T>::transpose(int d0, int d1) const {
  if (dim() == 0) return detail::permuted_view(*this, Sizes{}, "TransposeBackward0");
  d0 = wrap_dim(d0, dim());
  d1 = wrap_dim(d1, dim());
  Sizes p;
  for (int i = 0; i < dim(); ++i) p.push_back(i);
  std::swap(p[d0], p[d1]);
  return detail::permuted_view(*this, p, "TransposeBackward0");
}
template <class T> BasicTensor<T> permute(const BasicTensor<T>& x, const Sizes& dims) { return x.permute(dims); }
template <class T> BasicTensor<T> transpose(const BasicTensor<T>& x, int d0, int d1) { return x.transpose(d0, d1); }

template <class T> BasicTensor<T> unsqueeze(const BasicTensor<T>& x, int d) { return x.unsqueeze(d); }
template <class T> BasicTensor<T> squeeze(const BasicTensor<T>& x, int d) { return x.squeeze(d); }
template <class T> BasicTensor<T> squeeze(const BasicTensor<T>& x) { return x.squeeze(); }
template <class T> BasicTensor<T> flatten(const BasicTensor<T>& x) { return x.flatten(); }
template <class T> BasicTensor<T> narrow(const BasicTensor<T>& x, int d, std::int64_t start, std::int64_t length) {
  return x.narrow(d, start, length);
}

/// CatBackward0 / StackBackward0: the gradient cut back into the inputs.
template <class T>
class CatNode final : public BasicNode<T> {
 public:
  CatNode(bool stack, int dim, std::vector<std::int64_t> lengths) : stack_(stack), dim_(dim), lengths_(std::move(lengths)) {}
  std::string name() const override { return stack_ ? "StackBackward0" : "CatBackward0"; }
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    std::int64_t off = 0;
    for (int i = 0; i < this->num_edges(); ++i) {
      const std::int64_t len = lengths_[static_cast<std::size_t>(i)];
      if (this->edge(i).valid()) out[i] = stack_ ? g.select(dim_, i) : g.narrow(dim_, off, len);
      off += len;
    }
  }

 private:
  bool stack_;
  int dim_;
  std::vector<std::int64_t> lengths_;
};

namespace detail {
template <class T>
BasicTensor<T> cat_impl(const std::vector<BasicTensor<T>>& xs, int dim, bool stack) {
  check(!xs.empty(), stack ? "stack expects a non-empty TensorList" : "torch.cat(): expected a non-empty list of Tensors");
  const Sizes& first = xs[0].sizes();
  const int nd = first.size() + (stack ? 1 : 0);
  check(nd > 0, "zero-dimensional tensor (at position 0) cannot be concatenated");
  dim = BasicTensor<T>::wrap_dim(dim, nd);
  Sizes out_sizes = first;
  if (stack) out_sizes.insert(dim, 0);
  else out_sizes[dim] = 0;
  std::vector<std::int64_t> lengths;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Sizes& s = xs[i].sizes();
    bool ok = s.size() == first.size();
    for (int k = 0; ok && k < s.size(); ++k) ok = stack ? s[k] == first[k] : (k == dim || s[k] == first[k]);
    if (!ok) {
      if (stack) fail("stack expects each tensor to be equal size, but got ", first, " at entry 0 and ", s, " at entry ", i);
      fail("Sizes of tensors must match except in dimension ", dim, ". Expected sizes ", first, " but got sizes ", s,
           " for tensor number ", i, " in the list.");
    }
    lengths.push_back(stack ? 1 : s[dim]);
    out_sizes[dim] += lengths.back();
  }
  BasicTensor<T> out(new_impl<T>(out_sizes));
  {
    NoGradGuard ng;
    std::int64_t off = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      auto region = out.narrow(dim, off, lengths[i]);
      kernels::copy(region.impl(), stack ? xs[i].unsqueeze(dim).impl() : xs[i].impl());
      off += lengths[i];
    }
  }
  bool any = false;
  for (const auto& x : xs) any = any || x.requires_grad();
  if (is_grad_enabled() && any) {
    auto n = make_node<T, CatNode<T>>(stack, dim, lengths);
    for (const auto& x : xs) n->add_edge(gradient_edge(x));
    set_history(out, n);
  }
  return out;
}
}  // namespace detail

/// xs joined along dim (their other sizes must agree).
template <class T>
BasicTensor<T> cat(const std::vector<BasicTensor<T>>& xs, int dim = 0) { return detail::cat_impl(xs, dim, false); }
inline Tensor cat(const std::vector<Tensor>& xs, int dim = 0) { return detail::cat_impl(xs, dim, false); }
/// xs (all of one shape) stacked along a new dim.
template <class T>
BasicTensor<T> stack(const std::vector<BasicTensor<T>>& xs, int dim = 0) { return detail::cat_impl(xs, dim, true); }
inline Tensor stack(const std::vector<Tensor>& xs, int dim = 0) { return detail::cat_impl(xs, dim, true); }

}  // namespace metagrad
