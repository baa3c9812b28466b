// metagrad/dynamic/tensor.hpp — mg::BasicTensor<T> (mg::Tensor for double):
// a handle to a TensorImpl, with PyTorch's tensor API. Operations are defined
// in ops.hpp, backward in engine.hpp, printing in print.hpp.
#pragma once
#include <Eigen/Core>
#include <initializer_list>
#include <optional>
#include <type_traits>
#include <variant>

#include "../rules/elementwise.hpp"
#include "core.hpp"

namespace metagrad {

/// Options of the factories; `mg::requires_grad()` makes the common one.
struct TensorOptions {
  bool requires_grad_ = false;
  TensorOptions requires_grad(bool r = true) const { TensorOptions o = *this; o.requires_grad_ = r; return o; }
};
inline TensorOptions requires_grad(bool r = true) { return TensorOptions{}.requires_grad(r); }

namespace detail {
/// The element type of a sum, product or running sum: a bool tensor counts
/// (int64), as PyTorch promotes it — `(pred == target).sum()` is a number.
template <class T>
using accumulate_t = std::conditional_t<std::is_same_v<T, bool>, std::int64_t, T>;

/// Integer and bool tensors (indices, masks, counts) never require grad: no
/// derivative is defined on them. libtorch refuses with this sentence in
/// `requires_grad_()` and in every factory given `requires_grad()`.
template <class T>
void check_can_require_grad(bool r) {
  if constexpr (!std::is_floating_point_v<T>)
    check(!r, "Only Tensors of floating point and complex dtype can require gradients");
}
}  // namespace detail

/// `a:b` in Python: Slice() is `:`, Slice(a) is `a:`, negative counts from the end.
struct Slice {
  std::optional<std::int64_t> start, stop;
  std::int64_t step = 1;
  Slice() = default;
  Slice(std::optional<std::int64_t> a, std::optional<std::int64_t> b = std::nullopt, std::int64_t s = 1)
      : start(a), stop(b), step(s) {}
};

/// libtorch's spelling, `using namespace torch::indexing;` ported as
/// `using namespace mg::indexing;`: `Slice(1, None)` is `1:`.
namespace indexing {
using metagrad::Slice;
inline constexpr std::nullopt_t None = std::nullopt;
}  // namespace indexing

/// One entry of `t.index({...})`: an integer (selects, drops the dim) or a Slice.
class TensorIndex {
 public:
  TensorIndex(std::int64_t i) : v_(i) {}
  TensorIndex(int i) : v_(static_cast<std::int64_t>(i)) {}
  TensorIndex(Slice s) : v_(s) {}
  bool is_integer() const { return v_.index() == 0; }
  std::int64_t integer() const { return std::get<0>(v_); }
  const Slice& slice() const { return std::get<1>(v_); }
 private:
  std::variant<std::int64_t, Slice> v_;
};

template <class T>
class BasicTensor {
 public:
  using value_type = T;
  using Impl = TensorImpl<T>;

  BasicTensor() = default;
  // (two overloads rather than one by value: a copied handle is then built
  // in place, not on the stack and reloaded — a failed store-to-load forward
  // in every saved tensor's unpack)
  explicit BasicTensor(std::shared_ptr<Impl>&& impl) : impl_(std::move(impl)) {}
  explicit BasicTensor(const std::shared_ptr<Impl>& impl) : impl_(impl) {}
  /// The handle `make()` returns, built in place (no move of a just-made
  /// handle: g++ copies one as a 16-byte vector right after writing it as two
  /// words, a failed store-to-load forward — 6 ns of a 25 ns one-element op).
  template <class Make>
    requires std::is_invocable_r_v<std::shared_ptr<Impl>, Make&>
  BasicTensor(std::in_place_t, Make&& make) : impl_(make()) {}
  /// A condition or an integer tensor used as numbers (libtorch's implicit
  /// promotion, e.g. `Tensor mask = v > 0;`): a copy of the values, no history.
  template <class U>
    requires(!std::is_same_v<U, T> && std::is_integral_v<U> && std::is_floating_point_v<T>)
  BasicTensor(const BasicTensor<U>& other);
  BasicTensor(const BasicTensor&) = default;
  BasicTensor(BasicTensor&&) noexcept = default;
  /// On a named tensor, `=` rebinds the handle (as in libtorch) ...
  BasicTensor& operator=(const BasicTensor&) & = default;
  BasicTensor& operator=(BasicTensor&&) & noexcept = default;
  /// ... on a temporary such as `y[0]` or `y.index({...})` it writes into the
  /// viewed elements in place (`y[0] = expr` records CopySlices on y).
  BasicTensor& operator=(const BasicTensor& src) && { copy_(src); return *this; }
  BasicTensor& operator=(T value) && { fill_(value); return *this; }

