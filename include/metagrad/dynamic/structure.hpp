// metagrad/dynamic/structure.hpp — ops that rearrange elements: unsqueeze,
// squeeze and flatten (views), narrow (a slice view), transpose and permute
// (views), cat and stack. Their backward formulas are rules/structure.hpp's:
//   unsqueeze/squeeze/flatten: the gradient reshaped back      (Reshape)
//   permute(x, p):         d/dx = permute(g, p^-1)             PermuteBackward0 (Permute)
//   transpose(x, d0, d1):  the same, p swapping d0 and d1      TransposeBackward0 (Permute)
//   cat(xs, d):   d/dxs[i] = narrow(g, d, offset_i, size_i)    CatBackward0 (Cat)
//   stack(xs, d): d/dxs[i] = select(g, d, i)                   StackBackward0 (Stack)
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

template <class T> BasicTensor<T> unsqueeze(const BasicTensor<T>& x, int d) { return x.unsqueeze(d); }
template <class T> BasicTensor<T> squeeze(const BasicTensor<T>& x, int d) { return x.squeeze(d); }
template <class T> BasicTensor<T> squeeze(const BasicTensor<T>& x) { return x.squeeze(); }
template <class T> BasicTensor<T> flatten(const BasicTensor<T>& x) { return x.flatten(); }

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
      if (s.size() != first.size())
        fail("Tensors must have same number of dimensions: got ", first.size(), " and ", s.size(), " (cat)");
      int k = 0;  // (PyTorch's phrase names the first dimension that differs)
      while (k == dim || s[k] == first[k]) ++k;
      fail("Sizes of tensors must match except in dimension ", dim, ". Expected size ", first[k], " but got size ", s[k],
           " for tensor number ", i, " in the list. (cat: sizes ", first, " and ", s, ")");
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
  if (stack) {
    record_list_rule(out, xs, "StackBackward0", rules::Stack{dim});
  } else {
    std::vector<std::int64_t> offsets(lengths.size(), 0);
    for (std::size_t i = 1; i < lengths.size(); ++i) offsets[i] = offsets[i - 1] + lengths[i - 1];
    record_list_rule(out, xs, "CatBackward0", rules::Cat{dim, std::move(offsets), std::move(lengths)});
  }
  return out;
}
}  // namespace detail

/// xs joined along dim (their other sizes must agree). A braced list of
/// tensors of one element type, `cat({a, b})`, keeps that type, as libtorch's
/// TensorList does (index tensors join as index tensors); a mixed one,
/// `cat({x, idx})`, is joined as double. (One template rather than a Tensor
/// overload beside it, so that a translation unit that never joins tensors
/// instantiates nothing here.)
template <class T = double>
BasicTensor<T> cat(const std::vector<BasicTensor<T>>& xs, int dim = 0) { return detail::cat_impl(xs, dim, false); }
template <class T>
BasicTensor<T> cat(std::initializer_list<BasicTensor<T>> xs, int dim = 0) {
  return cat<T>(std::vector<BasicTensor<T>>(xs), dim);
}
/// xs (all of one shape) stacked along a new dim.
template <class T = double>
BasicTensor<T> stack(const std::vector<BasicTensor<T>>& xs, int dim = 0) { return detail::cat_impl(xs, dim, true); }
template <class T>
BasicTensor<T> stack(std::initializer_list<BasicTensor<T>> xs, int dim = 0) {
  return stack<T>(std::vector<BasicTensor<T>>(xs), dim);
}

}  // namespace metagrad
