// metagrad/dynamic/reductions.hpp — reductions along a dimension and the
// normalisations built on them. With y the output and g its gradient (g and
// y broadcast back along the reduced dimension):
//   logsumexp(x, d):   d/dx = g exp(x - y)                    LogsumexpBackward0
//   softmax(x, d):     d/dx = y (g - sum_d(g y))              SoftmaxBackward0
//   log_softmax(x, d): d/dx = g - exp(y) sum_d(g)             LogSoftmaxBackward0
//   amax(x, d):        d/dx = g [x == y] / #(x == y)           AmaxBackward0
//   max(x):            the same over all elements             MaxBackward1
//   prod(x, d):        d/dx_i = g prod_{j != i} x_j            ProdBackward1
//                      (exact with zeros; with create_graph the products of
//                      the others are recorded as multiplications, so every
//                      order is exact too)
//   cumsum(x, d):      d/dx = reversed cumsum of g along d     CumsumBackward0
//   var(x, d):         d/dx = 2 g (x - mean) / (N - c)        VarBackward0
//   std(x, d):         d/dx = g (x - mean) / ((N - c) y)      StdBackward0
//   norm(x, d):        d/dx = g x / y                         NormBackward1
// (c = 1 for the unbiased estimate; std and norm give 0 where y = 0, as PyTorch.)
// Each backward is written with Tensor ops, so create_graph differentiates it.
#pragma once
#include <limits>

#include "../rules/reductions.hpp"
#include "compare.hpp"
#include "structure.hpp"

namespace metagrad {
namespace detail {
/// Calls f(in, out, n, stride) for every line of contiguous x along dim:
/// n elements `stride` apart starting at `in`; `out` is the line's slot in a
/// result with that dim reduced (for reductions) or the line itself.
template <class T, class F>
void for_each_line(const BasicTensor<T>& x, int dim, F&& f) {
  std::int64_t outer = 1, inner = 1;
  for (int i = 0; i < dim; ++i) outer *= x.sizes()[i];
  for (int i = dim + 1; i < x.dim(); ++i) inner *= x.sizes()[i];
  const std::int64_t n = x.dim() ? x.sizes()[dim] : 1;
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) f(o * n * inner + i, o * inner + i, n, inner);
}
inline Sizes reduced_sizes(const Sizes& s, int dim, bool keepdim) {
  Sizes r = s;
  if (r.size() == 0) return r;
  if (keepdim) r[dim] = 1;
  else r.erase(dim);
  return r;
}
/// g (reduced along dim, keepdim or not) with dim back as size 1.
template <class T>
BasicTensor<T> keep_dim(const BasicTensor<T>& g, const Sizes& in, int dim, bool keepdim) {
  if (keepdim || in.size() == 0) return g;
  return g.reshape(reduced_sizes(in, dim, true));
}
/// out[r] = f(line, n, stride) for every line of x along dim (dim reduced):
/// `line` points at the line's first element, the others `stride` apart.
template <class T, class F>
BasicTensor<T> reduce_lines(const BasicTensor<T>& x, int dim, bool keepdim, F&& f) {
  const auto c = x.contiguous();
  BasicTensor<T> out(new_impl<T>(reduced_sizes(x.sizes(), dim, keepdim)));
  const T* xd = c.data_ptr();
  T* o = out.data_ptr();
  for_each_line(c, dim, [&](std::int64_t b, std::int64_t r, std::int64_t n, std::int64_t s) { o[r] = f(xd + b, n, s); });
  return out;
}
/// out = x's shape, f(in_line, out_line, n, stride) filling each line along dim.
template <class T, class F>
BasicTensor<T> map_lines(const BasicTensor<T>& x, int dim, F&& f) {
  const auto c = x.contiguous();
  BasicTensor<T> out(new_impl<T>(x.sizes()));
  const T* xd = c.data_ptr();
  T* o = out.data_ptr();
  for_each_line(c, dim, [&](std::int64_t b, std::int64_t, std::int64_t n, std::int64_t s) { f(xd + b, o + b, n, s); });
  return out;
}
/// A node whose backward is a formula of g, the saved input x and output y.
template <class T, class F>
class ReduceDimNode final : public BasicNode<T> {
 public:
  ReduceDimNode(const char* n, F f) : name_(n), f_(std::move(f)) {}
  std::string name() const override { return name_; }
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    out[0] = f_(g, x.defined() ? x.unpack(*this) : BasicTensor<T>{}, y.defined() ? y.unpack(*this) : BasicTensor<T>{});
  }
  void release_variables() override { x.reset(); y.reset(); }
  std::vector<Sizes> saved_sizes() const override { return SavedVariable<T>::shapes(x, y); }
  SavedVariable<T> x, y;

