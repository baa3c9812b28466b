// metagrad/dynamic/compare.hpp — comparisons (`a > 0.` is a BasicTensor<bool>
// that prints like PyTorch's), `where(cond, a, b)` and `masked_fill`.
//   where:       d/da = where(cond, g, 0),  d/db = where(cond, 0, g)
//   masked_fill: d/dself = where(mask, 0, g)
// Both backward formulas are `where` again, so create_graph goes through them.
#pragma once
#include <array>
#include <concepts>
#include <functional>

#include "../rules/probe.hpp"
#include "../rules/select.hpp"
#include "factories.hpp"

namespace metagrad {
namespace kernels {
/// The common operands of a broadcasting loop, as plain loops: is every
/// operand either contiguous of the shape `s` (read at i) or one number of no
/// dimensions (read at 0)? Then `body` is called with one
/// std::bool_constant per operand (true: read at i), so each mix is a loop
/// of its own that the compiler can vectorise; false when not.
template <class Body, class... Impl>
bool flat_operands(const Sizes& s, Body&& body, const Impl&... x) {
  const bool ok = ((x.sizes.size() == 0 || (x.sizes == s && x.is_contiguous())) && ...);
  if (!ok) return false;
  auto expand = [&](auto self, auto... k) {
    constexpr std::size_t done = sizeof...(k);
    if constexpr (done == sizeof...(Impl)) {
      body(k...);
    } else {
      const std::array<bool, sizeof...(Impl)> whole{(x.sizes.size() != 0)...};
      if (whole[done]) self(self, k..., std::true_type{});
      else self(self, k..., std::false_type{});
    }
  };
  expand(expand);
  return true;
}

/// out[i] = f(a[i], b[i]) with broadcasting, into a tensor of element type R.
template <class R, class A, class B, class F>
std::shared_ptr<TensorImpl<R>> broadcast_map(const TensorImpl<A>& a, const TensorImpl<B>& b, F&& f) {
  const Sizes shape = broadcast_shapes(a.sizes, b.sizes);
  auto out = new_impl<R>(shape);
  R* o = out->data();
  const A* ad = a.data();
  const B* bd = b.data();
  const std::int64_t n = out->numel;
  if (flat_operands(shape, [&](auto wa, auto wb) {
        for (std::int64_t i = 0; i < n; ++i) o[i] = f(ad[wa ? i : 0], bd[wb ? i : 0]);
      }, a, b))
    return out;
  std::int64_t i = 0;
  nd_loop<2>(shape, {broadcast_strides(a, shape), broadcast_strides(b, shape)},
             [&](const auto& off) { o[i++] = f(ad[off[0]], bd[off[1]]); });
  return out;
}
}  // namespace kernels

namespace detail {
template <class Cmp, class T>
BasicTensor<bool> compare(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return BasicTensor<bool>(kernels::broadcast_map<bool>(a.impl(), b.impl(), Cmp{}));
}
}  // namespace detail

// Comparisons give a condition (no gradient flows through them).
#define METAGRAD_COMPARISON(OP, Cmp)                                                          \
  template <class T>                                                                          \
  BasicTensor<bool> operator OP(const BasicTensor<T>& a, const BasicTensor<T>& b) {           \
    return detail::compare<Cmp>(a, b);                                                        \
  }                                                                                           \
  template <class T>                                                                          \
  BasicTensor<bool> operator OP(const BasicTensor<T>& a, std::type_identity_t<T> b) {         \
    return detail::compare<Cmp>(a, detail::scalar_tensor<T>(b));                              \
  }                                                                                           \
  template <class T>                                                                          \
  BasicTensor<bool> operator OP(std::type_identity_t<T> a, const BasicTensor<T>& b) {         \
    return detail::compare<Cmp>(detail::scalar_tensor<T>(a), b);                              \
  }
METAGRAD_COMPARISON(<, std::less<>)
METAGRAD_COMPARISON(<=, std::less_equal<>)
METAGRAD_COMPARISON(>, std::greater<>)
METAGRAD_COMPARISON(>=, std::greater_equal<>)
METAGRAD_COMPARISON(==, std::equal_to<>)
METAGRAD_COMPARISON(!=, std::not_equal_to<>)
#undef METAGRAD_COMPARISON

/// Logical not of a condition. (A template, B = bool only: a non-template
/// inline function would instantiate BasicTensor<bool>'s members in every
/// translation unit that includes this header.)
template <class B>
  requires std::same_as<B, bool>
BasicTensor<bool> operator!(const BasicTensor<B>& c) {
  return BasicTensor<bool>(kernels::broadcast_map<bool>(c.impl(), c.impl(), [](bool x, bool) { return !x; }));
}

template <class T> BasicTensor<T> where(const BasicTensor<bool>& cond, const BasicTensor<T>& a, const BasicTensor<T>& b);

/// WhereBackward0 (and MaskedFillBackward0, which has only the edge to self).
template <class T>
class WhereNode final : public BasicNode<T> {
 public:
  WhereNode(const char* n, BasicTensor<bool> c, Sizes a, Sizes b) : name_(n), cond_(std::move(c)), a_(a), b_(b) {}
  std::string name() const override { return name_; }
  /// The rules of where's halves (rules/select.hpp): keep_where(c, a) sends
  /// keep_where(c, g) to a, keep_where_not(c, b) keep_where_not(c, g) to b;
  /// they read only the condition (the operand slots they do not read get g).
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    static_assert(rules::grad_b_needs<rules::KeepWhere> == rules::kA && rules::grad_b_needs<rules::KeepWhereNot> == rules::kA,
                  "where's backward reads only its condition");
    if (!cond_.defined()) detail::fail(detail::kSecondTime);  // (the condition is a saved tensor, as PyTorch's)
    const bool masked_fill = this->num_edges() == 1;
    const int ib = masked_fill ? 0 : 1;
    const bool ga = !masked_fill && this->edge(0).valid(), gb = this->edge(ib).valid();
    // no create_graph, and condition, g and the side all of one contiguous
    // shape: the same formulas as one loop each (no broadcasting to undo)
    const bool plain = !is_grad_enabled() && g.is_contiguous() && cond_.is_contiguous() && cond_.sizes() == g.sizes();
    if (ga) {
      if (plain && a_ == g.sizes()) out[0] = masked(g, true, !gb);
      else out[0] = rules::KeepWhere::vjp_b(cond_, g, g, g).sum_to_size(a_);
    }
    if (gb) {
      if (plain && b_ == g.sizes()) out[ib] = masked(g, false, true);
      else out[ib] = rules::KeepWhereNot::vjp_b(cond_, g, g, g).sum_to_size(b_);
    }
  }
  void release_variables() override { cond_ = {}; }

