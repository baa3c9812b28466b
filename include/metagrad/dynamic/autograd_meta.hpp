// metagrad/dynamic/autograd_meta.hpp — how tensors attach to the graph:
// AccumulateGrad for leaves, gradient edges, SavedVariable (with the version
// check that catches in-place modification) and the empty slot of an operand
// a rule never reads, and history helpers.
#pragma once
#include "kernels.hpp"

namespace metagrad {

/// The sink of a leaf that requires grad: backward accumulates into `.grad`.
/// It refers to its leaf weakly, so a `.grad` built with create_graph (whose
/// graph reaches this node) never keeps its own leaf alive: no cycle, no leak.
template <class T>
class AccumulateGrad final : public BasicNode<T> {
 public:
  explicit AccumulateGrad(std::weak_ptr<TensorImpl<T>> v) : variable(std::move(v)) {}
  std::string name() const override { return "AccumulateGrad"; }
  bool is_accumulator() const override { return true; }
  void apply(BasicTensor<T> grad, BasicTensor<T>*) override { accumulate(variable, std::move(grad)); }

  /// .grad += grad (in place without create_graph, out of place with it).
  static void accumulate(const std::weak_ptr<TensorImpl<T>>& target, BasicTensor<T> grad) {
    auto impl = target.lock();
    if (!impl || !grad.defined()) return;
    auto& g = impl->extras().grad;
    if (!g.defined()) {
      const bool unique = grad.impl_ptr().use_count() == 1 && grad.impl().storage.use_count() == 1 &&
                          !grad.impl().grad_fn && grad.sizes() == impl->sizes && grad.is_contiguous();
      if (is_grad_enabled()) g = grad;
      else g = unique ? grad : grad.clone();
    } else if (!is_grad_enabled()) {
      g.add_(grad);
    } else {
      g = g + grad;
    }
  }
  std::weak_ptr<TensorImpl<T>> variable;
};

namespace detail {
/// Pooled room for one graph node of at most `Bytes` bytes, whatever its type.
/// make_node builds nodes inside these blocks rather than with
/// allocate_shared<N>: the shared_ptr machinery (control block, allocator
/// glue: some 50 functions) is then instantiated once per size class instead
/// of once per node type, about a tenth of the functions a translation unit
/// using dynamic mode emitted. The node is destroyed through its virtual
/// destructor.
template <class T, std::size_t Bytes>
struct NodeBlock {
  BasicNode<T>* node = nullptr;  // set once the node is built
  alignas(16) unsigned char bytes[Bytes];
  NodeBlock() noexcept {}
  NodeBlock(const NodeBlock&) = delete;
  NodeBlock& operator=(const NodeBlock&) = delete;
  ~NodeBlock() {
    if (node) node->~BasicNode();
  }
};
/// The size class of a node of `n` bytes: steps of a quarter of a power of two.
constexpr std::size_t node_block_bytes(std::size_t n) {
  std::size_t p = 64;
  while (p < n) p <<= 1;
  const std::size_t q = p / 4;
  return (n + q - 1) / q * q;
}
}  // namespace detail

/// A new node of type N (a BasicNode<T>) built from `a`, pooled.
template <class T, class N, class... A>
std::shared_ptr<N> make_node(A&&... a) {
  static_assert(alignof(N) <= 16, "metagrad: graph nodes are aligned to 16 bytes at most");
  using Block = detail::NodeBlock<T, detail::node_block_bytes(sizeof(N))>;
  auto block = std::allocate_shared<Block>(detail::PoolAllocator<Block>{});
  N* n = ::new (static_cast<void*>(block->bytes)) N(std::forward<A>(a)...);
  block->node = n;
  return std::shared_ptr<N>(std::move(block), n);
}

/// The leaf's AccumulateGrad (created on first use, shared afterwards).
template <class T>
const std::shared_ptr<BasicNode<T>>& grad_accumulator(const std::shared_ptr<TensorImpl<T>>& leaf) {
  auto& acc = leaf->extras().grad_accumulator;
  if (!acc) acc = make_node<T, AccumulateGrad<T>>(std::weak_ptr<TensorImpl<T>>(leaf));
  return acc;
}

/// Where the gradient of `t` must go: its grad_fn, its leaf accumulator, or nowhere.
template <class T>
Edge<T> gradient_edge(const BasicTensor<T>& t) {
  if (const auto& fn = t.grad_fn_ref()) return {fn, static_cast<int>(t.impl().output_nr)};
  if (t.impl().requires_grad) return {grad_accumulator(t.impl_ptr()), 0};
  return {};
}

/// n.add_edge(gradient_edge(t)), the edge written straight into the node.
template <class T>
void add_gradient_edge(BasicNode<T>& n, const BasicTensor<T>& t) {
  if (const auto& fn = t.grad_fn_ref()) n.add_edge(fn, static_cast<int>(t.impl().output_nr));
  else if (t.impl().requires_grad) n.add_edge(grad_accumulator(t.impl_ptr()), 0);
  else n.add_edge(Edge<T>{});
}

/// Makes `fn` the history of `out`, taking over the op's own handle (its last
/// use: the op then reaches the node through a raw pointer). By rvalue
/// reference, not by value: a handle passed by value was built on the stack as
/// two words and moved in as one; and not copied: a copy raised the node's
/// count with a 4-byte store that the handle's release, at the op's end, read
/// back in an 8-byte load of both counts — failed store-to-load forwards, the
/// second 6% of a chain of 0-d multiplies and sines (perf).
template <class T, class N>
void set_history(BasicTensor<T>& out, std::shared_ptr<N>&& fn) {
  out.impl().grad_fn = std::move(fn);
  out.impl().output_nr = 0;
}

namespace detail {
/// t is the only handle on its elements: no other tensor, view or saved
/// variable shares its impl or its storage, it is neither a graph's output
/// nor a leaf, and no two of its indices share an element (not expanded), so
/// its elements may be overwritten in place.
template <class T>
bool exclusively_owned(const BasicTensor<T>& t) {
  const auto& impl = t.impl();
  return t.impl_ptr().use_count() == 1 && impl.storage.use_count() == 1 && !impl.grad_fn && !impl.requires_grad &&
         !impl.has_internal_overlap();
}
}  // namespace detail

namespace detail {
template <class T> constexpr const char* tensor_type_name() {
  return std::is_same_v<T, float> ? "torch.FloatTensor" : "torch.DoubleTensor";
}
/// Throws PyTorch's error for a saved tensor changed in place after it was
/// saved: `saved` holds its elements and geometry, `producer` names the node
/// whose output `output_nr` it is (empty: a leaf or a constant).
template <class T>
[[noreturn]] void fail_saved_modified(const TensorImpl<T>& saved, std::uint32_t expected_version, const BasicNode<T>& self,
                                      std::uint32_t output_nr, const std::string& producer) {
  std::ostringstream os;
  os << "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: ["
     << tensor_type_name<T>() << " " << saved.sizes << "]";
  if (!producer.empty()) os << ", which is output " << output_nr << " of " << producer;
  os << ", is at version " << saved.storage->version << "; expected version " << expected_version
     << " instead. Hint: the tensor was changed in place after this node (" << self.name()
     << ") saved it for backward; clone it before the in-place op.";
  throw Error(os.str());
}
/// A saved output's elements and geometry (`saved`) as a new impl connected
/// to the node that made it (held weakly by the saver: `node`), for a
/// create_graph backward whose formula must be differentiable again.
template <class T>
std::shared_ptr<TensorImpl<T>> reconnected_output(const TensorImpl<T>& saved, const std::weak_ptr<BasicNode<T>>& node,
                                                  std::uint32_t output_nr, const BasicNode<T>& self) {
  auto a = alias_impl(saved);
  a->grad_fn = node.lock();
  a->output_nr = output_nr;
  check(a->grad_fn != nullptr, "metagrad: the output saved by ", self.name(),
        " was saved before the node became its history");
  return a;
}
inline const char* kSecondTime =
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward.";
}  // namespace detail

/// A tensor saved for backward, with the version it had when saved. It keeps
/// the data and the gradient edge, never the tensor object itself, so saving
/// a leaf or the node's own output makes no reference cycle.
template <class T>
class SavedVariable {
 public:
  SavedVariable() = default;
  SavedVariable(const SavedVariable&) = delete;
  SavedVariable& operator=(const SavedVariable&) = delete;
  ~SavedVariable() { detail::release_later(std::move(data_)); }