 private:
  const char* name_;
  F f_;
};
/// Records node `name` with backward f(g, x, y) for out = op(x).
template <class T, class F>
void record_dim_node(BasicTensor<T>& out, const BasicTensor<T>& x, const char* name, bool save_x, bool save_y, F f) {
  if (!(is_grad_enabled() && x.requires_grad())) return;
  auto n = make_node<T, ReduceDimNode<T, F>>(name, std::move(f));
  n->add_edge(gradient_edge(x));
  if (save_x) n->x.save(x, false);
  set_history(out, n);
  if (save_y) n->y.save(out, true);
}
}  // namespace detail

/// log(sum(exp(x))) along dim, computed stably (max subtracted first).
template <class T>
BasicTensor<T> logsumexp(const BasicTensor<T>& x, int dim, bool keepdim = false) {
  dim = BasicTensor<T>::wrap_dim(dim, x.dim());
  const Sizes in = x.sizes();
  auto out = detail::reduce_lines(x, dim, keepdim, [](const T* line, std::int64_t n, std::int64_t s) {
    T m = -std::numeric_limits<T>::infinity();
    for (std::int64_t k = 0; k < n; ++k) m = std::max(m, line[k * s]);
    if (!std::isfinite(m)) return m;
    T sum = 0;
    for (std::int64_t k = 0; k < n; ++k) sum += std::exp(line[k * s] - m);
    return std::log(sum) + m;
  });
  detail::record_dim_node(out, x, "LogsumexpBackward0", true, true,
                          [in, dim, keepdim](const BasicTensor<T>& g, const BasicTensor<T>& xs, const BasicTensor<T>& y) {
                            return rules::LogSumExp::vjp(xs, detail::keep_dim(y, in, dim, keepdim),
                                                         detail::keep_dim(g, in, dim, keepdim));
                          });
  return out;
}

/// exp(x) / sum(exp(x)) along dim.
template <class T>
BasicTensor<T> softmax(const BasicTensor<T>& x, int dim) {
  dim = BasicTensor<T>::wrap_dim(dim, x.dim());
  auto out = detail::map_lines(x, dim, [](const T* in, T* o, std::int64_t n, std::int64_t s) {
    T m = -std::numeric_limits<T>::infinity();
    for (std::int64_t k = 0; k < n; ++k) m = std::max(m, in[k * s]);
    T sum = 0;
    for (std::int64_t k = 0; k < n; ++k) sum += (o[k * s] = std::exp(in[k * s] - m));
    for (std::int64_t k = 0; k < n; ++k) o[k * s] /= sum;
  });
  detail::record_dim_node(out, x, "SoftmaxBackward0", false, true,
                          [dim](const BasicTensor<T>& g, const BasicTensor<T>&, const BasicTensor<T>& y) {
                            return y * (g - (g * y).sum(dim, true));
                          });
  return out;
}