  // ---- metadata
  bool defined() const { return impl_ != nullptr; }
  const Sizes& sizes() const { return impl().sizes; }
  const Sizes& strides() const { return impl().strides; }
  std::int64_t size(int d) const { return impl().sizes[wrap_dim(d, dim())]; }
  int dim() const { return impl().sizes.size(); }
  std::int64_t numel() const { return impl().numel; }
  bool is_contiguous() const { return impl().is_contiguous(); }
  T* data_ptr() const { return impl().data(); }
  /// The element at a full multi-index (no autograd).
  T at(std::initializer_list<std::int64_t> idx) const;
  /// The value of a one-element tensor, as T or converted (`t.item<float>()`).
  template <class U = T>
  U item() const;

  // ---- autograd
  bool requires_grad() const;
  BasicTensor& requires_grad_(bool r = true);
  /// libtorch's other spelling of requires_grad_.
  BasicTensor& set_requires_grad(bool r) { return requires_grad_(r); }
  bool is_leaf() const;
  std::shared_ptr<BasicNode<T>> grad_fn() const;
  /// grad_fn() without a copy of the pointer (no reference-count traffic).
  const std::shared_ptr<BasicNode<T>>& grad_fn_ref() const;
  std::uint32_t output_nr() const { return impl().output_nr; }
  /// The accumulated gradient (undefined when there is none).
  const BasicTensor& grad() const {
    static const BasicTensor none;
    const auto* x = impl().extras_if_any();
    return x ? x->grad : none;
  }
  BasicTensor& mutable_grad() const { return impl().extras().grad; }
  void retain_grad() const;
  bool retains_grad() const { return impl().retains_grad; }
  BasicTensor detach() const;
  /// The same elements with no autograd history (libtorch's tensor_data()).
  BasicTensor tensor_data() const { return detach(); }
  /// A one-element tensor's value is not zero (an error for more elements).
  bool is_nonzero() const;
  BasicTensor& detach_();
  void backward(const BasicTensor& gradient = {}, std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false) const;
  /// The version counter shared with views; bumped by every in-place op.
  std::uint32_t _version() const { return impl().storage->version; }

  // ---- copies and views
  BasicTensor clone() const;
  BasicTensor contiguous() const;
  BasicTensor operator[](std::int64_t i) const { return select(0, i); }
  BasicTensor select(int dim, std::int64_t index) const;
  BasicTensor slice(int dim, std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
                    std::int64_t step = 1) const;
  BasicTensor index(std::initializer_list<TensorIndex> idx) const;
  BasicTensor t() const;
  /// Dims d0 and d1 swapped (a view; TransposeBackward0: the gradient swapped back).
  BasicTensor transpose(int d0, int d1) const;
  /// Dims reordered, out.size(i) = size(dims[i]) (a view; PermuteBackward0).
  BasicTensor permute(const Sizes& dims) const;
  BasicTensor view(const Sizes& sizes) const;
  BasicTensor reshape(const Sizes& sizes) const;
  /// A stride-0 view broadcast to `sizes` (-1 keeps a dim; ExpandBackward0:
  /// dx = sum_to_size(g, x.sizes())).
  BasicTensor expand(const Sizes& sizes) const;
  BasicTensor expand_as(const BasicTensor& other) const { return expand(other.sizes()); }
  /// torch.broadcast_to: expand (the same view and node).
  BasicTensor broadcast_to(const Sizes& sizes) const { return expand(sizes); }
  BasicTensor sum_to_size(const Sizes& sizes) const;

