// metagrad/dynamic/indexing.hpp — ops that pick elements by an index tensor
// (int64, e.g. `mg::tensor({2, 0, 2})`): index_select and gather, and their
// adjoints index_select_backward and gather_backward, which add the gradient
// back into zeros at the same places. The backward formulas are the rules
// IndexSelect, Gather, IndexAdd and ScatterAdd (rules/structure.hpp); the
// adjoints are ops of their own (IndexAddBackward0, ScatterAddBackward0)
// whose backward is index_select / gather again, so create_graph works.
#pragma once
#include "reductions.hpp"

namespace metagrad {
namespace detail {
using IndexTensor = BasicTensor<std::int64_t>;

/// Calls f(coords, k) for every element of a contiguous tensor of sizes s, k
/// its linear position (an odometer over the multi-index).
template <class F>
void for_each_index(const Sizes& s, F&& f) {
  std::int64_t n = 1;
  for (auto v : s) n *= v;
  Sizes c = s;
  for (auto& v : c) v = 0;
  for (std::int64_t k = 0; k < n; ++k) {
    f(c, k);
    for (int d = s.size() - 1; d >= 0; --d) {
      if (++c[d] < s[d]) break;
      c[d] = 0;
    }
  }
}

/// Lines along dim: outer (dims before), n (dim), inner (dims after).
inline std::array<std::int64_t, 3> split_at(const Sizes& s, int dim) {
  std::int64_t outer = 1, inner = 1;
  for (int i = 0; i < dim; ++i) outer *= s[i];
  for (int i = dim + 1; i < s.size(); ++i) inner *= s[i];
  return {outer, s.size() ? s[dim] : 1, inner};
}

/// (check_index_select and check_gather are templates on the index's element
/// type, std::int64_t, so that reading an index tensor, contiguous(), is
/// instantiated only where an op takes one, not in every translation unit.)
template <class I>
void check_index_select(const Sizes& in, int dim, const BasicTensor<I>& index) {
  check(index.dim() <= 1, "index_select(): Index is supposed to be a vector");
  const std::int64_t n = in.size() ? in[dim] : 1;
  const auto ic = index.contiguous();
  for (std::int64_t k = 0; k < ic.numel(); ++k)
    if (const auto i = ic.data_ptr()[k]; i < 0 || i >= n)
      fail("index out of range in self (index_select: index ", i, " for dimension ", dim, " of size ", n,
           ", input of size ", in, ")");
}

template <class I>
void check_gather(const Sizes& in, int dim, const BasicTensor<I>& index) {
  check(index.dim() == in.size(), "Index tensor must have the same number of dimensions as input tensor");
  for (int d = 0; d < in.size(); ++d)
    if (d != dim && index.sizes()[d] > in[d])
      fail("Size does not match at dimension ", d, " expected index ", index.sizes(), " to be smaller than self ", in,
           " apart from dimension ", dim);
  const std::int64_t n = in.size() ? in[dim] : 1;
  const auto ic = index.contiguous();
  for (std::int64_t k = 0; k < ic.numel(); ++k)
    if (const auto i = ic.data_ptr()[k]; i < 0 || i >= n)
      fail("gather(): index ", i, " is out of bounds for dimension ", dim, " with size ", n);
}

}  // namespace detail

/// The slices index[k] of x along dim, in that order (repeats allowed).
template <class T>
BasicTensor<T> index_select(const BasicTensor<T>& x, int dim, const BasicTensor<std::int64_t>& index) {
  dim = BasicTensor<T>::wrap_dim(dim, x.dim());
  detail::check_index_select(x.sizes(), dim, index);
  const auto c = x.contiguous();
  const auto ic = index.contiguous();
  Sizes out_sizes = x.sizes();
  if (out_sizes.size()) out_sizes[dim] = ic.numel();
  BasicTensor<T> out(new_impl<T>(out_sizes));
  const auto [outer, n, inner] = detail::split_at(x.sizes(), dim);
  const std::int64_t m = ic.numel();
  const T* xd = c.data_ptr();
  T* o = out.data_ptr();
  const std::int64_t* id = ic.data_ptr();
  for (std::int64_t a = 0; a < outer; ++a)
    for (std::int64_t k = 0; k < m; ++k)
      std::copy_n(xd + (a * n + id[k]) * inner, inner, o + (a * m + k) * inner);
  record_rule(out, x, "IndexSelectBackward0", [&] { return rules::IndexSelect<detail::IndexTensor>{dim, ic, x.sizes()}; });
  return out;
}

/// out[..., j, ...] = x[..., index[..., j, ...], ...] along dim (index has
/// x's number of dims and is no larger than x in the others).
template <class T>
BasicTensor<T> gather(const BasicTensor<T>& x, int dim, const BasicTensor<std::int64_t>& index) {
  dim = BasicTensor<T>::wrap_dim(dim, x.dim());
  detail::check_gather(x.sizes(), dim, index);
  const auto c = x.contiguous();
  const auto ic = index.contiguous();
  BasicTensor<T> out(new_impl<T>(ic.sizes()));
  const Sizes xs = detail::contiguous_strides(x.sizes());
  const T* xd = c.data_ptr();
  T* o = out.data_ptr();
  const std::int64_t* id = ic.data_ptr();
  detail::for_each_index(ic.sizes(), [&](const Sizes& at, std::int64_t k) {
    std::int64_t off = 0;
    for (int d = 0; d < at.size(); ++d) off += (d == dim ? id[k] : at[d]) * xs[d];
    o[k] = xd[off];
  });
  record_rule(out, x, "GatherBackward0", [&] { return rules::Gather<detail::IndexTensor>{dim, ic, x.sizes()}; });
  return out;
}

/// zeros(sizes) with g's slices added at index along dim: index_select's
/// adjoint (IndexAddBackward0: its own backward is index_select again).
template <class T>
BasicTensor<T> index_select_backward(const BasicTensor<T>& g, const Sizes& sizes, int dim,
                                     const BasicTensor<std::int64_t>& index) {
  dim = BasicTensor<T>::wrap_dim(dim, sizes.size());
  detail::check_index_select(sizes, dim, index);
  Sizes want = sizes;
  if (want.size()) want[dim] = index.numel();
  detail::check(g.sizes() == want, "index_select_backward: the gradient's shape ", g.sizes(), " must be ", want);
  const auto gc = g.contiguous();
  const auto ic = index.contiguous();
  BasicTensor<T> out(new_impl<T>(sizes));
  kernels::fill(out.impl(), T(0));
  const auto [outer, n, inner] = detail::split_at(sizes, dim);
  const std::int64_t m = ic.numel();
  const T* gd = gc.data_ptr();
  T* o = out.data_ptr();
  const std::int64_t* id = ic.data_ptr();
  for (std::int64_t a = 0; a < outer; ++a)
    for (std::int64_t k = 0; k < m; ++k) {
      T* dst = o + (a * n + id[k]) * inner;
      const T* src = gd + (a * m + k) * inner;
      for (std::int64_t i = 0; i < inner; ++i) dst[i] += src[i];
    }
  record_rule(out, g, "IndexAddBackward0", [&] { return rules::IndexAdd<detail::IndexTensor>{dim, index}; });
  return out;
}

/// zeros(sizes) with g's elements added at index along dim: gather's adjoint
/// (ScatterAddBackward0: its own backward is gather again).
template <class T>
BasicTensor<T> gather_backward(const BasicTensor<T>& g, const Sizes& sizes, int dim,
                               const BasicTensor<std::int64_t>& index) {
  dim = BasicTensor<T>::wrap_dim(dim, sizes.size());
  detail::check_gather(sizes, dim, index);
  detail::check(g.sizes() == index.sizes(), "gather_backward: the gradient's shape ", g.sizes(),
                " must be the index's ", index.sizes());
  const auto gc = g.contiguous();
  const auto ic = index.contiguous();
  BasicTensor<T> out(new_impl<T>(sizes));
  kernels::fill(out.impl(), T(0));
  const Sizes os = detail::contiguous_strides(sizes);
  const T* gd = gc.data_ptr();
  T* o = out.data_ptr();
  const std::int64_t* id = ic.data_ptr();
  detail::for_each_index(ic.sizes(), [&](const Sizes& at, std::int64_t k) {
    std::int64_t off = 0;
    for (int d = 0; d < at.size(); ++d) off += (d == dim ? id[k] : at[d]) * os[d];
    o[off] += gd[k];
  });
  record_rule(out, g, "ScatterAddBackward0", [&] { return rules::ScatterAdd<detail::IndexTensor>{dim, index}; });
  return out;
}

template <class T>
BasicTensor<T> BasicTensor<T>::index_select(int d, const BasicTensor<std::int64_t>& index) const {
  return metagrad::index_select(*this, d, index);
}
template <class T>
BasicTensor<T> BasicTensor<T>::gather(int d, const BasicTensor<std::int64_t>& index) const {
  return metagrad::gather(*this, d, index);
}

}  // namespace metagrad
