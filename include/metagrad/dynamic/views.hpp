// metagrad/dynamic/views.hpp — views (select, slice, t, view/reshape, index,
// detach) sharing storage with their base, and in-place ops. An in-place op
// on a view rebases the base's history onto a CopySlices node, as PyTorch
// does: the overwritten region's gradient goes to the new value's graph, the
// rest to the base's old graph. Every in-place op bumps the version counter
// shared by a base and its views.
#pragma once
#include "ops.hpp"

namespace metagrad {

namespace detail {
/// zeros(sizes) with g written into the region that `view` (a function of a
/// tensor of those sizes) selects: the backward of select, slice and a
/// regenerated view (recorded as Tensor ops when grad mode is on).
template <class T, class View>
BasicTensor<T> scatter_into_zeros(const BasicTensor<T>& g, const Sizes& sizes, View&& view, const char* op) {
  BasicTensor<T> out(new_impl<T>(sizes));
  kernels::fill(out.impl(), T(0));
  BasicTensor<T> region = view(out);
  check(g.sizes() == region.sizes(), op, ": the gradient's shape ", g.sizes(), " must be ", region.sizes(),
        " (the region of ", sizes, " it goes to)");
  region.copy_(g);
  return out;
}
}  // namespace detail

/// zeros(sizes) with g at `index` along dim: select's backward
/// (SelectBackwardBackward0: its own backward selects again).
template <class T>
BasicTensor<T> select_backward(const BasicTensor<T>& g, const Sizes& sizes, int dim, std::int64_t index) {
  BasicTensor<T> out;
  {
    NoGradGuard plain;
    out = detail::scatter_into_zeros(g, sizes, [&](const BasicTensor<T>& z) { return z.select(dim, index); },
                                     "select_backward");
  }
  record_rule(out, g, "SelectBackwardBackward0", rules::SelectAdjoint{dim, index});
  return out;
}

/// zeros(sizes) with g at start:end:step along dim: slice's backward
/// (SliceBackwardBackward0: its own backward slices again).
template <class T>
BasicTensor<T> slice_backward(const BasicTensor<T>& g, const Sizes& sizes, int dim, std::int64_t start,
                              std::int64_t end, std::int64_t step) {
  BasicTensor<T> out;
  {
    NoGradGuard plain;
    out = detail::scatter_into_zeros(g, sizes, [&](const BasicTensor<T>& z) { return z.slice(dim, start, end, step); },
                                     "slice_backward");
  }
  record_rule(out, g, "SliceBackwardBackward0", rules::SliceAdjoint{dim, start, end, step});
  return out;
}

template <class T>
BasicTensor<T> apply_view_step(const BasicTensor<T>& t, const ViewStep& s) {
  switch (s.kind) {
    case ViewStep::Select: return t.select(s.dim, s.a);
    case ViewStep::Slice: return t.slice(s.dim, s.a, s.b, s.step);
    case ViewStep::Transpose: return t.t();
    case ViewStep::Permute: return t.permute(s.sizes);
    case ViewStep::Expand: return t.expand(s.sizes);
    default: return t.view(s.sizes);
  }
}
template <class T>
BasicTensor<T> replay_view(BasicTensor<T> t, const ViewChain& chain) {
  for (const ViewStep* s : chain.from_base()) t = apply_view_step(t, *s);
  return t;
}

namespace detail {
/// Calls f with the rule of one view step (rules/structure.hpp), `in` being
/// the step's input sizes: what a view records, and how a gradient goes back
/// through a step of a chain.
template <class F>
decltype(auto) with_view_rule(const ViewStep& s, const Sizes& in, F&& f) {
  switch (s.kind) {
    case ViewStep::Transpose: return f(rules::T2{});
    case ViewStep::Reshape: return f(rules::Reshape{in});
    case ViewStep::Expand: return f(rules::Expand{in});
    case ViewStep::Permute: {
      Sizes inverse = s.sizes;
      for (int i = 0; i < s.sizes.size(); ++i) inverse[s.sizes[i]] = i;
      return f(rules::Permute{inverse});
    }
    case ViewStep::Select: return f(rules::Select{in, s.dim, s.a});
    default: return f(rules::SliceDim{in, s.dim, s.a, s.b, s.step});
  }
}
}  // namespace detail

/// zeros(sizes) with g in the region the view steps select: the backward of
/// a view whose base changed in place (AsStridedBackward0). Recorded as Tensor
/// ops (the view steps and a CopySlices), so create_graph differentiates it.
/// A chain through an expand selects some elements more than once: their
/// gradients add up, so g goes back step by step through each step's rule.
template <class T>
BasicTensor<T> as_strided_backward(const BasicTensor<T>& g, const Sizes& sizes,
                                   const std::shared_ptr<const ViewChain>& steps) {
  const auto path = steps->from_base();
  const bool expands =
      std::any_of(path.begin(), path.end(), [](const ViewStep* s) { return s->kind == ViewStep::Expand; });
  if (!expands)
    return detail::scatter_into_zeros(g, sizes, [&](const BasicTensor<T>& z) { return replay_view(z, *steps); },
                                      "as_strided_backward");
  std::vector<Sizes> in;  // each step's input sizes, from a replay on an uninitialised tensor
  {
    NoGradGuard plain;
    BasicTensor<T> z(new_impl<T>(sizes));
    for (const ViewStep* s : path) {
      in.push_back(z.sizes());
      z = apply_view_step(z, *s);
    }
    detail::check(g.sizes() == z.sizes(), "as_strided_backward: the gradient's shape ", g.sizes(), " must be ",
                  z.sizes());
  }
  BasicTensor<T> r = g;
  for (std::size_t i = path.size(); i-- > 0;)
    r = detail::with_view_rule(*path[i], in[i], [&](const auto& rule) {
      return rule.vjp(detail::NotSaved{}, detail::NotSaved{}, r);
    });
  return r.contiguous();
}

namespace detail {
/// Builds a view of `self` with the given geometry, recording `step` both in
/// the view chain (for CopySlices) and, when needed, as a graph node.
template <class T>
BasicTensor<T> make_view(const BasicTensor<T>& self, Sizes sizes, Sizes strides, std::int64_t offset,
                         const ViewStep& step, const char* node_name) {
  const auto& src = self.impl();
  auto v = make_impl<T>();
  v->storage = src.storage;
  v->offset = offset;
  v->sizes = sizes;
  v->strides = strides;
  v->numel = checked_numel(sizes);
  const auto* sx = src.extras_if_any();
  auto& vx = v->extras();
  vx.view_base = sx && sx->view_base ? sx->view_base : self.impl_ptr();
  vx.view_chain = std::allocate_shared<ViewChain>(PoolAllocator<ViewChain>{},
                                                 ViewChain{sx ? sx->view_chain : nullptr, step});
  vx.view_version = src.storage->version;
  BasicTensor<T> out(std::move(v));
  if (is_grad_enabled() && self.requires_grad())  // the step's rule (rules/structure.hpp)
    detail::with_view_rule(step, src.sizes, [&](const auto& rule) { record_rule(out, self, node_name, rule); });
  return out;
}
}  // namespace detail

template <class T>
BasicTensor<T> BasicTensor<T>::select(int d, std::int64_t index) const {
  detail::check(dim() > 0, "select() cannot be applied to a 0-dim tensor.");
  d = wrap_dim(d, dim());
  const std::int64_t n = sizes()[d];
  if (index < -n || index >= n)
    detail::fail("index ", index, " is out of bounds for dimension ", d, " with size ", n);
  if (index < 0) index += n;
  Sizes s = sizes(), st = strides();
  const std::int64_t off = impl().offset + index * st[d];
  s.erase(d);
  st.erase(d);
  return detail::make_view(*this, s, st, off, ViewStep{ViewStep::Select, d, index, 0, 1, {}}, "SelectBackward0");
}

template <class T>
BasicTensor<T> BasicTensor<T>::slice(int d, std::optional<std::int64_t> start,
                                     std::optional<std::int64_t> stop, std::int64_t step) const {
  detail::check(dim() > 0, "slice() cannot be applied to a 0-dim tensor.");
  detail::check(step > 0, "slice step must be positive, got ", step);
  d = wrap_dim(d, dim());
  const std::int64_t n = sizes()[d];
  auto clamp = [n](std::optional<std::int64_t> v, std::int64_t dflt) {
    if (!v) return dflt;
    std::int64_t x = *v < 0 ? *v + n : *v;
    return std::clamp<std::int64_t>(x, 0, n);
  };
  const std::int64_t a = clamp(start, 0), b = std::max(a, clamp(stop, n));
  Sizes s = sizes(), st = strides();
  const std::int64_t off = impl().offset + a * st[d];
  s[d] = (b - a + step - 1) / step;
  st[d] *= step;
  return detail::make_view(*this, s, st, off, ViewStep{ViewStep::Slice, d, a, b, step, {}}, "SliceBackward0");
}

template <class T>
BasicTensor<T> BasicTensor<T>::index(std::initializer_list<TensorIndex> idx) const {
  detail::check(static_cast<int>(idx.size()) <= dim(), "too many indices for tensor of dimension ", dim());
  BasicTensor r = *this;
  int d = 0;
  for (const auto& i : idx) {
    if (i.is_integer()) {
      r = r.select(d, i.integer());
    } else {
      r = r.slice(d, i.slice().start, i.slice().stop, i.slice().step);
      ++d;
    }
  }
  return r;
}

template <class T>
BasicTensor<T> BasicTensor<T>::t() const {
  detail::check(dim() <= 2, "t() expects a tensor with <= 2 dimensions, but self is ", dim(), "D");
  Sizes s = sizes(), st = strides();
  if (dim() == 2) {
    std::swap(s[0], s[1]);
    std::swap(st[0], st[1]);
  }
  return detail::make_view(*this, s, st, impl().offset, ViewStep{ViewStep::Transpose, 0, 0, 0, 1, {}}, "TBackward0");
}

namespace detail {
inline Sizes infer_size(const Sizes& shape, std::int64_t numel) {
  Sizes s = shape;
  int infer = -1;
  std::int64_t known = 1;
  for (int i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      check(infer < 0, "only one dimension can be inferred");
      infer = i;
    } else {
      check(s[i] >= 0, "invalid shape dimension ", s[i]);
      known *= s[i];
    }
  }
  if (infer >= 0 && known != 0 && numel % known == 0) s[infer] = numel / known;
  if ((infer >= 0 && (known == 0 || numel % known != 0)) || (infer < 0 && known != numel))
    fail("shape '", shape, "' is invalid for input of size ", numel);
  return s;
}
}  // namespace detail