  void save(const BasicTensor<T>& t, bool is_output) {
    const auto& src = t.impl();
    saved_ = true;
    is_output_ = is_output;
    version_ = src.storage->version;
    if (is_output) {  // (the saving node, weakly: it holds this)
      node_ = t.grad_fn_ref();
      output_nr_ = src.output_nr;
    } else {
      const auto& fn = t.grad_fn_ref();  // (once: t.requires_grad() is this or the leaf flag)
      if ((!fn && !src.requires_grad) || (fn && !src.retains_grad && !src.is_view())) {
        // a constant (no graph to keep), or a computed input: saved itself, as
        // PyTorch does — its grad_fn is not this node and it holds no gradient,
        // so no cycle can form (a view or a tensor that retains its gradient
        // gets an alias, below)
        data_ = t.impl_ptr();
        return;
      }
      if (src.requires_grad) {  // a leaf: its alias, made once and shared
        data_ = leaf_alias(t);
        return;
      }
    }
    data_ = alias_impl(src);
    if (!is_output) {
      auto e = gradient_edge(t);
      data_->grad_fn = std::move(e.fn);
      data_->output_nr = static_cast<std::uint32_t>(e.input_nr);
    }
  }

  /// A leaf's alias with its AccumulateGrad edge (saving the leaf itself could
  /// make a cycle through a create_graph .grad). Kept in the leaf and reused
  /// while the leaf's geometry is unchanged: the alias refers to the
  /// accumulator, which refers to the leaf only weakly.
  static std::shared_ptr<TensorImpl<T>> leaf_alias(const BasicTensor<T>& t) {
    auto& src = t.impl();
    auto& x = src.extras();
    auto& a = x.saved_alias;
    if (!a || a->storage != src.storage || a->offset != src.offset || a->sizes != src.sizes ||
        a->strides != src.strides || !a->grad_fn || a->grad_fn != x.grad_accumulator) {
      a = alias_impl(src);
      a->grad_fn = grad_accumulator(t.impl_ptr());
    }
    return a;
  }