/// x - logsumexp(x) along dim.
template <class T>
BasicTensor<T> log_softmax(const BasicTensor<T>& x, int dim) {
  dim = BasicTensor<T>::wrap_dim(dim, x.dim());
  BasicTensor<T> out;
  {
    NoGradGuard ng;
    out = (x - logsumexp(x, dim, true)).contiguous();
    if (out.impl_ptr() == x.impl_ptr()) out = x.clone();
  }
  detail::record_dim_node(out, x, "LogSoftmaxBackward0", false, true,
                          [dim](const BasicTensor<T>& g, const BasicTensor<T>&, const BasicTensor<T>& y) {
                            return g - exp(y) * g.sum(dim, true);
                          });
  return out;
}

/// The largest element along dim; the gradient is shared equally by ties.
template <class T>
BasicTensor<T> amax(const BasicTensor<T>& x, int dim, bool keepdim = false) {
  dim = BasicTensor<T>::wrap_dim(dim, x.dim());
  const Sizes in = x.sizes();
  detail::check(x.numel() > 0, "amax(): Expected reduction dim ", dim, " to have non-zero size.");
  auto out = detail::reduce_lines(x, dim, keepdim, [](const T* line, std::int64_t n, std::int64_t s) {
    T m = line[0];  // NaN wins, as in PyTorch
    for (std::int64_t k = 1; k < n && !std::isnan(m); ++k)
      if (const T v = line[k * s]; std::isnan(v) || v > m) m = v;
    return m;
  });
  detail::record_dim_node(out, x, "AmaxBackward0", true, true,
                          [in, dim, keepdim](const BasicTensor<T>& g, const BasicTensor<T>& xs, const BasicTensor<T>& y) {
                            const auto hit = where(xs == detail::keep_dim(y, in, dim, keepdim), T(1), zeros_like(xs));
                            return hit * (detail::keep_dim(g, in, dim, keepdim) / hit.sum(dim, true));
                          });
  return out;
}

/// The largest element of x (MaxBackward1: ties share the gradient).
template <class T>
BasicTensor<T> max(const BasicTensor<T>& x) {
  BasicTensor<T> out;
  {
    NoGradGuard ng;
    out = amax(x.reshape({x.numel()}), 0, false);
  }
  detail::record_dim_node(out, x, "MaxBackward1", true, true,
                          [](const BasicTensor<T>& g, const BasicTensor<T>& xs, const BasicTensor<T>& y) {
                            const auto hit = where(xs == y, T(1), zeros_like(xs));
                            return hit * (g / hit.sum());
                          });
  return out;
}

namespace detail {
/// out_i = prod_{j != i} x_j along dim, from prefix and suffix products (no
/// division: exact with zeros). Under grad mode (create_graph) it is built
/// from multiplications of slices, so that it is differentiable to any order.
template <class T>
BasicTensor<T> prod_others(const BasicTensor<T>& x, int dim) {
  const std::int64_t n = x.size(dim);
  if (!is_grad_enabled()) {
    return map_lines(x, dim, [](const T* in, T* o, std::int64_t len, std::int64_t s) {
      T run = 1;
      for (std::int64_t k = 0; k < len; ++k) o[k * s] = run, run *= in[k * s];
      run = 1;
      for (std::int64_t k = len - 1; k >= 0; --k) o[k * s] *= run, run *= in[k * s];
    });
  }
  std::vector<BasicTensor<T>> parts(static_cast<std::size_t>(n));
  BasicTensor<T> run = ones_like(x.select(dim, 0));
  for (std::int64_t k = 0; k < n; ++k) parts[k] = run, run = run * x.select(dim, k);
  run = ones_like(run);
  for (std::int64_t k = n - 1; k >= 0; --k) parts[k] = parts[k] * run, run = run * x.select(dim, k);
  return stack(parts, dim);
}
}  // namespace detail