  // ---- math (members mirror the free functions of ops.hpp)
  /// Out-of-place arithmetic as members (libtorch's `t.mul(2)`), the same
  /// ops and nodes as `+ - * /`.
  BasicTensor add(const BasicTensor& o) const;
  BasicTensor sub(const BasicTensor& o) const;
  BasicTensor mul(const BasicTensor& o) const;
  BasicTensor div(const BasicTensor& o) const;
  BasicTensor add(T o) const;
  BasicTensor sub(T o) const;
  BasicTensor mul(T o) const;
  BasicTensor div(T o) const;
  BasicTensor pow(T exponent) const;
  BasicTensor pow(const BasicTensor& exponent) const;
#define METAGRAD_DECLARE_MEMBER(Rule, fn) BasicTensor fn() const;
  METAGRAD_FOR_EACH_UNARY(METAGRAD_DECLARE_MEMBER)
#undef METAGRAD_DECLARE_MEMBER
#define METAGRAD_DECLARE_BINARY_MEMBER(Rule, fn) BasicTensor fn(const BasicTensor& other) const;
  METAGRAD_FOR_EACH_BINARY(METAGRAD_DECLARE_BINARY_MEMBER)
#undef METAGRAD_DECLARE_BINARY_MEMBER
  BasicTensor<detail::accumulate_t<T>> sum() const;
  BasicTensor<detail::accumulate_t<T>> sum(int dim, bool keepdim = false) const;
  BasicTensor mean() const;
  BasicTensor mean(int dim, bool keepdim = false) const;
  BasicTensor logsumexp(int dim, bool keepdim = false) const;
  BasicTensor softmax(int dim) const;
  BasicTensor log_softmax(int dim) const;
  BasicTensor amax(int dim, bool keepdim = false) const;
  BasicTensor max() const;
  BasicTensor<detail::accumulate_t<T>> prod() const;
  BasicTensor<detail::accumulate_t<T>> prod(int dim, bool keepdim = false) const;
  BasicTensor<detail::accumulate_t<T>> cumsum(int dim) const;
  /// The variance (unbiased: / (N - 1)) and standard deviation, of all
  /// elements or along dim (members only: `mg::var` names a static variable).
  BasicTensor var(bool unbiased = true) const;
  BasicTensor var(int dim, bool unbiased = true, bool keepdim = false) const;
  BasicTensor std(bool unbiased = true) const;
  BasicTensor std(int dim, bool unbiased = true, bool keepdim = false) const;
  BasicTensor norm() const;
  BasicTensor norm(int dim, bool keepdim = false) const;
  BasicTensor clamp(std::optional<T> min, std::optional<T> max = std::nullopt) const;
  /// An integer tensor with floating-point bounds: a double tensor (promotion.hpp).
  template <class F>
    requires(std::is_floating_point_v<F> && !std::is_floating_point_v<T>)
  BasicTensor<double> clamp(F min, std::optional<std::type_identity_t<F>> max = std::nullopt) const;
  BasicTensor clamp_min(T min) const;
  BasicTensor clamp_max(T max) const;
  BasicTensor index_select(int dim, const BasicTensor<std::int64_t>& index) const;
  BasicTensor gather(int dim, const BasicTensor<std::int64_t>& index) const;
  BasicTensor masked_fill(const BasicTensor<bool>& mask, T value) const;
  /// The same with a numeric mask (nonzero means true).
  template <class U> requires std::is_floating_point_v<U>
  BasicTensor masked_fill(const BasicTensor<U>& mask, T value) const;
  BasicTensor unsqueeze(int dim) const;
  BasicTensor squeeze(int dim) const;
  BasicTensor squeeze() const;
  BasicTensor flatten() const;
  BasicTensor narrow(int dim, std::int64_t start, std::int64_t length) const;
  BasicTensor matmul(const BasicTensor& o) const;
  BasicTensor bmm(const BasicTensor& o) const;
  BasicTensor mm(const BasicTensor& o) const;
  BasicTensor mv(const BasicTensor& o) const;
  BasicTensor dot(const BasicTensor& o) const;