template <class T>
BasicTensor<T> BasicTensor<T>::view(const Sizes& shape) const {
  const Sizes s = detail::infer_size(shape, numel());
  detail::check(is_contiguous(),
                "view size is not compatible with input tensor's size and stride (at least one dimension "
                "spans across two contiguous subspaces). Use .reshape(...) instead.");
  ViewStep step{ViewStep::Reshape, 0, 0, 0, 1, s};
  return detail::make_view(*this, s, detail::contiguous_strides(s), impl().offset, step, "ViewBackward0");
}

template <class T>
BasicTensor<T> BasicTensor<T>::reshape(const Sizes& shape) const {
  if (is_contiguous()) return view(shape);
  const Sizes s = detail::infer_size(shape, numel());
  return clone().view(s);
}

template <class T>
BasicTensor<T> BasicTensor<T>::detach() const {
  return BasicTensor(alias_impl(impl()));
}

template <class T>
BasicTensor<T>& BasicTensor<T>::detach_() {
  detail::check(!impl().is_view(), "Can't detach views in-place. Use detach() instead.");
  impl().grad_fn.reset();
  impl().requires_grad = false;
  return *this;
}

// ================================================================ in place
/// CopySlices: the base's new history after an in-place op `fn` on a view.
template <class T>
class CopySlices final : public BasicNode<T> {
 public:
  CopySlices(std::shared_ptr<const ViewChain> chain, std::shared_ptr<BasicNode<T>> fn)
      : chain_(std::move(chain)), fn_(std::move(fn)) {}
  ~CopySlices() override { detail::release_later(std::move(fn_)); }
  std::string name() const override { return "CopySlices"; }
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    auto result = g.clone();
    auto region = replay_view(result, *chain_);
    std::vector<BasicTensor<T>> fn_out(static_cast<std::size_t>(fn_->num_edges()));
    fn_->apply(region.clone(), fn_out.data());
    if (fn_out[0].defined()) region.copy_(fn_out[0]);
    else region.zero_();
    out[0] = std::move(result);
    for (int i = 1; i < fn_->num_edges(); ++i) out[i] = std::move(fn_out[static_cast<std::size_t>(i)]);
  }
  void release_variables() override { fn_->release_variables(); }
 private:
  std::shared_ptr<const ViewChain> chain_;
  std::shared_ptr<BasicNode<T>> fn_;
};