  /// The saved tensor's impl, read in place (no handle made), after the
  /// checks unpack makes; `self` is the node that saved it.
  const TensorImpl<T>& checked_impl(BasicNode<T>& self) const {
    if (released_) detail::fail(detail::kSecondTime);
    if (data_->storage->version != version_) {
      std::string producer;  // (a leaf or a constant: none)
      if (is_output_) producer = self.name();
      else if (data_->grad_fn && data_->grad_fn->name() != "AccumulateGrad") producer = data_->grad_fn->name();
      detail::fail_saved_modified(*data_, version_, self, is_output_ ? 0u : data_->output_nr, producer);
    }
    return *data_;
  }

  /// The saved tensor; `self` is the node that saved it (used for outputs).
  BasicTensor<T> unpack(BasicNode<T>& self) const {
    if (!saved_) return {};
    checked_impl(self);
    if (is_output_ && is_grad_enabled())  // create_graph: reconnect the output to its node
      return BasicTensor<T>(detail::reconnected_output(*data_, node_, output_nr_, self));
    return BasicTensor<T>(data_);
  }
  void reset() {
    if (!saved_) return;
    released_ = true;
    detail::release_later(std::move(data_));
  }
  bool defined() const { return saved_; }
  /// Appends the saved tensor's shape while it is held.
  void collect(std::vector<Sizes>& out) const {
    if (saved_ && !released_ && data_) out.push_back(data_->sizes);
  }
  template <class... S>
  static std::vector<Sizes> shapes(const S&... s) {
    std::vector<Sizes> r;
    (s.collect(r), ...);
    return r;
  }

 private:
  std::shared_ptr<TensorImpl<T>> data_;
  std::weak_ptr<BasicNode<T>> node_;  // an output's node
  std::uint32_t version_ = 0, output_nr_ = 0;
  bool saved_ = false, is_output_ = false, released_ = false;
};

/// The slot of an operand a node's rule never reads: it takes no room (with
/// [[no_unique_address]]), saves nothing and unpacks to an undefined tensor.
/// `Tag` keeps two such slots of one node distinct types, so both fold away.
template <class T, int Tag>
class NoSavedVariable {
 public:
  void save(const BasicTensor<T>&, bool) {}
  BasicTensor<T> unpack(BasicNode<T>&) const { return {}; }
  void reset() {}
  bool defined() const { return false; }
  void collect(std::vector<Sizes>&) const {}
};

/// A node's slot for one operand: a SavedVariable when the rule can read it
/// (`Used`, known from the rule at compile time), else nothing.
template <class T, bool Used, int Tag>
using SavedSlot = std::conditional_t<Used, SavedVariable<T>, NoSavedVariable<T, Tag>>;

/// Has a node's release_variables run? Kept only by a node that saved
/// something PyTorch's node saves too (`Used`), which then refuses a second
/// backward; elsewhere it takes no room (with [[no_unique_address]]).
template <bool Used>
class ReleaseMark {
 public:
  void mark() { released_ = true; }
  bool marked() const { return released_; }

 private:
  bool released_ = false;
};
template <>
class ReleaseMark<false> {
 public:
  void mark() {}
  static constexpr bool marked() { return false; }
};

}  // namespace metagrad