 private:
  /// g where the condition is `keep`, else 0 (g, the condition: one
  /// contiguous shape); over g's own elements when g is read no more
  /// (`last`) and is this node's alone.
  BasicTensor<T> masked(BasicTensor<T>& g, bool keep, bool last) const {
    const std::int64_t n = g.numel();
    const bool* c = cond_.data_ptr();
    if (last && detail::exclusively_owned(g)) {
      T* d = g.data_ptr();
      for (std::int64_t i = 0; i < n; ++i) d[i] = c[i] == keep ? d[i] : T(0);
      return std::move(g);
    }
    auto o = new_impl<T>(g.sizes());
    const T* s = g.data_ptr();
    T* d = o->data();
    for (std::int64_t i = 0; i < n; ++i) d[i] = c[i] == keep ? s[i] : T(0);
    return BasicTensor<T>(std::move(o));
  }

  const char* name_;
  BasicTensor<bool> cond_;
  Sizes a_, b_;
};

namespace detail {
template <class T>
std::shared_ptr<TensorImpl<T>> where_kernel(const BasicTensor<bool>& c, const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const bool* cd = c.data_ptr();
  const T *ad = a.data_ptr(), *bd = b.data_ptr();
  const Sizes shape = kernels::broadcast_shapes(kernels::broadcast_shapes(c.sizes(), a.sizes()), b.sizes());
  auto out = new_impl<T>(shape);
  T* o = out->data();
  const std::int64_t n = out->numel;
  if (kernels::flat_operands(shape, [&](auto wc, auto wa, auto wb) {
        for (std::int64_t i = 0; i < n; ++i) {
          const T x = ad[wa ? i : 0], y = bd[wb ? i : 0];  // (both read: no branch)
          o[i] = cd[wc ? i : 0] ? x : y;
        }
      }, c.impl(), a.impl(), b.impl()))
    return out;
  std::int64_t i = 0;
  kernels::nd_loop<3>(shape,
                      {kernels::broadcast_strides(c.impl(), shape), kernels::broadcast_strides(a.impl(), shape),
                       kernels::broadcast_strides(b.impl(), shape)},
                      [&](const auto& off) { o[i++] = cd[off[0]] ? ad[off[1]] : bd[off[2]]; });
  return out;
}
}  // namespace detail