/// The product along dim.
template <class T>
BasicTensor<T> prod(const BasicTensor<T>& x, int dim, bool keepdim = false) {
  dim = BasicTensor<T>::wrap_dim(dim, x.dim());
  const Sizes in = x.sizes();
  auto out = detail::reduce_lines(x, dim, keepdim, [](const T* line, std::int64_t n, std::int64_t s) {
    T p = 1;
    for (std::int64_t k = 0; k < n; ++k) p *= line[k * s];
    return p;
  });
  detail::record_dim_node(out, x, "ProdBackward1", true, true,
                          [in, dim, keepdim](const BasicTensor<T>& g, const BasicTensor<T>& xs, const BasicTensor<T>& y) {
                            const auto gk = detail::keep_dim(g, in, dim, keepdim);
                            const auto xc = xs.contiguous();
                            const T* p = xc.data_ptr();
                            if (std::find(p, p + xc.numel(), T(0)) == p + xc.numel())
                              return gk * detail::keep_dim(y, in, dim, keepdim) / xs;  // y / x_i: the others' product
                            return gk * detail::prod_others(xs, dim);
                          });
  return out;
}

/// Running sums along dim.
template <class T>
BasicTensor<T> cumsum(const BasicTensor<T>& x, int dim) {
  dim = BasicTensor<T>::wrap_dim(dim, x.dim());
  auto out = detail::map_lines(x, dim, [](const T* in, T* o, std::int64_t n, std::int64_t s) {
    T acc = 0;
    for (std::int64_t k = 0; k < n; ++k) o[k * s] = (acc += in[k * s]);
  });
  detail::record_dim_node(out, x, "CumsumBackward0", false, false,
                          [dim](const BasicTensor<T>& g, const BasicTensor<T>&, const BasicTensor<T>&) {
                            return g.sum(dim, true) - cumsum(g, dim) + g;  // sum_{j >= i} g_j
                          });
  return out;
}

namespace detail {
/// The dims a reduction covers: one (dim >= 0) or all (dim < 0).
template <class T>
std::int64_t reduced_count(const BasicTensor<T>& x, int dim) { return dim < 0 ? x.numel() : (x.dim() ? x.size(dim) : 1); }
template <class T>
BasicTensor<T> keep_all_or_dim(const BasicTensor<T>& g, const Sizes& in, int dim, bool keepdim) {
  return dim < 0 ? g : keep_dim(g, in, dim, keepdim);
}
/// var (Std = false) or std along dim (all elements when dim < 0).
template <class T, bool Std>
BasicTensor<T> moment2(const BasicTensor<T>& x, int dim, bool unbiased, bool keepdim) {
  if (dim >= 0) dim = BasicTensor<T>::wrap_dim(dim, x.dim());
  const Sizes in = x.sizes();
  const T corr = unbiased ? T(1) : T(0);
  // (all elements: one line of the flattened tensor, reduced to 0-d)
  auto out = reduce_lines(dim < 0 ? x.reshape({x.numel()}) : x, dim < 0 ? 0 : dim, dim >= 0 && keepdim,
                          [corr](const T* line, std::int64_t n, std::int64_t s) {
                            T mean = 0;
                            for (std::int64_t k = 0; k < n; ++k) mean += line[k * s];
                            mean /= static_cast<T>(n);
                            T ss = 0;
                            for (std::int64_t k = 0; k < n; ++k) ss += (line[k * s] - mean) * (line[k * s] - mean);
                            const T v = ss / (static_cast<T>(n) - corr);
                            return Std ? std::sqrt(v) : v;
                          });
  const T denom = static_cast<T>(reduced_count(x, dim)) - corr;
  record_dim_node(out, x, Std ? "StdBackward0" : "VarBackward0", true, Std,
                  [in, dim, keepdim, denom](const BasicTensor<T>& g, const BasicTensor<T>& xs, const BasicTensor<T>& y) {
                    const auto centred = dim < 0 ? xs - xs.mean() : xs - xs.mean(dim, true);
                    if constexpr (Std) {
                      const auto gy = where(y == T(0), T(0), g / (y * T(denom)));
                      return keep_all_or_dim(gy, in, dim, keepdim) * centred;
                    } else {
                      return keep_all_or_dim(g, in, dim, keepdim) * centred * (T(2) / denom);
                    }
                  });
  return out;
}
template <class T>
BasicTensor<T> norm2(const BasicTensor<T>& x, int dim, bool keepdim) {
  if (dim >= 0) dim = BasicTensor<T>::wrap_dim(dim, x.dim());
  const Sizes in = x.sizes();
  auto out = reduce_lines(dim < 0 ? x.reshape({x.numel()}) : x, dim < 0 ? 0 : dim, dim >= 0 && keepdim,
                          [](const T* line, std::int64_t n, std::int64_t s) {
                            T scale = 0;  // scaled sum of squares: no overflow or underflow for extreme values
                            for (std::int64_t k = 0; k < n; ++k) scale = std::max(scale, std::abs(line[k * s]));
                            if (scale == T(0) || !std::isfinite(scale)) return scale;
                            T ss = 0;
                            for (std::int64_t k = 0; k < n; ++k) ss += (line[k * s] / scale) * (line[k * s] / scale);
                            return scale * std::sqrt(ss);
                          });
  record_dim_node(out, x, "NormBackward1", true, true,
                  [in, dim, keepdim](const BasicTensor<T>& g, const BasicTensor<T>& xs, const BasicTensor<T>& y) {
                    return xs * keep_all_or_dim(where(y == T(0), T(0), g / y), in, dim, keepdim);
                  });
  return out;
}
}  // namespace detail

