// metagrad/dynamic/core.hpp — the data structures of the dynamic graph:
// Storage (shared buffer + version counter), TensorImpl (geometry + grad_fn,
// with what only leaves and views carry out of line in TensorExtras), Node (a
// backward function with edges {node, input_nr}), grad mode, and the
// iterative graph destructor.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../detail/config.hpp"
#include "../detail/pool.hpp"
#include "../detail/small_vector.hpp"

namespace metagrad {

template <class T> class BasicTensor;
template <class T> class BasicNode;
template <class T> struct TensorImpl;
using Tensor = BasicTensor<double>;
using Node = BasicNode<double>;

// ------------------------------------------------- floating-point-only ops
/// An op whose result is a fraction (exp, mean, norm, softmax, `/`, ...) needs
/// a floating-point tensor: integer and bool tensors (indices, conditions)
/// are converted first, as PyTorch promotes them (`mg::Tensor(t)`, or mixed
/// arithmetic, dynamic/promotion.hpp, which does it for you).
#define METAGRAD_REQUIRE_FLOATING(T)                                                                      \
  static_assert(std::is_floating_point_v<T>,                                                              \
                "mg: this op computes fractions and takes a floating-point tensor; convert an integer or " \
                "bool tensor first, e.g. mg::Tensor(t).mean() (PyTorch promotes it or refuses it)")

// ---------------------------------------------------------------- grad mode
namespace detail {
inline bool& grad_mode_flag() {
  thread_local bool enabled = true;
  return enabled;
}
}  // namespace detail

/// Whether operations on this thread record the graph.
inline bool is_grad_enabled() { return detail::grad_mode_flag(); }

/// RAII: sets grad mode on this thread for its lifetime (libtorch's name).
class AutoGradMode {
 public:
  explicit AutoGradMode(bool enabled) : prev_(detail::grad_mode_flag()) {
    detail::grad_mode_flag() = enabled;
  }
  ~AutoGradMode() { detail::grad_mode_flag() = prev_; }
  AutoGradMode(const AutoGradMode&) = delete;
  AutoGradMode& operator=(const AutoGradMode&) = delete;

 private:
  bool prev_;
};

/// RAII: no graph is recorded on this thread while it lives (torch.no_grad()).
class NoGradGuard : public AutoGradMode {
 public:
  NoGradGuard() : AutoGradMode(false) {}
};

// ------------------------------------------------------- deferred deletion
namespace detail {
/// Graph pieces are released through this queue so that destroying a chain of
/// a million nodes runs in a loop instead of a million nested destructors.
struct Graveyard {
  std::vector<std::shared_ptr<void>> pending;
  bool draining = false;
  bool dead = false;
  ~Graveyard() { dead = true; }
};
inline Graveyard& graveyard() {
  thread_local Graveyard g;
  return g;
}
/// release_later's queue, out of line: its common case (not the last owner)
/// then costs its caller no stack frame.
METAGRAD_NOINLINE inline void bury(std::shared_ptr<void>&& p) {
  auto& g = graveyard();
  if (g.dead) { p.reset(); return; }
  g.pending.push_back(std::move(p));
  if (g.draining) return;
  g.draining = true;
  while (!g.pending.empty()) {
    auto q = std::move(g.pending.back());
    g.pending.pop_back();
    q.reset();
  }
  g.draining = false;
}
template <class P> inline constexpr bool is_tensor_impl_v = false;
template <class T> inline constexpr bool is_tensor_impl_v<TensorImpl<T>> = true;
template <class P>
inline void release_later(std::shared_ptr<P>&& p) {
  if (!p) return;
  // Not the last owner: dropping it destroys nothing. A tensor impl is
  // dropped at once too (the queue took ~60 of the ~1,850 instructions of a
  // 0-d op with its backward, callgrind):
  // its destructor hands its grad_fn to this queue, and the only impls it
  // frees itself are its extras' — a .grad and a view's base, which is never
  // a view — so impls nest only as deep as a user nests .grad in .grad.
  if (is_tensor_impl_v<P> || p.use_count() > 1) {
    p.reset();
    return;
  }
  bury(std::move(p));
}
}  // namespace detail

// ------------------------------------------------------------------ storage
/// A buffer shared by a tensor and its views, with the version counter that
/// in-place operations bump (shared by the base and all of its views).
template <class T>
struct Storage {
  static constexpr std::int64_t kInline = 4;
  T* data = nullptr;
  std::int64_t size = 0;
  std::uint32_t version = 0;
  alignas(16) T inline_buf[kInline];  // the pool's alignment (see PoolAllocator)

