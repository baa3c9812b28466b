// metagrad/dynamic/rule_node.hpp — the graph nodes that run a rule whose
// formula is not elementwise: one input with the op's own arguments
// (`RuleNode`, rules/structure.hpp and the linear-algebra rules), one input
// per part (`ListNode`: cat, stack), two inputs of unrelated shapes
// (`PairNode`: the matrix products), and one input with several outputs of
// which one has a gradient (`MultiOutputRuleNode`: slogdet). A node saves exactly what its formula
// reads (probed, rules/probe.hpp) and hands the formula `NotSaved` for the
// rest, so a formula that reads an operand it did not save does not compile.
#pragma once
#include <array>
#include <type_traits>
#include <utility>

#include "../rules/linalg.hpp"
#include "../rules/structure.hpp"
#include "autograd_meta.hpp"

namespace metagrad {
namespace detail {

/// Stands in a backward formula's slot for an operand the node did not save.
/// It has no operations, so a formula that reads it does not compile: what a
/// node saves is probed from the same formula (rules/probe.hpp), and this
/// makes a read of anything else a compile error instead of a wrong gradient.
struct NotSaved {};
template <class A> inline constexpr bool is_not_saved_v = std::is_same_v<A, NotSaved>;

/// The operand itself when the formula needs it (bit `Bit` of `Needs`),
/// NotSaved otherwise.
template <unsigned Needs, unsigned Bit, class T>
auto operand_if(const BasicTensor<T>& t) {
  if constexpr ((Needs & Bit) != 0) return t;
  else return NotSaved{};
}
/// The saved tensor, unpacked only when the formula reads it.
template <bool Needed, class S, class T>
auto unpack_if(const S& s, BasicNode<T>& self) {
  if constexpr (Needed) return s.unpack(self);
  else return NotSaved{};
}

/// Does rule R hold a tensor operand of the op (an index, a loss's target
/// weights) that PyTorch's node saves? Then it counts as saved: a second
/// backward through the node without retain_graph fails, as there.
template <class R>
inline constexpr bool keeps_tensors = [] {
  if constexpr (requires { R::keeps_tensors; }) return R::keeps_tensors;
  else return false;
}();

}  // namespace detail

/// out = op(x) with backward `rule.vjp(x, y, g)`; x and y saved only when
/// the formula reads them (rules::param_needs<R>).
template <class R, class T>
class RuleNode final : public BasicNode<T> {
 public:
  static constexpr unsigned needs = rules::param_needs<R>;
  RuleNode(const char* name, R rule) : name_(name), rule_(std::move(rule)) {}
  std::string name() const override { return name_; }
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    if (released_.marked()) detail::fail(detail::kSecondTime);
    out[0] = rule_.vjp(detail::unpack_if<(needs & rules::kA) != 0>(x, *this),
                       detail::unpack_if<(needs & rules::kY) != 0>(y, *this), g);
  }
  void release_variables() override {
    x.reset();
    y.reset();
    released_.mark();
  }
  std::vector<Sizes> saved_sizes() const override { return SavedVariable<T>::shapes(x, y); }
  SavedVariable<T> x, y;

 private:
  const char* name_;
  R rule_;
  [[no_unique_address]] ReleaseMark<detail::keeps_tensors<R>> released_;
};

/// Records `rule` as the backward of out = op(x) (when x needs a gradient);
/// `rule` may be a function making it, called only then (no copy of a shape
/// or an index on a path that records nothing).
template <class RuleOrMake, class T>
void record_rule(BasicTensor<T>& out, const BasicTensor<T>& x, const char* name, RuleOrMake&& rule) {
  if (!(is_grad_enabled() && x.requires_grad())) return;
  auto make = [&]() -> decltype(auto) {
    if constexpr (std::is_invocable_v<RuleOrMake&>) return rule();
    else return std::forward<RuleOrMake>(rule);
  };
  using R = std::remove_cvref_t<decltype(make())>;
  using N = RuleNode<R, T>;
  auto n = make_node<T, N>(name, make());
  add_gradient_edge(*n, x);
  if constexpr ((N::needs & rules::kA) != 0) n->x.save(x, false);
  auto* node = n.get();
  set_history(out, std::move(n));
  if constexpr ((N::needs & rules::kY) != 0) node->y.save(out, true);
}