/// The Euclidean (2-) norm of all elements / along dim.
template <class T> BasicTensor<T> norm(const BasicTensor<T>& x) { return detail::norm2(x, -1, false); }
template <class T> BasicTensor<T> norm(const BasicTensor<T>& x, int dim, bool keepdim = false) {
  return detail::norm2(x, BasicTensor<T>::wrap_dim(dim, x.dim()), keepdim);
}

template <class T> BasicTensor<T> BasicTensor<T>::prod() const { return metagrad::prod(*this); }
template <class T> BasicTensor<T> BasicTensor<T>::prod(int d, bool keepdim) const { return metagrad::prod(*this, d, keepdim); }
template <class T> BasicTensor<T> BasicTensor<T>::cumsum(int d) const { return metagrad::cumsum(*this, d); }
// var and std are members only (`t.var()`, `t.std(0)`): `mg::var` names a
// static variable.
template <class T> BasicTensor<T> BasicTensor<T>::var(bool unbiased) const {
  return detail::moment2<T, false>(*this, -1, unbiased, false);
}
template <class T> BasicTensor<T> BasicTensor<T>::var(int d, bool unbiased, bool keepdim) const {
  return detail::moment2<T, false>(*this, wrap_dim(d, dim()), unbiased, keepdim);
}
template <class T> BasicTensor<T> BasicTensor<T>::std(bool unbiased) const {
  return detail::moment2<T, true>(*this, -1, unbiased, false);
}
template <class T> BasicTensor<T> BasicTensor<T>::std(int d, bool unbiased, bool keepdim) const {
  return detail::moment2<T, true>(*this, wrap_dim(d, dim()), unbiased, keepdim);
}
template <class T> BasicTensor<T> BasicTensor<T>::norm() const { return metagrad::norm(*this); }
template <class T> BasicTensor<T> BasicTensor<T>::norm(int d, bool keepdim) const { return metagrad::norm(*this, d, keepdim); }

template <class T> BasicTensor<T> BasicTensor<T>::logsumexp(int d, bool keepdim) const { return metagrad::logsumexp(*this, d, keepdim); }
template <class T> BasicTensor<T> BasicTensor<T>::softmax(int d) const { return metagrad::softmax(*this, d); }
template <class T> BasicTensor<T> BasicTensor<T>::log_softmax(int d) const { return metagrad::log_softmax(*this, d); }
template <class T> BasicTensor<T> BasicTensor<T>::amax(int d, bool keepdim) const { return metagrad::amax(*this, d, keepdim); }
template <class T> BasicTensor<T> BasicTensor<T>::max() const { return metagrad::max(*this); }

}  // namespace metagrad