/// Backward of copy_/fill_/zero_: nothing flows to the overwritten values;
/// the source (edge 1, if any) receives the gradient summed to its shape.
template <class T>
class OverwriteNode final : public BasicNode<T> {
 public:
  OverwriteNode(const char* n, Sizes src) : name_(n), src_(src) {}
  std::string name() const override { return name_; }
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    if (this->num_edges() > 1 && this->edge(1).valid()) out[1] = g.sum_to_size(src_);
  }
 private:
  const char* name_;
  Sizes src_;
};

namespace detail {
template <class T>
void check_inplace(const BasicTensor<T>& self) {
  if (!is_grad_enabled()) return;
  const auto& m = self.impl();
  const auto& base = m.view_base();
  if (!base && !m.grad_fn && m.requires_grad)
    fail("a leaf Variable that requires grad is being used in an in-place operation.");
  if (base && !base->grad_fn && base->requires_grad)
    fail("a view of a leaf Variable that requires grad is being used in an in-place operation.");
}

/// Runs an in-place op: `write` changes the data (after every check has
/// passed), `node` (may be null) is the out-of-place node whose edge 0 stands
/// for self's old value and whose other edges are already set.
template <class T, class Write>
void commit_inplace(const BasicTensor<T>& self, std::shared_ptr<BasicNode<T>> node, Write&& write) {
  auto& m = self.impl();
  const Edge<T> old = node ? gradient_edge(self) : Edge<T>{};
  write();
  ++m.storage->version;
  if (!node) return;
  if (m.is_view()) {
    BasicTensor<T> base(m.view_base());
    Edge<T> base_old = gradient_edge(base);
    node->set_edge(0, base_old);  // marks "self's old value needs a gradient" for CopySlices
    auto cs = make_node<T, CopySlices<T>>(m.extras_if_any()->view_chain, node);
    cs->add_edge(base_old);
    for (int i = 1; i < node->num_edges(); ++i) cs->add_edge(node->edge(i));
    base.impl().grad_fn = std::move(cs);
    base.impl().output_nr = 0;  // the view's own grad_fn regenerates lazily (version changed)
  } else {
    node->set_edge(0, old);
    m.grad_fn = std::move(node);
    m.output_nr = 0;
  }
}

/// An op that writes what it reads cannot write an expanded tensor (PyTorch's
/// phrase); fill_ and zero_ can, as in PyTorch.
template <class T>
void check_no_internal_overlap(const BasicTensor<T>& self) {
  if (self.impl().has_internal_overlap())
    fail("unsupported operation: more than one element of the written-to tensor refers to a single memory "
         "location. Please clone() the tensor before performing the operation.");
}

/// Whether a tensor's elements fill a contiguous block with no two indices
/// sharing one (any order of dims): PyTorch's is_non_overlapping_and_dense.
template <class T>
bool non_overlapping_and_dense(const TensorImpl<T>& t) {
  int order[kMaxDims];
  int n = 0;
  for (int i = 0; i < t.sizes.size(); ++i)
    if (t.sizes[i] > 1) order[n++] = i;  // dims of size 0 or 1 have no stride to check
  // by stride, an insertion sort: at most kMaxDims dims (std::sort inlined at
  // -O3 made g++ 12 warn -Warray-bounds in users' code, its 16-element
  // insertion step being beyond this array)
  for (int k = 1; k < n; ++k)
    for (int j = k; j > 0 && t.strides[order[j]] < t.strides[order[j - 1]]; --j) std::swap(order[j], order[j - 1]);
  std::int64_t expect = 1;
  for (int k = 0; k < n; ++k) {
    if (t.strides[order[k]] != expect) return false;
    expect *= t.sizes[order[k]];
  }
  return true;
}

/// An in-place op may not read elements it writes elsewhere than where it
/// reads them (`x[1:3].add_(x[0:2])`, `m.add_(m.t())`): PyTorch refuses a
/// partial overlap of two dense tensors on one storage, and so do we. The
/// same elements with the same strides (`x.add_(x)`) are fine.
template <class T>
void check_no_partial_overlap(const TensorImpl<T>& out, const TensorImpl<T>& in) {
  if (&out == &in || out.storage != in.storage || out.numel == 0 || in.numel == 0) return;
  if (!non_overlapping_and_dense(out) || !non_overlapping_and_dense(in)) return;  // PyTorch: too hard to tell
  const T* a0 = out.data();
  const T* a1 = a0 + out.numel;
  const T* b0 = in.data();
  const T* b1 = b0 + in.numel;
  const bool full = a0 == b0 && a1 == b1 && out.strides == in.strides;
  if (!full && a0 < b1 && b0 < a1)
    fail("unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
         "memory location. Please clone() the tensor before performing the operation.");
}

template <class T>
void check_inplace_shape(const BasicTensor<T>& self, const BasicTensor<T>& other) {
  const Sizes b = kernels::broadcast_shapes(self.sizes(), other.sizes());
  if (!(b == self.sizes()))
    fail("output with shape ", self.sizes(), " doesn't match the broadcast shape ", b);
}
}  // namespace detail

