// metagrad/dynamic/kernels.hpp — the numeric kernels under the dynamic ops,
// with no autograd: broadcasting, strided N-d loops, Eigen fast paths for
// contiguous operands (vectorised, one pass over memory), reductions, copies
// and matrix products.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cstring>

#include "tensor.hpp"

namespace metagrad::kernels {

template <class T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

template <class T>
ConstArrayMap<T> cmap(const TensorImpl<T>& t) { return ConstArrayMap<T>(t.data(), t.numel); }
template <class T>
ArrayMap<T> map(TensorImpl<T>& t) {
  return ArrayMap<T>(t.data(), t.numel);
}

/// numpy broadcasting of two shapes; `op` names the operation in the error.
inline Sizes broadcast_shapes(const Sizes& a, const Sizes& b) {
  const int n = std::max(a.size(), b.size());
  Sizes out;
  out.resize(n);
  for (int i = n - 1; i >= 0; --i) {  // (from the last dimension: PyTorch names the last mismatch)
    const int ia = a.size() - n + i, ib = b.size() - n + i;
    const std::int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      detail::fail("The size of tensor a (", da, ") must match the size of tensor b (", db,
                   ") at non-singleton dimension ", i);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// Strides that read `t` as if broadcast to `out` (0 on broadcast dims).
template <class T>
Sizes broadcast_strides(const TensorImpl<T>& t, const Sizes& out) {
  Sizes s;
  s.resize(out.size());
  const int off = out.size() - t.sizes.size();
  for (int i = 0; i < out.size(); ++i) {
    const int j = i - off;
    s[i] = (j < 0 || t.sizes[j] == 1) ? 0 : t.strides[j];
  }
  return s;
}

/// Calls f(offsets) for every index of `sizes` in row-major order, where
/// offsets[k] is the element offset of operand k (given by its strides).
template <int K, class F>
void nd_loop(const Sizes& sizes, const std::array<Sizes, K>& strides, F&& f) {
  const int nd = sizes.size();
  std::array<std::int64_t, K> off{};
  std::int64_t total = 1;
  for (auto d : sizes) total *= d;
  if (total == 0) return;
  if (nd == 0) { f(off); return; }
  std::int64_t idx[kMaxDims] = {};
  const std::int64_t inner = sizes[nd - 1];
  std::array<std::int64_t, K> inner_stride;
  for (int k = 0; k < K; ++k) inner_stride[k] = strides[k][nd - 1];
  for (std::int64_t done = 0; done < total; done += inner) {
    auto o = off;
    for (std::int64_t i = 0; i < inner; ++i) {
      f(o);
      for (int k = 0; k < K; ++k) o[k] += inner_stride[k];
    }
    for (int d = nd - 2; d >= 0; --d) {  // carry into the outer dims
      if (++idx[d] < sizes[d]) {
        for (int k = 0; k < K; ++k) off[k] += strides[k][d];
        break;
      }
      for (int k = 0; k < K; ++k) off[k] -= strides[k][d] * (sizes[d] - 1);
      idx[d] = 0;
    }
  }
}

/// A one-element tensor is computed by the rule's scalar form, whose
/// transcendentals are <cmath>'s (as the strided loops and static scalars):
/// glibc's functions are built for latency, the vector kernels for
/// throughput, and one lane of a packet kernel took ~4x as long as glibc's
/// sin, which a chain of one-element ops pays at every step.
template <class T>
bool one_element(const TensorImpl<T>& t) { return t.numel == 1; }

/// Strided and broadcasting kernels work a row at a time from this many elements on.
inline constexpr std::int64_t kRowMin = 8;

/// Every index reads one element: a number, or a number expanded (all
/// strides 0, as a sum's gradient on its way back).
template <class T>
bool reads_one_element(const TensorImpl<T>& t) {
  if (t.numel == 0) return false;
  for (int i = 0; i < t.sizes.size(); ++i)
    if (t.sizes[i] > 1 && t.strides[i] != 0) return false;
  return true;
}

template <class T>
void copy(TensorImpl<T>& dst, const TensorImpl<T>& src);

/// out = f(x) elementwise; f is generic (called on Eigen arrays or scalars).
template <class T, class F>
std::shared_ptr<TensorImpl<T>> unary(const TensorImpl<T>& x, F&& f) {
  auto out = new_impl<T>(x.sizes);
  if (one_element(x)) {
    *out->data() = f(*x.data());
  } else if (reads_one_element(x)) {
    map(*out).setConstant(f(*x.data()));
  } else if (x.is_contiguous()) {
    map(*out) = f(cmap(x));
  } else if (x.has_internal_overlap()) {
    // expanded: f once per distinct element, the result broadcast
    TensorImpl<T> distinct;
    distinct.storage = x.storage;
    distinct.offset = x.offset;
    distinct.sizes = x.sizes;
    distinct.strides = x.strides;
    for (int i = 0; i < x.sizes.size(); ++i)
      if (x.strides[i] == 0) distinct.sizes[i] = 1;
    distinct.numel = detail::checked_numel(distinct.sizes);
    copy(*out, *unary(distinct, f));
  } else {
    T* o = out->data();
    const T* xd = x.data();
    const int nd = x.sizes.size();
    if (x.sizes[nd - 1] >= kRowMin && x.strides[nd - 1] == 1) {
      // dense rows (a slice of rows, rows expanded): the rule's vector form
      // a row at a time, not one scalar call per element
      using Row = Eigen::Array<T, Eigen::Dynamic, 1>;
      const std::int64_t inner = x.sizes[nd - 1];
      Sizes rows = x.sizes;
      rows[nd - 1] = 1;
      std::int64_t r = 0;
      nd_loop<1>(rows, {x.strides}, [&](const auto& off) {
        Eigen::Map<Row>(o + (r++) * inner, inner) = f(Eigen::Map<const Row>(xd + off[0], inner));
      });
    } else {
      std::int64_t i = 0;
      nd_loop<1>(x.sizes, {x.strides}, [&](const auto& off) { o[i++] = f(xd[off[0]]); });
    }
  }
  return out;
}


/// out = f(a, b) elementwise with broadcasting.
template <class T, class F>
std::shared_ptr<TensorImpl<T>> binary(const TensorImpl<T>& a, const TensorImpl<T>& b, F&& f) {
  const bool same = a.sizes == b.sizes;
  const Sizes shape = same ? a.sizes : broadcast_shapes(a.sizes, b.sizes);
  auto out = new_impl<T>(shape);
  if (one_element(*out)) {
    *out->data() = f(*a.data(), *b.data());
  } else if (same && a.is_contiguous() && b.is_contiguous()) {
    map(*out) = f(cmap(a), cmap(b));
  } else if (reads_one_element(b) && a.sizes == shape && a.is_contiguous()) {
    map(*out) = f(cmap(a), *b.data());
  } else if (reads_one_element(a) && b.sizes == shape && b.is_contiguous()) {
    map(*out) = f(*a.data(), cmap(b));
  } else {
    T* o = out->data();
    const T *ad = a.data(), *bd = b.data();
    const Sizes sa = broadcast_strides(a, shape), sb = broadcast_strides(b, shape);
    const int nd = shape.size();
    const std::int64_t inner = nd > 0 ? shape[nd - 1] : 1;
    const std::int64_t ia = nd > 0 ? sa[nd - 1] : 0, ib = nd > 0 ? sb[nd - 1] : 0;
    if (inner >= kRowMin && ((ia == 1 && ib == 0) || (ia == 0 && ib == 1))) {
      // one operand's row dense, the other's one broadcast number (a column
      // against a matrix, an outer sum or product): the rule's Eigen-array
      // form per row, vectorised, instead of one call per element (3-4x at
      // 64 x 64; where both rows are dense g++ vectorises the loop below
      // itself, faster than a Map per row for rows under ~1000 elements)
      using Row = Eigen::Array<T, Eigen::Dynamic, 1>;
      Sizes rows = shape;
      rows[nd - 1] = 1;
      std::int64_t r = 0;
      nd_loop<2>(rows, {sa, sb}, [&](const auto& off) {
        Eigen::Map<Row> dst(o + (r++) * inner, inner);
        if (ia) dst = f(Eigen::Map<const Row>(ad + off[0], inner), bd[off[1]]);
        else dst = f(ad[off[0]], Eigen::Map<const Row>(bd + off[1], inner));
      });
    } else {
      std::int64_t i = 0;
      nd_loop<2>(shape, {sa, sb}, [&](const auto& off) { o[i++] = f(ad[off[0]], bd[off[1]]); });
    }
  }
  return out;
}

/// dst (a strided region) = src broadcast to dst's shape.
template <class T>
void copy(TensorImpl<T>& dst, const TensorImpl<T>& src) {
  if (dst.sizes == src.sizes && dst.is_contiguous() && src.is_contiguous()) {
    if (dst.data() != src.data()) std::memmove(dst.data(), src.data(), sizeof(T) * static_cast<std::size_t>(dst.numel));
    return;
  }
  if (dst.is_contiguous() && reads_one_element(src)) {  // a number broadcast
    map(dst).setConstant(*src.data());
    return;
  }
  T* d = dst.data();
  const T* s = src.data();
  const Sizes ss = broadcast_strides(src, dst.sizes);
  const int nd = dst.sizes.size();
  if (nd > 0 && dst.sizes[nd - 1] >= kRowMin && dst.strides[nd - 1] == 1 && ss[nd - 1] == 0) {
    // a column broadcast into dense rows (expand(...).contiguous()): each row
    // filled at once, 3.5x at 64 x 64 (dense-to-dense rows stay on the element
    // loop, which g++ vectorises better than a memmove per short row)
    const std::int64_t inner = dst.sizes[nd - 1];
    Sizes rows = dst.sizes;
    rows[nd - 1] = 1;
    nd_loop<2>(rows, {dst.strides, ss}, [&](const auto& off) { std::fill_n(d + off[0], inner, s[off[1]]); });
    return;
  }
  nd_loop<2>(dst.sizes, {dst.strides, ss}, [&](const auto& off) { d[off[0]] = s[off[1]]; });
}

template <class T>
void fill(TensorImpl<T>& dst, T v) {
  if (dst.is_contiguous()) { map(dst).setConstant(v); return; }
  T* d = dst.data();
  nd_loop<1>(dst.sizes, {dst.strides}, [&](const auto& off) { d[off[0]] = v; });
}

template <class T>
std::shared_ptr<TensorImpl<T>> contiguous_copy(const TensorImpl<T>& x) {
  auto out = new_impl<T>(x.sizes);
  copy(*out, x);
  return out;
}

/// Sums `x` down to `target` (which x broadcasts from): the adjoint of broadcasting.
template <class T>
std::shared_ptr<TensorImpl<T>> sum_to(const TensorImpl<T>& x, const Sizes& target) {
  auto out = new_impl<T>(target);
  map(*out).setZero();
  if (target.size() == 0 || out->numel == 1) {
    T s = 0;  // (from +0, as PyTorch's: a sum of -0s is +0)
    if (x.is_contiguous()) s += cmap(x).sum();
    else {
      const T* xd = x.data();
      nd_loop<1>(x.sizes, {x.strides}, [&](const auto& off) { s += xd[off[0]]; });
    }
    *out->data() = s;
    return out;
  }
  T* o = out->data();
  const T* xd = x.data();
  const Sizes so = broadcast_strides(*out, x.sizes);
  const int nd = x.sizes.size();
  const std::int64_t inner = x.sizes[nd - 1], ix = x.strides[nd - 1], io = so[nd - 1];
  if (inner >= kRowMin && ix == 1 && io == 0) {
    // a dense row summed into one element of the target (the gradient of a
    // column broadcast): a vectorised sum per row instead of one serial chain
    // of additions into the same element (12x at 64 x 64)
    using Row = Eigen::Array<T, Eigen::Dynamic, 1>;
    Sizes rows = x.sizes;
    rows[nd - 1] = 1;
    nd_loop<2>(rows, {x.strides, so}, [&](const auto& off) { o[off[1]] += Eigen::Map<const Row>(xd + off[0], inner).sum(); });
    return out;
  }
  nd_loop<2>(x.sizes, {x.strides, so}, [&](const auto& off) { o[off[1]] += xd[off[0]]; });
  return out;
}

/// A 2-d strided Eigen view of a tensor (rows x cols).
template <class T>
using MatMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                          Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
template <class T>
MatMap<T> mat(const TensorImpl<T>& t) {
  if (t.sizes.size() == 1)  // a vector as a column
    return MatMap<T>(t.data(), t.sizes[0], 1, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(t.strides[0], t.strides[0]));
  return MatMap<T>(t.data(), t.sizes[0], t.sizes[1],
                   Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(t.strides[0], t.strides[1]));
}
template <class T>
using OutMat = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
template <class T>
using DenseMat = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

/// A 1-d/2-d product operand as one of two dense forms: row-major (a tensor
/// or a 1-d tensor as a column) or the transpose of a row-major one (a `t()`
/// view). Any other layout is copied to a row-major buffer first (Eigen
/// copies a general strided map into a temporary for its kernels anyway), and
/// so is B when both are transposed (rare): every product then instantiates
/// Eigen's product for three layout pairs, not nine (a g++ -O0 build of a
/// program that uses `matmul`: 18 s -> 10 s).
template <class T>
struct GemmOperand {
  std::shared_ptr<TensorImpl<T>> copy;  // a row-major copy of a strided operand
  const T* data = nullptr;
  std::int64_t rows = 0, cols = 0;
  bool transposed = false;  // data holds the cols x rows row-major transpose
  explicit GemmOperand(const TensorImpl<T>& t) {
    rows = t.sizes[0];
    cols = t.sizes.size() == 2 ? t.sizes[1] : 1;
    if (t.is_contiguous()) {
      data = t.data();
    } else if (t.sizes.size() == 2 && t.strides[0] == 1 && t.strides[1] == rows) {
      data = t.data();
      transposed = true;
    } else {
      copy = contiguous_copy(t);
      data = copy->data();
    }
  }
  template <class K> void visit(K&& k) const {
    if (transposed) k(DenseMat<T>(data, cols, rows).transpose());
    else k(DenseMat<T>(data, rows, cols));
  }
};

/// out (r x c, contiguous) = A * B for 1-d (as columns) or 2-d strided
/// operands; `a_transposed` multiplies by A^T instead (a 1-d a: the row a^T).
template <class T>
void gemm(T* out, const TensorImpl<T>& a, const TensorImpl<T>& b, std::int64_t r, std::int64_t c,
          bool a_transposed = false) {
  OutMat<T> o(out, r, c);
  GemmOperand<T> A(a), B(b);
  if (a_transposed) {
    std::swap(A.rows, A.cols);
    A.transposed = !A.transposed;
  }
  if (A.transposed && B.transposed) {
    B.copy = contiguous_copy(b);
    B.data = B.copy->data();
    B.transposed = false;
  }
  A.visit([&](const auto& am) {
    B.visit([&](const auto& bm) {
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(am)>, DenseMat<T>> ||
                    std::is_same_v<std::remove_cvref_t<decltype(bm)>, DenseMat<T>>)
        o.noalias() = am * bm;
    });
  });
}

/// out (n x m, contiguous) = a b^T for 1-d strided a (n) and b (m): row i
/// is a_i b, one vectorised scaling per row (as matrices, Eigen ran a
/// general product with an inner dimension of 1: 5x slower at 64 x 64).
template <class T>
void outer(T* out, const TensorImpl<T>& a, const TensorImpl<T>& b) {
  const std::int64_t n = a.sizes[0], m = b.sizes[0], sa = a.strides[0];
  const T* ad = a.data();
  using Row = Eigen::Array<T, 1, Eigen::Dynamic>;
  auto rows = [&](const auto& bv) {
    for (std::int64_t i = 0; i < n; ++i) Eigen::Map<Row>(out + i * m, m) = ad[i * sa] * bv;
  };
  if (b.strides[0] == 1) rows(Eigen::Map<const Row>(b.data(), m));
  else rows(Eigen::Map<const Row, 0, Eigen::InnerStride<>>(b.data(), m, Eigen::InnerStride<>(b.strides[0])));
}

}  // namespace metagrad::kernels