  // ---- in place (callable on a const handle, as in libtorch: a Tensor is a
  // handle, and constness is the handle's, not the elements')
  const BasicTensor& zero_() const;
  const BasicTensor& fill_(T value) const;
  const BasicTensor& copy_(const BasicTensor& src) const;
  const BasicTensor& add_(const BasicTensor& o) const;
  const BasicTensor& sub_(const BasicTensor& o) const;
  const BasicTensor& mul_(const BasicTensor& o) const;
  const BasicTensor& div_(const BasicTensor& o) const;
  const BasicTensor& add_(T o) const;
  const BasicTensor& sub_(T o) const;
  const BasicTensor& mul_(T o) const;
  const BasicTensor& div_(T o) const;
  const BasicTensor& operator+=(const BasicTensor& o) const { return add_(o); }
  const BasicTensor& operator-=(const BasicTensor& o) const { return sub_(o); }
  const BasicTensor& operator*=(const BasicTensor& o) const { return mul_(o); }
  const BasicTensor& operator/=(const BasicTensor& o) const { return div_(o); }
  const BasicTensor& operator+=(T o) const { return add_(o); }
  const BasicTensor& operator-=(T o) const { return sub_(o); }
  const BasicTensor& operator*=(T o) const { return mul_(o); }
  const BasicTensor& operator/=(T o) const { return div_(o); }
  /// An integer or bool tensor cannot hold the result of an in-place op with a
  /// floating-point number (PyTorch: "result type Double can't be cast to the
  /// desired output type Long"); these catch it at compile time instead of
  /// truncating the number.
#define METAGRAD_NO_FLOAT_INTO_INTEGER(fn)                                                                 \
  template <class F>                                                                                      \
    requires(std::is_floating_point_v<F> && !std::is_floating_point_v<T>)                                 \
  const BasicTensor& fn(F) const {                                                                        \
    static_assert(sizeof(F) == 0, "mg: an in-place op cannot store a floating-point result in an integer " \
                                  "or bool tensor (PyTorch refuses it too); convert the tensor first, e.g. " \
                                  "mg::Tensor t2 = t;");                                                  \
    return *this;                                                                                         \
  }
  METAGRAD_NO_FLOAT_INTO_INTEGER(add_)
  METAGRAD_NO_FLOAT_INTO_INTEGER(sub_)
  METAGRAD_NO_FLOAT_INTO_INTEGER(mul_)
  METAGRAD_NO_FLOAT_INTO_INTEGER(div_)
  METAGRAD_NO_FLOAT_INTO_INTEGER(operator+=)
  METAGRAD_NO_FLOAT_INTO_INTEGER(operator-=)
  METAGRAD_NO_FLOAT_INTO_INTEGER(operator*=)
  METAGRAD_NO_FLOAT_INTO_INTEGER(operator/=)
#undef METAGRAD_NO_FLOAT_INTO_INTEGER

  // ---- hooks
  /// fn(grad) runs when the gradient of this tensor is computed, before it is
  /// accumulated or passed on; returning a Tensor replaces the gradient,
  /// returning void observes it. Returns a handle for remove_hook.
  template <class F>
  unsigned register_hook(F&& fn) const;
  /// Removes a hook (removing one twice does nothing; a handle this tensor
  /// never gave out is an error, as in libtorch).
  void remove_hook(unsigned handle) const;

  // ---- Eigen interop
  /// A copy as an Eigen matrix: 0-d -> 1x1, 1-d of n -> n x 1, 2-d as is.
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> to_eigen() const;

  // ---- internals
  Impl& impl() const {
    detail::check(impl_ != nullptr, "metagrad: operation on an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<Impl>& impl_ptr() const { return impl_; }
  std::shared_ptr<Impl>& impl_ref() { return impl_; }

  static int wrap_dim(std::int64_t d, int ndim) {
    const int n = ndim == 0 ? 1 : ndim;
    if (d < -n || d >= n)
      detail::fail("Dimension out of range (expected to be in range of [", -n, ", ", n - 1,
                   "], but got ", d, ")");
    return static_cast<int>(d < 0 ? d + n : d);
  }

 private:
  /// grad_fn_ref's rare path: a view whose base changed in place gets an
  /// AsStridedBackward0 history (tensor_members.hpp).
  [[gnu::noinline]] void regenerate_view_grad_fn() const;
  std::shared_ptr<Impl> impl_;
};

using FloatTensor = BasicTensor<float>;

}  // namespace metagrad