template <class T>
const BasicTensor<T>& BasicTensor<T>::copy_(const BasicTensor& src) const {
  detail::check_inplace(*this);
  detail::check_no_internal_overlap(*this);
  detail::check_no_partial_overlap(impl(), src.impl());
  detail::check_inplace_shape(*this, src);
  std::shared_ptr<BasicNode<T>> node;
  if (is_grad_enabled() && (requires_grad() || src.requires_grad())) {
    node = make_node<T, OverwriteNode<T>>("CopyBackwards", src.sizes());
    node->add_edge({});
    add_gradient_edge(*node, src);
  }
  // copy through a temporary when source and destination share storage
  const auto tmp = src.impl().storage == impl().storage ? kernels::contiguous_copy(src.impl()) : src.impl_ptr();
  detail::commit_inplace(*this, node, [&] { kernels::copy(impl(), *tmp); });
  return *this;
}

template <class T>
const BasicTensor<T>& BasicTensor<T>::fill_(T value) const {
  detail::check_inplace(*this);
  std::shared_ptr<BasicNode<T>> node;
  if (is_grad_enabled() && requires_grad()) {
    node = make_node<T, OverwriteNode<T>>("FillBackward0", Sizes{});
    node->add_edge({});
  }
  detail::commit_inplace(*this, node, [&] { kernels::fill(impl(), value); });
  return *this;
}

