// metagrad/dynamic/reductions.hpp — reductions along a dimension and the
// normalisations built on them, as graph nodes: logsumexp (LogsumexpBackward0),
// softmax (SoftmaxBackward0), log_softmax (LogSoftmaxBackward0), amax
// (AmaxBackward0), max() (MaxBackward1), prod() (ProdBackward0), prod(x, d) (ProdBackward1), cumsum
// (CumsumBackward0), var (VarBackward0), std (StdBackward0), norm
// (NormBackward1). Each line's value and each backward formula are the
// rules' (rules/reductions.hpp; prod's in rules/linalg.hpp); this file walks
// the lines and supplies the dimension (`Along`) the formulas are written
// with. The formulas run on Tensor ops, so create_graph differentiates them.
#pragma once
#include <limits>
#include <vector>

#include "../rules/linalg.hpp"
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
/// out_i = prod_{j != i} x_j along dim, from prefix and suffix products (no
/// division: exact with zeros). Under grad mode (create_graph) it is built
/// from multiplications of slices, so that it is differentiable to any order.
template <class T>
BasicTensor<T> prod_others(const BasicTensor<T>& x, int dim) {
  const std::int64_t n = x.size(dim);
  if (!is_grad_enabled()) {
    return map_lines(x, dim, [](const T* in, T* o, std::int64_t len, std::int64_t s) { rules::Prod::others_line(in, o, len, s); });
  }
  std::vector<BasicTensor<T>> parts(static_cast<std::size_t>(n));
  BasicTensor<T> run = ones_like(x.select(dim, 0));
  for (std::int64_t k = 0; k < n; ++k) parts[k] = run, run = run * x.select(dim, k);
  run = ones_like(run);
  for (std::int64_t k = n - 1; k >= 0; --k) parts[k] = parts[k] * run, run = run * x.select(dim, k);
  return stack(parts, dim);
}

/// The engine's view of the dimension a rule's `vjp_along` is written with
/// (rules/reductions.hpp): one dim, or every element (`dim < 0`).
/// Lines at least this long are worth a loop of their own (packets).
inline constexpr std::int64_t kLongLine = 32;

template <class T>
struct Along {
  Sizes in;  // the input's sizes
  int dim = -1;
  bool keepdim = false;
  T corr = 0;

  BasicTensor<T> back(const BasicTensor<T>& t) const { return dim < 0 ? t : keep_dim(t, in, dim, keepdim); }
  BasicTensor<T> sum(const BasicTensor<T>& t) const { return dim < 0 ? t.sum() : t.sum(dim, true); }
  BasicTensor<T> mean(const BasicTensor<T>& t) const { return dim < 0 ? t.mean() : t.mean(dim, true); }
  BasicTensor<T> cumsum(const BasicTensor<T>& t) const { return t.cumsum(dim); }
  T count() const { return static_cast<T>(dim < 0 ? detail::checked_numel(in) : (in.size() ? in[dim] : 1)); }
  T correction() const { return corr; }
  /// prod_{j != i} x_j along the line: y / x_i when no element is 0, else
  /// prod_others above. A line with a zero has a product of exactly 0, so y
  /// is what is scanned for zeros (one number per line; a product that
  /// underflowed to 0 takes the exact path too).
  BasicTensor<T> prod_others(const BasicTensor<T>& x, const BasicTensor<T>& y) const {
    const auto yc = y.contiguous();
    const T* p = yc.data_ptr();
    if (std::find(p, p + yc.numel(), T(0)) == p + yc.numel()) {
      if (dim >= 0 || is_grad_enabled()) return back(y) / x;
      BasicTensor<T> r(new_impl<T>(x.sizes()));  // y / x in one pass (y is one number)
      kernels::map(r.impl()) = *p / kernels::cmap(x.contiguous().impl());
      return r;
    }
    if (dim < 0) return detail::prod_others(x.reshape({x.numel()}), 0).reshape(x.sizes());
    return detail::prod_others(x, dim);
  }
};

