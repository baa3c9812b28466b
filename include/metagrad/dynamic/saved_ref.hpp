// metagrad/dynamic/saved_ref.hpp — how the elementwise nodes (UnaryNode,
// BinaryNode, ScalarNode) keep and read what their backward formula needs
// without a tensor handle per saved value: SavedOutput keeps an op's output
// inside the node (no alias impl of its own), and SavedRef hands a formula a
// saved tensor's impl in place, making a tensor handle only when the formula
// has to run as tensor ops (broadcasting, strides, create_graph).
//
// On a chain of 0-d ops (callgrind, g++ -O3): an alias impl per saved output
// cost ~330 instructions to make and free, and a handle per saved operand
// ~40 more, of the ~1,800 an op with its backward takes.
#pragma once
#include "rule_node.hpp"  // (NotSaved, operand_if)

namespace metagrad {

/// An op's output saved for its own node's backward. Saving the output's
/// impl would make a cycle (the impl's grad_fn is this node), so the node
/// keeps the output's geometry and a share of its elements in an impl of its
/// own, built in place (no allocation), and itself only weakly: the output
/// comes back connected to its node only when create_graph asks for it.
template <class T>
class SavedOutput {
 public:
  SavedOutput() = default;
  SavedOutput(const SavedOutput&) = delete;
  SavedOutput& operator=(const SavedOutput&) = delete;

  void save(const BasicTensor<T>& out, bool /*is_output: always*/) {
    const auto& src = out.impl();
    alias_.storage = src.storage;
    alias_.offset = src.offset;
    alias_.numel = src.numel;
    alias_.sizes = src.sizes;
    alias_.strides = src.strides;
    version_ = src.storage->version;
    output_nr_ = src.output_nr;
    node_ = out.grad_fn_ref();
    saved_ = true;
  }

  /// The saved output's impl, read in place, after the checks of unpack.
  const TensorImpl<T>& checked_impl(BasicNode<T>& self) const {
    if (released_) detail::fail(detail::kSecondTime);
    if (alias_.storage->version != version_) detail::fail_saved_modified(alias_, version_, self, 0u, self.name());
    return alias_;
  }

  /// The saved output as a tensor: with create_graph, connected to the node
  /// that made it (so the formula's ops are differentiable again).
  BasicTensor<T> unpack(BasicNode<T>& self) const {
    if (!saved_) return {};
    checked_impl(self);
    if (is_grad_enabled()) return BasicTensor<T>(detail::reconnected_output(alias_, node_, output_nr_, self));
    return BasicTensor<T>(alias_impl(alias_));
  }
  void reset() {
    if (!saved_) return;
    released_ = true;
    alias_.storage.reset();
    node_.reset();
  }
  bool defined() const { return saved_; }
  void collect(std::vector<Sizes>& out) const {
    if (saved_ && !released_) out.push_back(alias_.sizes);
  }

 private:
  TensorImpl<T> alias_;  // the output's elements and geometry, no history
  std::weak_ptr<BasicNode<T>> node_;
  std::uint32_t version_ = 0, output_nr_ = 0;
  bool saved_ = false, released_ = false;
};

/// A node's slot for its own output: a SavedOutput when the rule reads it.
template <class T, bool Used, int Tag>
using SavedOutputSlot = std::conditional_t<Used, SavedOutput<T>, NoSavedVariable<T, Tag>>;

namespace detail {

/// A saved tensor as a backward formula's operand: its impl read in place
/// (checked for release and in-place change when made), and the slot to
/// unpack a tensor from when the formula runs as tensor ops.
template <class S, class T>
struct SavedRef {
  const S* slot = nullptr;
  BasicNode<T>* self = nullptr;
  const TensorImpl<T>* impl = nullptr;  // null: not read by this call
  BasicTensor<T> tensor() const { return slot->unpack(*self); }
};

/// The slot as a SavedRef when the formula reads it (`Needed`), NotSaved
/// otherwise; a slot that saved nothing gives an empty ref.
template <bool Needed, class S, class T>
auto ref_if(const S& s, BasicNode<T>& self, bool read = true) {
  if constexpr (!Needed || std::is_empty_v<S>) return NotSaved{};
  else return SavedRef<S, T>{&s, &self, read && s.defined() ? &s.checked_impl(self) : nullptr};
}

/// The operand itself when the formula needs it (bit `Bit` of `Needs`).
template <unsigned Needs, unsigned Bit, class S, class T>
auto operand_if(const SavedRef<S, T>& r) {
  if constexpr ((Needs & Bit) != 0) return r;
  else return NotSaved{};
}
template <unsigned Needs, unsigned Bit>
NotSaved operand_if(NotSaved) { return {}; }

// What run_formula reads of an operand, a tensor or a saved ref.
template <class T> const TensorImpl<T>& operand_impl(const BasicTensor<T>& t) { return t.impl(); }
template <class S, class T> const TensorImpl<T>& operand_impl(const SavedRef<S, T>& r) { return *r.impl; }
/// The operand as a tensor (a saved ref unpacked), for the formula as tensor ops.
template <class T> const BasicTensor<T>& as_tensor(const BasicTensor<T>& t) { return t; }
template <class S, class T> BasicTensor<T> as_tensor(const SavedRef<S, T>& r) { return r.tensor(); }
inline NotSaved as_tensor(NotSaved n) { return n; }

}  // namespace detail
}  // namespace metagrad