/// outs = op(x) with R::outputs outputs of which only output R::grad_output
/// has a gradient (the others are piecewise constant, like slogdet's sign):
/// backward `rule.vjp(x, y, g)` with that output's g, zeros of x's shape
/// when only the others' gradients arrived.
template <class R, class T>
class MultiOutputRuleNode final : public BasicNode<T> {
 public:
  static constexpr unsigned needs = rules::param_needs<R>;
  static_assert((needs & rules::kY) == 0, "a rule with several outputs may not read its outputs in its backward formula");
  MultiOutputRuleNode(const char* name, R rule, Sizes in) : name_(name), rule_(std::move(rule)), in_(std::move(in)) {}
  std::string name() const override { return name_; }
  int num_outputs() const override { return R::outputs; }
  /// (The engine calls apply_multi for a node of several outputs; a lone
  /// gradient here is output 0's.)
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    std::array<BasicTensor<T>, R::outputs> gs;
    gs[0] = std::move(g);
    apply_multi(gs.data(), out);
  }
  void apply_multi(BasicTensor<T>* gs, BasicTensor<T>* out) override {
    const auto x_ = detail::unpack_if<(needs & rules::kA) != 0>(x, *this);
    if (gs[R::grad_output].defined()) {
      out[0] = rule_.vjp(x_, detail::NotSaved{}, gs[R::grad_output]);
    } else {
      BasicTensor<T> z(new_impl<T>(in_));
      kernels::fill(z.impl(), T(0));
      out[0] = std::move(z);
    }
  }
  void release_variables() override { x.reset(); }
  std::vector<Sizes> saved_sizes() const override { return SavedVariable<T>::shapes(x); }
  SavedVariable<T> x;

 private:
  const char* name_;
  R rule_;
  Sizes in_;
};
/// Records `rule` as the backward of the outputs `outs` of op(x).
template <class R, class T>
void record_multi_output_rule(const std::array<BasicTensor<T>*, R::outputs>& outs, const BasicTensor<T>& x,
                              const char* name, R rule) {
  if (!(is_grad_enabled() && x.requires_grad())) return;
  using N = MultiOutputRuleNode<R, T>;
  auto n = make_node<T, N>(name, std::move(rule), x.sizes());
  add_gradient_edge(*n, x);
  if constexpr ((N::needs & rules::kA) != 0) n->x.save(x, false);
  for (std::size_t k = 0; k < outs.size(); ++k) {
    outs[k]->impl().grad_fn = n;
    outs[k]->impl().output_nr = static_cast<std::uint32_t>(k);
  }
}

/// out = op(xs[0], xs[1], ...) with part i's gradient `rule.vjp_at(g, i)`.
template <class R, class T>
class ListNode final : public BasicNode<T> {
 public:
  ListNode(const char* name, R rule) : name_(name), rule_(std::move(rule)) {}
  std::string name() const override { return name_; }
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    for (int i = 0; i < this->num_edges(); ++i)
      if (this->edge(i).valid()) out[i] = rule_.vjp_at(g, static_cast<std::size_t>(i));
  }

 private:
  const char* name_;
  R rule_;
};
template <class R, class T>
void record_list_rule(BasicTensor<T>& out, const std::vector<BasicTensor<T>>& xs, const char* name, R rule) {
  bool any = false;
  for (const auto& x : xs) any = any || x.requires_grad();
  if (!(is_grad_enabled() && any)) return;
  auto n = make_node<T, ListNode<R, T>>(name, std::move(rule));
  for (const auto& x : xs) add_gradient_edge(*n, x);
  set_history(out, std::move(n));
}

/// out = op(a, b) for a binary rule whose operands have shapes of their own
/// (no broadcasting): `R::vjp_a(a, b, y, g)`, `R::vjp_b(a, b, y, g)`. An
/// operand or the output is saved only when a side's formula reads it and
/// that side needs a gradient.
template <class R, class T>
class PairNode final : public BasicNode<T> {
 public:
  static constexpr unsigned na = rules::grad_a_needs<R>, nb = rules::grad_b_needs<R>;
  explicit PairNode(const char* name) : name_(name) {}
  std::string name() const override { return name_; }
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    const bool ga = this->edge(0).valid(), gb = this->edge(1).valid();
    const unsigned need = (ga ? na : 0u) | (gb ? nb : 0u);
    const auto A = (need & rules::kA) ? a.unpack(*this) : BasicTensor<T>{};
    const auto B = (need & rules::kB) ? b.unpack(*this) : BasicTensor<T>{};
    const auto Y = (need & rules::kY) ? y.unpack(*this) : BasicTensor<T>{};
    using detail::operand_if;
    constexpr unsigned nab = na | nb;
    if constexpr (requires { R::vjp_ab(operand_if<nab, rules::kA>(A), operand_if<nab, rules::kB>(B), operand_if<nab, rules::kY>(Y), g); }) {
      if (ga && gb) {  // both sides from one computation (solve: dB once)
        auto [da, db] = R::vjp_ab(operand_if<nab, rules::kA>(A), operand_if<nab, rules::kB>(B), operand_if<nab, rules::kY>(Y), g);
        out[0] = std::move(da);
        out[1] = std::move(db);
        return;
      }
    }
    if (ga) out[0] = R::vjp_a(operand_if<na, rules::kA>(A), operand_if<na, rules::kB>(B), operand_if<na, rules::kY>(Y), g);
    if (gb) out[1] = R::vjp_b(operand_if<nb, rules::kA>(A), operand_if<nb, rules::kB>(B), operand_if<nb, rules::kY>(Y), g);
  }
  void release_variables() override { a.reset(); b.reset(); y.reset(); }
  std::vector<Sizes> saved_sizes() const override { return SavedVariable<T>::shapes(a, b, y); }
  SavedVariable<T> a, b, y;

 private:
  const char* name_;
};
template <class R, class T>
void record_pair_rule(BasicTensor<T>& out, const BasicTensor<T>& a, const BasicTensor<T>& b, const char* name) {
  if (!(is_grad_enabled() && (a.requires_grad() || b.requires_grad()))) return;
  using N = PairNode<R, T>;
  auto n = make_node<T, N>(name);
  add_gradient_edge(*n, a);
  add_gradient_edge(*n, b);
  const unsigned save = (a.requires_grad() ? N::na : 0u) | (b.requires_grad() ? N::nb : 0u);
  if (save & rules::kA) n->a.save(a, false);
  if (save & rules::kB) n->b.save(b, false);
  auto* node = n.get();
  set_history(out, std::move(n));
  if (save & rules::kY) node->y.save(out, true);
}

}  // namespace metagrad