/// The dimension of a reduction over every element when the formula runs on
/// the elements themselves (an Eigen map of x; y and g numbers): what a
/// line's reduction put back along the line is the number itself.
template <class T>
struct WholeAlong {
  T n = 0, corr = 0;
  T back(T v) const { return v; }
  template <class E> T sum(const E& e) const { return e.sum(); }
  template <class E> T mean(const E& e) const { return e.sum() / n; }
  T count() const { return n; }
  T correction() const { return corr; }
  /// prod_{j != i} x_j: y / x_i when the product y is not 0, else from
  /// prefix and suffix products (exact with zeros), as Along's. Kept in this
  /// object's buffer (a map of it is what the formula nests: a plain array
  /// returned here would be nested by reference and die with the formula's
  /// return statement).
  kernels::ConstArrayMap<T> prod_others(const kernels::ConstArrayMap<T>& x, T y) const {
    buffer.resize(static_cast<std::size_t>(x.size()));
    kernels::ArrayMap<T> b(buffer.data(), x.size());
    if (y != T(0)) {
      b = y / x;
    } else {
      rules::Prod::others_line(x.data(), buffer.data(), x.size(), 1);
    }
    return kernels::ConstArrayMap<T>(buffer.data(), x.size());
  }
  mutable std::vector<T> buffer;
};
/// Can rule R's formula over every element run on an Eigen map of x?
template <class R, class T>
concept WholeVjp = (rules::along_needs<R> & rules::kA) != 0 &&
                   requires(const kernels::ConstArrayMap<T>& x, T v, const WholeAlong<T>& d) { R::vjp_along(x, v, v, d); };