  explicit Storage(std::int64_t n) : size(n) {
    if (n <= kInline) {
      data = inline_buf;
    } else {
      detail::check(n < (INT64_MAX / static_cast<std::int64_t>(sizeof(T))),
                    "tensor of ", n, " elements is too large to allocate");
      data = static_cast<T*>(detail::BufferCache::allocate(sizeof(T) * static_cast<std::size_t>(n)));
      detail::StorageBytes::add(static_cast<std::int64_t>(sizeof(T)) * n);
    }
  }
  ~Storage() {
    if (data != inline_buf) {
      detail::BufferCache::deallocate(data, sizeof(T) * static_cast<std::size_t>(size));
      detail::StorageBytes::add(-static_cast<std::int64_t>(sizeof(T)) * size);
    }
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

template <class T>
std::shared_ptr<Storage<T>> make_storage(std::int64_t n) {
  return std::allocate_shared<Storage<T>>(detail::PoolAllocator<Storage<T>>{}, n);
}

// --------------------------------------------------------------- view chain
/// One step of a view, replayable on any tensor of the right shape: this is
/// how a view's region is found again inside its base's gradient.
struct ViewStep {
  // (Expand: `sizes` are the target; broadcast dims read one element, stride 0)
  enum Kind : std::uint8_t { Select, Slice, Transpose, Reshape, Permute, Expand } kind;
  int dim = 0;
  std::int64_t a = 0, b = 0, step = 1;  // Select: index a; Slice: [a, b) by step
  Sizes sizes;  // Reshape, Expand: the new sizes; Permute: the order of dims
};
/// The steps from a view's base to the view, kept as a list from the last
/// step back: a view adds one link to the chain of the tensor it was made
/// from, which it shares (no step is copied; links come from the pool).
struct ViewChain {
  std::shared_ptr<const ViewChain> before;  // the steps before `step` (null: none)
  ViewStep step;
  /// The steps in order from the base.
  std::vector<const ViewStep*> from_base() const {
    std::vector<const ViewStep*> out;
    for (const ViewChain* c = this; c; c = c->before.get()) out.push_back(&c->step);
    std::reverse(out.begin(), out.end());
    return out;
  }
  /// Unlinks the links only this one holds in a loop: a long chain (a view
  /// of a view of ... made in a loop) would otherwise be freed by recursion.
  ~ViewChain() {
    auto next = std::move(before);
    while (next && next.use_count() == 1) {
      auto after = std::move(const_cast<ViewChain&>(*next).before);  // made non-const (allocate_shared)
      next = std::move(after);
    }
  }
};

// ---------------------------------------------------------------------- edge
template <class T>
struct Edge {
  std::shared_ptr<BasicNode<T>> fn;
  int input_nr = 0;
  bool valid() const { return fn != nullptr; }
};

// --------------------------------------------------------------------- hooks
/// A tensor hook (`t.register_hook(fn)`): fn sees the gradient of the tensor
/// before it is accumulated or passed on, and may replace it (returning an
/// undefined tensor keeps it). `output_nr` says which output of a node it is.
/// A removed hook keeps its slot (with an empty fn): handles stay positions.
template <class T>
struct TensorHook {
  std::uint32_t output_nr = 0;
  std::function<BasicTensor<T>(const BasicTensor<T>&)> fn;
};

// --------------------------------------------------------------- tensor impl
/// What only some tensors carry, kept out of line and made on first use (as
/// PyTorch's AutogradMeta): a leaf's gradient, accumulator, hooks and saved
/// alias; a view's base, chain of steps and base version. The tensor every op
/// makes then has none of it to build or destroy.
template <class T>
struct TensorExtras {
  std::shared_ptr<BasicNode<T>> grad_accumulator;  // a leaf's AccumulateGrad (autograd_meta.hpp)
  BasicTensor<T> grad;
  std::vector<TensorHook<T>> hooks;  // a leaf's hooks (a non-leaf's live on its grad_fn)
  std::shared_ptr<TensorImpl<T>> saved_alias;  // a leaf's alias for SavedVariable (autograd_meta.hpp)

  /// A view's base (the tensor owning the elements), the steps from the base
  /// to this view, and the base's version when its history was recorded.
  std::shared_ptr<TensorImpl<T>> view_base;
  std::shared_ptr<const ViewChain> view_chain;
  std::uint32_t view_version = 0;

  TensorExtras() = default;
  TensorExtras(const TensorExtras&) = delete;
  TensorExtras& operator=(const TensorExtras&) = delete;
  ~TensorExtras() {
    detail::release_later(std::move(grad.impl_ref()));
    detail::release_later(std::move(view_base));
    detail::release_later(std::move(grad_accumulator));
  }
};

template <class T>
struct TensorImpl {
  std::shared_ptr<Storage<T>> storage;
  std::int64_t offset = 0;
  std::int64_t numel = 0;
  Sizes sizes, strides;

  // autograd metadata
  bool requires_grad = false;  // meaningful for leaves
  bool retains_grad = false;
  std::uint32_t output_nr = 0;
  std::shared_ptr<BasicNode<T>> grad_fn;
  // The rest, made on first use. (A leaf's AccumulateGrad there is held
  // strongly: it refers to the leaf only weakly, so there is no cycle, and
  // using a leaf locks no weak pointer.)
  detail::PoolPtr<TensorExtras<T>> extras_;

  TensorExtras<T>& extras() {
    if (!extras_) extras_ = detail::make_pooled<TensorExtras<T>>();
    return *extras_;
  }
  TensorExtras<T>* extras_if_any() const { return extras_.get(); }
  /// A differentiable view of another tensor's elements.
  bool is_view() const { return extras_ && extras_->view_base; }
  const std::shared_ptr<TensorImpl>& view_base() const {
    static const std::shared_ptr<TensorImpl> none;
    return extras_ ? extras_->view_base : none;
  }

  T* data() const { return storage->data + offset; }
  bool is_contiguous() const {
    std::int64_t expect = 1;
    for (int i = sizes.size() - 1; i >= 0; --i) {
      if (sizes[i] != 1 && strides[i] != expect) return false;
      expect *= sizes[i];
    }
    return true;
  }
  /// Several indices share one element (an expanded view: a stride-0 dim of
  /// size > 1). Such a tensor is read-only for the ops that read what they
  /// write (copy_, add_, ...) and is never written in place by the engine.
  bool has_internal_overlap() const {
    for (int i = 0; i < sizes.size(); ++i)
      if (sizes[i] > 1 && strides[i] == 0) return true;
    return false;
  }

  TensorImpl() = default;
  /// A fresh contiguous tensor of these sizes (uninitialised data). The
  /// storage handle is built in place: moved in from a temporary, clang++
  /// stored its two words separately and loaded them as one, a failed
  /// store-to-load forward that cost more than the rest of new_impl.
  explicit TensorImpl(const Sizes& s)
      : storage(make_storage<T>(detail::checked_numel(s))),
        numel(storage->size),
        sizes(s),
        strides(detail::contiguous_strides(s)) {}
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;
  ~TensorImpl() {
    detail::release_later(std::move(grad_fn));
  }
};

template <class T>
std::shared_ptr<TensorImpl<T>> make_impl() {
  return std::allocate_shared<TensorImpl<T>>(detail::PoolAllocator<TensorImpl<T>>{});
}

/// An impl viewing the same elements as `src`, with no autograd metadata
/// (what detach() returns and what saved tensors hold).
template <class T>
std::shared_ptr<TensorImpl<T>> alias_impl(const TensorImpl<T>& src) {
  auto a = make_impl<T>();
  a->storage = src.storage;
  a->offset = src.offset;
  a->numel = src.numel;
  a->sizes = src.sizes;
  a->strides = src.strides;
  return a;
}

/// A fresh contiguous tensor impl of the given sizes (uninitialised data).
template <class T>
std::shared_ptr<TensorImpl<T>> new_impl(const Sizes& sizes) {
  return std::allocate_shared<TensorImpl<T>>(detail::PoolAllocator<TensorImpl<T>>{}, sizes);
}

// --------------------------------------------------------------------- node
namespace detail {
/// Inline storage for a node's edges: most nodes have one or two.
template <class E, int N>
class EdgeList {
 public:
  EdgeList() = default;
  EdgeList(const EdgeList&) = delete;
  EdgeList& operator=(const EdgeList&) = delete;
  int size() const { return n_; }
  E& operator[](int i) { return i < N ? inl_[i] : heap_[static_cast<std::size_t>(i - N)]; }
  const E& operator[](int i) const { return i < N ? inl_[i] : heap_[static_cast<std::size_t>(i - N)]; }
  void push_back(E&& e) {
    if (n_ < N) [[likely]] inl_[n_] = std::move(e);
    else push_heap(std::move(e));
    ++n_;
  }
  /// Appends {fn, nr}, copied member by member into the slot (an Edge built
  /// on the stack is two stores read back as one 16-byte load: a failed
  /// store-to-load forward in every op that records a node).
  template <class P>
  void push_back(const P& fn, int nr) {
    if (n_ < N) [[likely]] {
      inl_[n_].fn = fn;
      inl_[n_].input_nr = nr;
    } else {
      push_heap(E{fn, nr});
    }
    ++n_;
  }
 private:
  // (out of line: the inline case then folds into the op that builds the node)
  METAGRAD_NOINLINE void push_heap(E&& e) { heap_.push_back(std::move(e)); }
  E inl_[N];
  std::vector<E> heap_;
  int n_ = 0;
};
}  // namespace detail

/// libtorch's view of an edge (`node->next_edges()`): `.function`, `.input_nr`.
template <class T>
struct EdgeRef {
  std::shared_ptr<BasicNode<T>> function;
  std::uint32_t input_nr = 0;
  bool is_valid() const { return function != nullptr; }
};

/// A backward function of the graph (PyTorch's torch::autograd::Node). Most
/// ops have one output, so their node takes one incoming gradient (`apply`);
/// a node of an op with several outputs (custom functions) takes one per
/// output (`apply_multi`). Either returns one gradient per edge (undefined
/// where no gradient flows).
template <class T>
class BasicNode {
 public:
  using TensorT = BasicTensor<T>;
  BasicNode() = default;
  BasicNode(const BasicNode&) = delete;
  BasicNode& operator=(const BasicNode&) = delete;
  virtual ~BasicNode() {
    for (int i = 0; i < edges_.size(); ++i) detail::release_later(std::move(edges_[i].fn));
  }

  /// PyTorch's class name of this backward function, e.g. "MulBackward0".
  virtual std::string name() const = 0;

  /// Computes the gradients for the edges from the gradient of the output.
  /// `out` has one slot per edge.
  virtual void apply(TensorT grad, TensorT* out) = 0;

  /// The number of outputs of the forward op, i.e. of incoming gradients.
  virtual int num_outputs() const { return 1; }
  /// Several incoming gradients (`grads[k]` for output k, undefined where
  /// none arrived); nodes with one output only implement `apply`.
  virtual void apply_multi(TensorT* grads, TensorT* out) { apply(std::move(grads[0]), out); }

  /// Frees the saved tensors (called after backward unless retain_graph).
  virtual void release_variables() {}

  /// Shapes of the tensors this node saved for backward (still held).
  virtual std::vector<Sizes> saved_sizes() const { return {}; }

  /// True only for AccumulateGrad, the sink of a leaf.
  virtual bool is_accumulator() const { return false; }

  int num_edges() const { return edges_.size(); }
  const Edge<T>& edge(int i) const { return edges_[i]; }
  void add_edge(Edge<T> e) { edges_.push_back(std::move(e)); }
  /// add_edge({fn, input_nr}) without building the edge first.
  void add_edge(const std::shared_ptr<BasicNode>& fn, int input_nr) { edges_.push_back(fn, input_nr); }
  void set_edge(int i, Edge<T> e) { edges_[i] = std::move(e); }

  /// The edges in input order: {next node, input_nr}, null where no gradient.
  std::vector<std::pair<std::shared_ptr<BasicNode>, int>> next_functions() const {
    std::vector<std::pair<std::shared_ptr<BasicNode>, int>> r;
    r.reserve(static_cast<std::size_t>(edges_.size()));
    for (int i = 0; i < edges_.size(); ++i) r.emplace_back(edges_[i].fn, edges_[i].input_nr);
    return r;
  }
  /// The same edges as libtorch's `next_edges()`: `.function`, `.input_nr`.
  std::vector<EdgeRef<T>> next_edges() const {
    std::vector<EdgeRef<T>> r;
    r.reserve(static_cast<std::size_t>(edges_.size()));
    for (int i = 0; i < edges_.size(); ++i) r.push_back({edges_[i].fn, static_cast<std::uint32_t>(edges_[i].input_nr)});
    return r;
  }

  /// What the tensors this node produced asked for (most nodes have none:
  /// kept out of line, made on first use).
  struct Hooks {
    /// Hooks of the non-leaf tensors this node produced (by output number).
    std::vector<TensorHook<T>> tensor_hooks;
    /// Non-leaf tensors whose `.grad` keeps the gradient arriving here.
    std::vector<std::weak_ptr<TensorImpl<T>>> retain_grad;
  };
  /// This node's hooks, made on first use.
  Hooks& hooks() {
    if (!hooks_) hooks_ = std::make_unique<Hooks>();
    return *hooks_;
  }
  /// This node's hooks, or null when none were ever added.
  Hooks* hooks_if_any() const { return hooks_.get(); }

  // Per-backward bookkeeping owned by the engine (see engine.hpp).
  struct EngineState {
    std::uint64_t task = 0;
    int deps = 0;
    bool needed = true;
    bool expanded = false;
    /// is_accumulator() and num_outputs(), read once when discovered (the
    /// run loop then makes no virtual call to learn them).
    bool accumulator = false;
    std::int64_t buffer = -1;
    int target = -1;
    int outputs = 1;
  } engine_state;

 private:
  detail::EdgeList<Edge<T>, 2> edges_;
  std::unique_ptr<Hooks> hooks_;
};

}  // namespace metagrad