/// a where cond holds, else b (broadcasting all three).
template <class T>
BasicTensor<T> where(const BasicTensor<bool>& cond, const BasicTensor<T>& a, const BasicTensor<T>& b) {
  BasicTensor<T> out(detail::where_kernel(cond, a, b));
  if (is_grad_enabled() && (a.requires_grad() || b.requires_grad())) {
    auto n = make_node<T, WhereNode<T>>("WhereBackward0", cond, a.sizes(), b.sizes());
    add_gradient_edge(*n, a);
    add_gradient_edge(*n, b);
    set_history(out, std::move(n));
  }
  return out;
}
template <class T>
BasicTensor<T> where(const BasicTensor<bool>& cond, const BasicTensor<T>& a, std::type_identity_t<T> b) {
  return where(cond, a, detail::scalar_tensor<T>(b));
}
template <class T>
BasicTensor<T> where(const BasicTensor<bool>& cond, std::type_identity_t<T> a, const BasicTensor<T>& b) {
  return where(cond, detail::scalar_tensor<T>(a), b);
}

/// a where cond holds, else 0; b where cond does not hold, else 0: the two
/// halves of where(cond, a, b) that the static rules are written with
/// (rules/select.hpp), so that a bridged expression with create_graph records
/// its backward with them.
template <class T>
BasicTensor<T> keep_where(const BasicTensor<bool>& cond, const BasicTensor<T>& a) { return where(cond, a, T(0)); }
template <class T>
BasicTensor<T> keep_where_not(const BasicTensor<bool>& cond, const BasicTensor<T>& b) { return where(cond, T(0), b); }
template <class T> requires std::is_arithmetic_v<T>
BasicTensor<T> keep_where(const BasicTensor<bool>& cond, T a) { return where(cond, detail::scalar_tensor<T>(a), T(0)); }
template <class T> requires std::is_arithmetic_v<T>
BasicTensor<T> keep_where_not(const BasicTensor<bool>& cond, T b) { return where(cond, T(0), detail::scalar_tensor<T>(b)); }

/// self with v written where mask holds (MaskedFillBackward0).
template <class T>
BasicTensor<T> masked_fill(const BasicTensor<T>& self, const BasicTensor<bool>& mask, std::type_identity_t<T> v) {
  detail::check(kernels::broadcast_shapes(mask.sizes(), self.sizes()) == self.sizes(), "masked_fill: the mask of shape ",
                mask.sizes(), " does not broadcast to the tensor's shape ", self.sizes());
  BasicTensor<T> out(detail::where_kernel(mask, detail::scalar_tensor<T>(v), self));
  if (is_grad_enabled() && self.requires_grad()) {
    auto n = make_node<T, WhereNode<T>>("MaskedFillBackward0", mask, Sizes{}, self.sizes());
    add_gradient_edge(*n, self);
    set_history(out, std::move(n));
  }
  return out;
}

template <class T>
BasicTensor<T> BasicTensor<T>::masked_fill(const BasicTensor<bool>& mask, T value) const {
  return metagrad::masked_fill(*this, mask, value);
}
template <class T>
template <class U> requires std::is_floating_point_v<U>
BasicTensor<T> BasicTensor<T>::masked_fill(const BasicTensor<U>& mask, T value) const {
  return metagrad::masked_fill(*this, mask != U(0), value);
}

template <class T>
template <class U>
  requires(!std::is_same_v<U, T> && std::is_integral_v<U> && std::is_floating_point_v<T>)
BasicTensor<T>::BasicTensor(const BasicTensor<U>& other) {
  if (other.defined()) impl_ = detail::cast_impl<T>(other);
}

}  // namespace metagrad