/// The node of a reduction along a dimension: rule R's `vjp_along`, with x
/// and y saved only when the formula reads them (probed: rules::along_needs).
template <class R, class T>
class AlongNode final : public BasicNode<T> {
 public:
  static constexpr unsigned needs = rules::along_needs<R>;
  explicit AlongNode(Along<T> d) : d_(std::move(d)) {}
  std::string name() const override { return R::node_name; }
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    if constexpr (requires(const T* p, T* o) { R::vjp_line(p, p, o, std::int64_t{}, std::int64_t{}); }) {
      // (no create_graph: the rule's formula line by line, no temporaries;
      // short lines go as whole tensors, a line costing more than its numbers)
      if (!is_grad_enabled() && d_.in[d_.dim] >= kLongLine) {
        out[0] = vjp_lines(y.unpack(*this), g);
        return;
      }
    }
    if constexpr (WholeVjp<R, T>) {
      // (no create_graph, every element or lines along the last dimension:
      // the formula as one Eigen loop per line over x, with that line's y and
      // g numbers — max(), var(), std(), norm(), prod(), amax, logsumexp —
      // not tensor ops)
      if (!is_grad_enabled() && (d_.dim < 0 || d_.dim == static_cast<int>(d_.in.size()) - 1)) {
        if (auto r = line_vjp(g); r.defined()) {
          out[0] = std::move(r);
          return;
        }
      }
    }
    out[0] = R::vjp_along(unpack_if<(needs & rules::kA) != 0>(x, *this), unpack_if<(needs & rules::kY) != 0>(y, *this), g, d_);
  }
  void release_variables() override { x.reset(); y.reset(); }
  std::vector<Sizes> saved_sizes() const override { return SavedVariable<T>::shapes(x, y); }
  SavedVariable<T> x, y;

 private:
  /// R::vjp_along line by line on contiguous lines of x (every element as
  /// one line when dim < 0); undefined when x is not contiguous.
  BasicTensor<T> line_vjp(const BasicTensor<T>& g) {
    const auto xv = x.unpack(*this);
    if (!xv.is_contiguous()) return {};
    const std::int64_t n = d_.dim < 0 ? xv.numel() : d_.in[d_.dim];
    const std::int64_t lines = n == 0 ? 0 : xv.numel() / n;
    const auto gc = g.contiguous();
    const T* yd = nullptr;
    if constexpr ((needs & rules::kY) != 0) yd = y.checked_impl(*this).data();  // (the op's output: contiguous)
    const T *xd = xv.data_ptr(), *gd = gc.data_ptr();
    BasicTensor<T> r(new_impl<T>(xv.sizes()));
    T* o = r.data_ptr();
    const WholeAlong<T> line{static_cast<T>(n), d_.correction(), {}};
    for (std::int64_t l = 0; l < lines; ++l)
      kernels::ArrayMap<T>(o + l * n, n) =
          R::vjp_along(kernels::ConstArrayMap<T>(xd + l * n, n), yd ? yd[l] : T(0), gd[l], line);
    return r;
  }
  /// R::vjp_line over every line of (y, g) along the node's dim.
  BasicTensor<T> vjp_lines(const BasicTensor<T>& yv, const BasicTensor<T>& g) const {
    const auto yc = yv.contiguous(), gc = g.contiguous();
    BasicTensor<T> r(new_impl<T>(yv.sizes()));
    const T *yd = yc.data_ptr(), *gd = gc.data_ptr();
    T* o = r.data_ptr();
    for_each_line(yc, d_.dim, [&](std::int64_t b, std::int64_t, std::int64_t n, std::int64_t s) {
      R::vjp_line(yd + b, gd + b, o + b, n, s);
    });
    return r;
  }
  Along<T> d_;
};
/// Records rule R's node for out = op(x).
template <class R, class T>
void record_along(BasicTensor<T>& out, const BasicTensor<T>& x, Along<T> d) {
  if constexpr (std::is_floating_point_v<T>) {  // (integer tensors never require grad: no node)
    if (!(is_grad_enabled() && x.requires_grad())) return;
    using N = AlongNode<R, T>;
    auto n = make_node<T, N>(std::move(d));
    add_gradient_edge(*n, x);
    if constexpr ((N::needs & rules::kA) != 0) n->x.save(x, false);
    auto* node = n.get();
    set_history(out, std::move(n));
    if constexpr ((N::needs & rules::kY) != 0) node->y.save(out, true);
  }
}
/// Reduction rule R along dim (every element when dim < 0): the value of each
/// line from R::line(in, n, stride) (var's and std's also take `corr`), and
/// R's node.
template <class R, class T>
BasicTensor<T> reduce_along(const BasicTensor<T>& x, int dim, bool keepdim, T corr = T(0)) {
  const bool all = dim < 0;
  auto line = [&](const T* in, std::int64_t n, std::int64_t s) {
    if constexpr (requires { R::has_correction; }) return R::line(in, n, s, corr);
    else return R::line(in, n, s);
  };
  auto flat = [&] {  // every element as one line (a view recording no node)
    NoGradGuard off;
    return x.reshape({x.numel()});
  };
  auto out = all && x.is_contiguous() ? scalar_tensor<T>(line(x.data_ptr(), x.numel(), 1))
                                      : reduce_lines(all ? flat() : x, all ? 0 : dim, !all && keepdim, line);
  record_along<R>(out, x, Along<T>{x.sizes(), dim, keepdim, corr});
  return out;
}
/// Normalisation or scan rule R along dim: R::map_line fills each line.
template <class R, class T>
BasicTensor<T> map_along(const BasicTensor<T>& x, int dim) {
  auto out = map_lines(x, dim, [](const T* in, T* o, std::int64_t n, std::int64_t s) { R::map_line(in, o, n, s); });
  record_along<R>(out, x, Along<T>{x.sizes(), dim, false, T(0)});
  return out;
}
/// Rule R's op along dim (keepdim for the reductions; var and std biased):
/// what the op lists generated from METAGRAD_FOR_EACH_ALONG call.
template <class R, class T>
BasicTensor<T> along_op(const BasicTensor<T>& x, int dim, bool keepdim) {
  dim = BasicTensor<T>::wrap_dim(dim, x.dim());
  if constexpr (requires(const T* in, T* out) { R::map_line(in, out, std::int64_t{}, std::int64_t{}); })
    return map_along<R>(x, dim);
  else
    return reduce_along<R>(x, dim, keepdim);
}
}  // namespace detail

