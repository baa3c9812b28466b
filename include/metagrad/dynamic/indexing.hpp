// metagrad/dynamic/indexing.hpp — ops that pick elements by an index tensor
// (int64, e.g. `mg::tensor({2, 0, 2})`): index_select and gather, and their
// adjoints, which add the gradient back into zeros at the same places:
//   index_select(x, d, i):  d/dx = zeros_like(x).index_add(d, i, g)    IndexSelectBackward0
//   gather(x, d, i):        d/dx = zeros_like(x).scatter_add(d, i, g)  GatherBackward0
// The adjoints are ops of their own (IndexAddBackward0, ScatterAddBackward0)
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

inline void check_index_select(const Sizes& in, int dim, const IndexTensor& index) {
  check(index.dim() <= 1, "index_select(): Index is supposed to be a vector");
  const std::int64_t n = in.size() ? in[dim] : 1;
  const auto ic = index.contiguous();
  for (std::int64_t k = 0; k < ic.numel(); ++k)
    if (const auto i = ic.data_ptr()[k]; i < 0 || i >= n)
      fail("index out of range in self (index_select: index ", i, " for dimension ", dim, " of size ", n,
           ", input of size ", in, ")");
}

inline void check_gather(const Sizes& in, int dim, const IndexTensor& index) {
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

template <class T> BasicTensor<T> index_add_zeros(const BasicTensor<T>& g, int dim, const IndexTensor& index,
                                                  const Sizes& sizes);
template <class T> BasicTensor<T> scatter_add_zeros(const BasicTensor<T>& g, int dim, const IndexTensor& index,
                                                    const Sizes& sizes);
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
  const Sizes in = x.sizes();
  detail::record_closure_node(out, x, "IndexSelectBackward0", false, false,
                          [dim, ic, in](const BasicTensor<T>& g, const BasicTensor<T>&, const BasicTensor<T>&) {
                            return detail::index_add_zeros(g, dim, ic, in);
                          });
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
  const Sizes in = x.sizes();
  detail::record_closure_node(out, x, "GatherBackward0", false, false,
                          [dim, ic, in](const BasicTensor<T>& g, const BasicTensor<T>&, const BasicTensor<T>&) {
                            return detail::scatter_add_zeros(g, dim, ic, in);
                          });
  return out;
}

namespace detail {
/// zeros(sizes) with g's slices added at index along dim (index_select's adjoint).
template <class T>
BasicTensor<T> index_add_zeros(const BasicTensor<T>& g, int dim, const IndexTensor& index, const Sizes& sizes) {
  const auto gc = g.contiguous();
  BasicTensor<T> out(new_impl<T>(sizes));
  kernels::fill(out.impl(), T(0));
  const auto [outer, n, inner] = split_at(sizes, dim);
  const std::int64_t m = index.numel();
  const T* gd = gc.data_ptr();
  T* o = out.data_ptr();
  const std::int64_t* id = index.data_ptr();
  for (std::int64_t a = 0; a < outer; ++a)
    for (std::int64_t k = 0; k < m; ++k) {
      T* dst = o + (a * n + id[k]) * inner;
      const T* src = gd + (a * m + k) * inner;
      for (std::int64_t i = 0; i < inner; ++i) dst[i] += src[i];
    }
  record_closure_node(out, g, "IndexAddBackward0", false, false,
                  [dim, index](const BasicTensor<T>& gg, const BasicTensor<T>&, const BasicTensor<T>&) {
                    return index_select(gg, dim, index);
                  });
  return out;
}

/// zeros(sizes) with g's elements added at index along dim (gather's adjoint).
template <class T>
BasicTensor<T> scatter_add_zeros(const BasicTensor<T>& g, int dim, const IndexTensor& index, const Sizes& sizes) {
  const auto gc = g.contiguous();
  BasicTensor<T> out(new_impl<T>(sizes));
  kernels::fill(out.impl(), T(0));
  const Sizes os = contiguous_strides(sizes);
  const T* gd = gc.data_ptr();
  T* o = out.data_ptr();
  const std::int64_t* id = index.data_ptr();
  for_each_index(index.sizes(), [&](const Sizes& at, std::int64_t k) {
    std::int64_t off = 0;
    for (int d = 0; d < at.size(); ++d) off += (d == dim ? id[k] : at[d]) * os[d];
    o[off] += gd[k];
  });
  record_closure_node(out, g, "ScatterAddBackward0", false, false,
                  [dim, index](const BasicTensor<T>& gg, const BasicTensor<T>&, const BasicTensor<T>&) {
                    return gather(gg, dim, index);
                  });
  return out;
}
}  // namespace detail

template <class T>
BasicTensor<T> BasicTensor<T>::index_select(int d, const BasicTensor<std::int64_t>& index) const {
  return metagrad::index_select(*this, d, index);
}
template <class T>
BasicTensor<T> BasicTensor<T>::gather(int d, const BasicTensor<std::int64_t>& index) const {
  return metagrad::gather(*this, d, index);
}

}  // namespace metagrad