template <class T>
const BasicTensor<T>& BasicTensor<T>::zero_() const {
  detail::check_inplace(*this);
  std::shared_ptr<BasicNode<T>> node;
  if (is_grad_enabled() && requires_grad()) {
    node = make_node<T, OverwriteNode<T>>("ZeroBackward0", Sizes{});
    node->add_edge({});
  }
  detail::commit_inplace(*this, node, [&] { kernels::fill(impl(), T(0)); });
  return *this;
}

namespace detail {
/// self = self (op) other, in place, with the out-of-place op's node.
template <class Rule, class T>
const BasicTensor<T>& binary_inplace(const BasicTensor<T>& self, const BasicTensor<T>& other) {
  if constexpr (std::is_same_v<Rule, rules::Div>) METAGRAD_REQUIRE_FLOATING(T);  // (true division)
  check_inplace(self);
  check_no_internal_overlap(self);
  check_no_partial_overlap(self.impl(), other.impl());
  check_inplace_shape(self, other);
  std::shared_ptr<BinaryNode<Rule, T>> node;
  if (is_grad_enabled() && (self.requires_grad() || other.requires_grad())) {
    node = make_node<T, BinaryNode<Rule, T>>(Rule::node_name);
    node->b_shape.set(other.sizes(), self.sizes());
    node->add_edge({});
    add_gradient_edge(*node, other);
    // the old value of self is about to be overwritten: save a copy of it
    const unsigned save = BinaryNode<Rule, T>::saves(self.requires_grad(), other.requires_grad());
    if (save & rules::kA) node->a.save(self.clone(), false);
    if (save & rules::kB) node->b.save(other, false);
  }
  auto result = kernels::binary(self.impl(), other.impl(), [](const auto& x, const auto& y) { return Rule::f(x, y); });
  commit_inplace<T>(self, node, [&] { kernels::copy(self.impl(), *result); });
  return self;
}
}  // namespace detail

template <class T> const BasicTensor<T>& BasicTensor<T>::add_(const BasicTensor& o) const { return detail::binary_inplace<rules::Add>(*this, o); }
template <class T> const BasicTensor<T>& BasicTensor<T>::sub_(const BasicTensor& o) const { return detail::binary_inplace<rules::Sub>(*this, o); }
template <class T> const BasicTensor<T>& BasicTensor<T>::mul_(const BasicTensor& o) const { return detail::binary_inplace<rules::Mul>(*this, o); }
template <class T> const BasicTensor<T>& BasicTensor<T>::div_(const BasicTensor& o) const { return detail::binary_inplace<rules::Div>(*this, o); }
template <class T> const BasicTensor<T>& BasicTensor<T>::add_(T o) const { return add_(detail::scalar_tensor<T>(o)); }
template <class T> const BasicTensor<T>& BasicTensor<T>::sub_(T o) const { return sub_(detail::scalar_tensor<T>(o)); }
template <class T> const BasicTensor<T>& BasicTensor<T>::mul_(T o) const { return mul_(detail::scalar_tensor<T>(o)); }
template <class T> const BasicTensor<T>& BasicTensor<T>::div_(T o) const { return div_(detail::scalar_tensor<T>(o)); }

}  // namespace metagrad