/// log(sum(exp(x))) along dim, computed stably (max subtracted first).
template <class T>
BasicTensor<T> logsumexp(const BasicTensor<T>& x, int dim, bool keepdim = false) {
  METAGRAD_REQUIRE_FLOATING(T);
  return detail::reduce_along<rules::LogSumExp>(x, BasicTensor<T>::wrap_dim(dim, x.dim()), keepdim);
}
/// exp(x) / sum(exp(x)) along dim.
template <class T>
BasicTensor<T> softmax(const BasicTensor<T>& x, int dim) {
  METAGRAD_REQUIRE_FLOATING(T);
  return detail::map_along<rules::Softmax>(x, BasicTensor<T>::wrap_dim(dim, x.dim()));
}
/// x - logsumexp(x) along dim.
template <class T>
BasicTensor<T> log_softmax(const BasicTensor<T>& x, int dim) {
  METAGRAD_REQUIRE_FLOATING(T);
  return detail::map_along<rules::LogSoftmax>(x, BasicTensor<T>::wrap_dim(dim, x.dim()));
}
/// The largest element along dim; the gradient is shared equally by ties.
template <class T>
BasicTensor<T> amax(const BasicTensor<T>& x, int dim, bool keepdim = false) {
  dim = BasicTensor<T>::wrap_dim(dim, x.dim());
  detail::check(x.numel() > 0, "amax(): Expected reduction dim ", dim, " to have non-zero size.");
  return detail::reduce_along<rules::Amax>(x, dim, keepdim);
}
/// The largest element of x (MaxBackward1: ties share the gradient).
template <class T>
BasicTensor<T> max(const BasicTensor<T>& x) {
  detail::check(x.numel() > 0, "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                               "reduction dim with the 'dim' argument.");
  return detail::reduce_along<rules::Max>(x, -1, false);
}
/// The product of all elements (ProdBackward0) and along dim (ProdBackward1):
/// dx_i = g prod_{j != i} x_j, exact with zeros in every order (the rules
/// rules::Prod and rules::ProdDim through Along::prod_others).
template <class T>
BasicTensor<T> prod(const BasicTensor<T>& x) {
  return detail::reduce_along<rules::Prod>(x, -1, false);
}
template <class T>
BasicTensor<T> prod(const BasicTensor<T>& x, int dim, bool keepdim = false) {
  return detail::reduce_along<rules::ProdDim>(x, BasicTensor<T>::wrap_dim(dim, x.dim()), keepdim);
}
/// Running sums along dim.
template <class T>
BasicTensor<T> cumsum(const BasicTensor<T>& x, int dim) {
  return detail::map_along<rules::Cumsum>(x, BasicTensor<T>::wrap_dim(dim, x.dim()));
}
/// A bool tensor's product and running sum are int64, as its sum is.
inline BasicTensor<std::int64_t> prod(const BasicTensor<bool>& x) { return prod(detail::counts(x)); }
inline BasicTensor<std::int64_t> prod(const BasicTensor<bool>& x, int dim, bool keepdim = false) {
  return prod(detail::counts(x), dim, keepdim);
}
inline BasicTensor<std::int64_t> cumsum(const BasicTensor<bool>& x, int dim) { return cumsum(detail::counts(x), dim); }

namespace detail {
/// var (Std = false) or std along dim (all elements when dim < 0).
template <class T, bool Std>
BasicTensor<T> moment2(const BasicTensor<T>& x, int dim, bool unbiased, bool keepdim) {
  METAGRAD_REQUIRE_FLOATING(T);
  const T corr = unbiased ? T(1) : T(0);
  return reduce_along<rules::Moment2<Std>>(x, dim, keepdim, corr);
}
template <class T>
BasicTensor<T> norm2(const BasicTensor<T>& x, int dim, bool keepdim) {
  METAGRAD_REQUIRE_FLOATING(T);
  return reduce_along<rules::Norm>(x, dim, keepdim);
}
}  // namespace detail

/// The Euclidean (2-) norm of all elements / along dim.
template <class T> BasicTensor<T> norm(const BasicTensor<T>& x) { return detail::norm2(x, -1, false); }
template <class T> BasicTensor<T> norm(const BasicTensor<T>& x, int dim, bool keepdim = false) {
  return detail::norm2(x, BasicTensor<T>::wrap_dim(dim, x.dim()), keepdim);
}

template <class T> BasicTensor<detail::accumulate_t<T>> BasicTensor<T>::prod() const { return metagrad::prod(*this); }
template <class T> BasicTensor<detail::accumulate_t<T>> BasicTensor<T>::prod(int d, bool keepdim) const {
  return metagrad::prod(*this, d, keepdim);
}
template <class T> BasicTensor<detail::accumulate_t<T>> BasicTensor<T>::cumsum(int d) const { return metagrad::cumsum(*this, d); }
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
