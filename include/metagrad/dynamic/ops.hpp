// metagrad/dynamic/ops.hpp — the differentiable operations of mg::Tensor.
// Elementwise ops take their forward function and their backward formula
// from rules/elementwise.hpp (the one derivative table); this file only
// wires them into graph nodes, plus the structural ops (reductions, matrix
// products, views) whose backward is written with the same Tensor ops so
// that create_graph can differentiate it again.
#pragma once
#include <cmath>
#include <random>

#include "../rules/linalg.hpp"
#include "../rules/extrema.hpp"
#include "../rules/pow.hpp"
#include "rule_node.hpp"
#include "saved_ref.hpp"

namespace metagrad {

namespace detail {
// (views.hpp: a view of `self` with this geometry, recording `step`)
template <class T>
BasicTensor<T> make_view(const BasicTensor<T>& self, Sizes sizes, Sizes strides, std::int64_t offset,
                         const ViewStep& step, const char* node_name);
}  // namespace detail

// Forward declarations of the free functions used inside backward formulas.
template <class T> BasicTensor<T> operator-(const BasicTensor<T>& a);
template <class T> BasicTensor<T> operator+(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T> BasicTensor<T> operator-(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T> BasicTensor<T> operator*(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T> requires std::is_floating_point_v<T>
BasicTensor<T> operator/(const BasicTensor<T>& a, const BasicTensor<T>& b);

namespace detail {

// (an operand is a tensor, a saved tensor read in place — SavedRef — or NotSaved)
template <class A, class T>
bool fuses_with(const A& a, const BasicTensor<T>& g) {
  if constexpr (is_not_saved_v<A>) return true;
  else return operand_impl(a).sizes == g.sizes() && operand_impl(a).is_contiguous();
}
template <class A>
decltype(auto) fused_operand(const A& a) {
  if constexpr (is_not_saved_v<A>) return a;
  else return kernels::cmap(operand_impl(a));
}
template <class A>
decltype(auto) scalar_operand(const A& a) {
  if constexpr (is_not_saved_v<A>) return a;
  else return *operand_impl(a).data();
}
/// Has this operand one element (or is it not saved)? When g and every
/// operand have one, the formula's result has g's shape whatever their own
/// shapes (all ones: g's is their broadcast) and strides, so it runs on the
/// numbers with no shape or stride checks (a chain of 0-d tensors).
template <class A>
bool one_element_operand(const A& a) {
  if constexpr (is_not_saved_v<A>) return true;
  else return operand_impl(a).numel == 1;
}

/// Evaluates a backward formula. Without create_graph, when every operand is
/// contiguous and of the gradient's shape, it runs as ONE fused Eigen loop;
/// otherwise (broadcasting, strides, or create_graph) it runs as Tensor ops.
/// Operands the node did not save are NotSaved.
template <class T, class F, class... Ts>
BasicTensor<T> run_formula_tensors(F&& f, const BasicTensor<T>& g, const Ts&... args) {
  if (!is_grad_enabled() && g.is_contiguous() && (fuses_with(args, g) && ...)) {
    return BasicTensor<T>(std::in_place, [&] {
      auto out = new_impl<T>(g.sizes());
      if (kernels::one_element(*out)) *out->data() = f(*g.impl().data(), scalar_operand(args)...);
      else kernels::map(*out) = f(kernels::cmap(g.impl()), fused_operand(args)...);
      return out;
    });
  }
  return f(g, as_tensor(args)...);
}
/// run_formula_tensors, with the case of one element everywhere (a chain of
/// 0-d tensors) inline in the node's apply: as a call, its result came back
/// through memory as two 8-byte stores that the caller's move read as one
/// 16-byte load, a failed store-to-load forward every node (perf).
template <class T, class F, class... Ts>
METAGRAD_INLINE inline BasicTensor<T> run_formula(F&& f, const BasicTensor<T>& g, const Ts&... args) {
  if (!is_grad_enabled() && g.impl().numel == 1 && (one_element_operand(args) && ...)) {
    return BasicTensor<T>(std::in_place, [&] {
      auto out = new_impl<T>(g.sizes());
      *out->data() = f(*g.impl().data(), scalar_operand(args)...);
      return out;
    });
  }
  return run_formula_tensors<T>(std::forward<F>(f), g, args...);
}
/// The same, for a caller that reads g no more: when g is exclusively owned
/// (the engine hands each node its gradient by value) the fused result is
/// written over g's own elements, with no new tensor (a coefficient-wise
/// assignment reads element i of g before it writes it; no operand can share
/// g's storage).
template <class T, class F, class... Ts>
BasicTensor<T> run_formula_in_g_tensors(F&& f, BasicTensor<T>&& g, const Ts&... args) {
  if (!is_grad_enabled() && g.is_contiguous() && exclusively_owned(g) && (fuses_with(args, g) && ...)) {
    if (kernels::one_element(g.impl())) *g.impl().data() = f(*g.impl().data(), scalar_operand(args)...);
    else kernels::map(g.impl()) = f(kernels::cmap(g.impl()), fused_operand(args)...);
    return std::move(g);
  }
  return run_formula<T>(std::forward<F>(f), g, args...);
}
template <class T, class F, class... Ts>
METAGRAD_INLINE inline BasicTensor<T> run_formula_in_g(F&& f, BasicTensor<T>&& g, const Ts&... args) {
  if (!is_grad_enabled() && g.impl().numel == 1 && (one_element_operand(args) && ...) && exclusively_owned(g)) {
    *g.impl().data() = f(*g.impl().data(), scalar_operand(args)...);
    return std::move(g);
  }
  return run_formula_in_g_tensors<T>(std::forward<F>(f), std::move(g), args...);
}

/// g summed to `sizes` (broadcasting's adjoint), or g itself, moved, when it
/// has them already.
template <class T>
BasicTensor<T> reduced_to(BasicTensor<T>&& g, const Sizes& sizes) {
  if (g.sizes() == sizes) return std::move(g);
  return g.sum_to_size(sizes);
}

/// An input's shape as a binary node keeps it for reducing a broadcast
/// gradient back to it: nothing when the input had the output's shape (most
/// ops), the shape out of line otherwise — a node carries no two 72-byte
/// shape lists it never reads.
class InputShape {
 public:
  void set(const Sizes& input, const Sizes& output) {
    if (!(input == output)) s_ = make_pooled<Sizes>(input);
  }
  bool broadcast() const { return s_ != nullptr; }
  const Sizes& sizes() const { return *s_; }

 private:
  PoolPtr<Sizes> s_;  // (from the small-object pool: no malloc per broadcasting op)
};

/// g summed to the input's shape, or g itself when the input was not broadcast.
template <class T>
BasicTensor<T> reduced_to(BasicTensor<T>&& g, const InputShape& shape) {
  if (!shape.broadcast()) return std::move(g);
  return reduced_to(std::move(g), shape.sizes());
}

template <class T>
BasicTensor<T> scalar_tensor(T v) {
  auto impl = new_impl<T>(Sizes{});
  *impl->data() = v;
  return BasicTensor<T>(std::move(impl));
}

}  // namespace detail

// ======================================================= elementwise unary
/// out = op(x) elementwise, backward `rule.vjp(x, y, g)` as one fused loop
/// over g's elements (in place in g when the node holds it alone). Rule is a
/// row of the table (no state: the member takes no room) or a rule holding
/// run-time parameters (clamp's bounds: rules::Clamp, ClampMinArg,
/// ClampMaxArg; RuleNode would run its formula as tensor ops, a tensor per
/// comparison and per select). x and y are saved only when the formula
/// reads them.
template <class Rule, class T>
class UnaryNode final : public BasicNode<T> {
 public:
  static constexpr unsigned needs = rules::param_needs<Rule>;
  explicit UnaryNode(const char* n, Rule rule = {}) : name_(n), rule_(std::move(rule)) {}
  std::string name() const override { return name_; }
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    const auto x = detail::ref_if<(needs & rules::kA) != 0>(this->x, *this);
    const auto y = detail::ref_if<(needs & rules::kY) != 0>(this->y, *this);
    const Rule& r = rule_;
    out[0] = detail::run_formula_in_g<T>(
        [&r](const auto& g_, const auto& x_, const auto& y_) { return r.vjp(x_, y_, g_); }, std::move(g), x, y);
  }
  void release_variables() override { x.reset(); y.reset(); }
  std::vector<Sizes> saved_sizes() const override { return SavedVariable<T>::shapes(x, y); }
  [[no_unique_address]] SavedSlot<T, (needs & rules::kA) != 0, 0> x;
  [[no_unique_address]] SavedOutputSlot<T, (needs & rules::kY) != 0, 1> y;

 private:
  const char* name_;
  [[no_unique_address]] Rule rule_;
};

namespace detail {
/// Records `rule` (a row of the table, or one with run-time parameters) as
/// the backward of out = op(x) elementwise, when x needs a gradient.
template <class R, class T>
void record_unary(BasicTensor<T>& out, const BasicTensor<T>& x, const char* name, R rule = {}) {
  if (!(is_grad_enabled() && x.requires_grad())) return;
  using N = UnaryNode<R, T>;
  auto n = make_node<T, N>(name, std::move(rule));
  add_gradient_edge(*n, x);
  if constexpr ((N::needs & rules::kA) != 0) n->x.save(x, false);
  auto* node = n.get();
  set_history(out, std::move(n));
  if constexpr ((N::needs & rules::kY) != 0) node->y.save(out, true);
}
}  // namespace detail

/// The rows whose result on an integer tensor is an integer tensor (PyTorch's
/// neg, abs, sign, relu, square); the others compute fractions.
template <class Rule, class T>
inline constexpr bool integer_row =
    math::Integer<T> && (std::is_same_v<Rule, rules::Neg> || std::is_same_v<Rule, rules::Abs> ||
                         std::is_same_v<Rule, rules::Sign> || std::is_same_v<Rule, rules::Relu> ||
                         std::is_same_v<Rule, rules::Square>);

/// PyTorch refuses `-` on bool tensors (a mask is inverted with `!`); so do
/// we, at compile time, with its sentences.
#define METAGRAD_BOOL_SUB_MESSAGE                                                                        \
  "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a " \
  "mask, use the `~` or `logical_not()` operator instead (in C++: `!mask`)."
#define METAGRAD_BOOL_SUB_BOTH_MESSAGE                                                                   \
  "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "            \
  "`logical_xor()` operator instead (in C++: `a != b`)."

template <class Rule, class T>
BasicTensor<T> unary_op(const BasicTensor<T>& x, const char* name = Rule::node_name) {
  static_assert(!(std::is_same_v<T, bool> && std::is_same_v<Rule, rules::Neg>),
                "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a "
                "mask, use the `~` or `logical_not()` operator instead (in C++: `!mask`).");
  if constexpr (!std::is_floating_point_v<T> && !integer_row<Rule, T> && !std::is_same_v<Rule, rules::Neg>) {
    METAGRAD_REQUIRE_FLOATING(T);  // (no kernel instantiated: one message, not a page)
    return x;
  } else {
    BasicTensor<T> out(std::in_place,
                       [&] { return kernels::unary(x.impl(), [](const auto& v) { return Rule::f(v); }); });
    detail::record_unary<Rule>(out, x, name);
    return out;
  }
}

namespace detail {
/// The dynamic op of a user's rule (METAGRAD_DEFINE_UNARY_OP, custom_op.hpp).
template <class Rule, class T>
BasicTensor<T> custom_unary(const BasicTensor<T>& x) { return unary_op<Rule>(x); }
}  // namespace detail

// ====================================================== elementwise binary
template <class Rule, class T>
class BinaryNode final : public BasicNode<T> {
 public:
  explicit BinaryNode(const char* n) : name_(n) {}
  std::string name() const override { return name_; }
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    const bool ga = this->edge(0).valid(), gb = this->edge(1).valid();
    const unsigned need = (ga ? rules::grad_a_needs<Rule> : 0u) | (gb ? rules::grad_b_needs<Rule> : 0u);
    // unpacked once for both sides; each side's formula is handed only what
    // it reads (the rest NotSaved)
    const auto a = detail::ref_if<(kReads & rules::kA) != 0>(this->a, *this, (need & rules::kA) != 0);
    const auto b = detail::ref_if<(kReads & rules::kB) != 0>(this->b, *this, (need & rules::kB) != 0);
    const auto y = detail::ref_if<(kReads & rules::kY) != 0>(this->y, *this, (need & rules::kY) != 0);
    using detail::operand_if;
    if (ga) {
      constexpr unsigned na = rules::grad_a_needs<Rule>;
      if constexpr (rules::passes_a<Rule>()) {
        out[0] = detail::reduced_to(gb ? BasicTensor<T>(g) : std::move(g), a_shape);
      } else {
        auto f = [](const auto& g_, const auto& a_, const auto& b_, const auto& y_) { return Rule::vjp_a(a_, b_, y_, g_); };
        const auto A = operand_if<na, rules::kA>(a);
        const auto B = operand_if<na, rules::kB>(b);
        const auto Y = operand_if<na, rules::kY>(y);
        // (g's elements are reused only when b's side will not read it)
        out[0] = detail::reduced_to(
            gb ? detail::run_formula<T>(f, g, A, B, Y) : detail::run_formula_in_g<T>(f, std::move(g), A, B, Y), a_shape);
      }
    }
    if (gb) {
      constexpr unsigned nb = rules::grad_b_needs<Rule>;
      if constexpr (rules::passes_b<Rule>())
        out[1] = detail::reduced_to(std::move(g), b_shape);
      else
        out[1] = detail::reduced_to(
            detail::run_formula_in_g<T>(
                [](const auto& g_, const auto& a_, const auto& b_, const auto& y_) { return Rule::vjp_b(a_, b_, y_, g_); },
                std::move(g), operand_if<nb, rules::kA>(a), operand_if<nb, rules::kB>(b), operand_if<nb, rules::kY>(y)),
            b_shape);
    }
  }
  /// Which of a, b, y to save when gradients flow to a (ga) and/or b (gb).
  static unsigned saves(bool ga, bool gb) { return (ga ? rules::grad_a_needs<Rule> : 0u) | (gb ? rules::grad_b_needs<Rule> : 0u); }
  void release_variables() override { a.reset(); b.reset(); y.reset(); }
  std::vector<Sizes> saved_sizes() const override { return SavedVariable<T>::shapes(a, b, y); }
  static constexpr unsigned kReads = rules::grad_a_needs<Rule> | rules::grad_b_needs<Rule>;
  [[no_unique_address]] SavedSlot<T, (kReads & rules::kA) != 0, 0> a;
  [[no_unique_address]] SavedSlot<T, (kReads & rules::kB) != 0, 1> b;
  [[no_unique_address]] SavedOutputSlot<T, (kReads & rules::kY) != 0, 2> y;
  detail::InputShape a_shape, b_shape;  // set where the input was broadcast

 private:
  const char* name_;
};

template <class Rule, class T>
BasicTensor<T> binary_op(const BasicTensor<T>& a, const BasicTensor<T>& b, const char* name = Rule::node_name) {
  static_assert(!(std::is_same_v<T, bool> && std::is_same_v<Rule, rules::Sub>), METAGRAD_BOOL_SUB_BOTH_MESSAGE);
  if constexpr (std::is_same_v<Rule, rules::Atan2> || std::is_same_v<Rule, rules::Hypot>)
    METAGRAD_REQUIRE_FLOATING(T);  // (as exp and the other fractions: convert first)
  BasicTensor<T> out(std::in_place, [&] {
    return kernels::binary(a.impl(), b.impl(), [](const auto& x, const auto& y) { return Rule::f(x, y); });
  });
  // (integer and bool tensors never require grad: no node to instantiate)
  if constexpr (std::is_floating_point_v<T>) {
    if (!is_grad_enabled()) return out;
    const bool ra = a.requires_grad(), rb = b.requires_grad();
    if (ra || rb) {
      auto n = make_node<T, BinaryNode<Rule, T>>(name);
      n->a_shape.set(a.sizes(), out.sizes());
      n->b_shape.set(b.sizes(), out.sizes());
      add_gradient_edge(*n, a);
      add_gradient_edge(*n, b);
      const unsigned save = BinaryNode<Rule, T>::saves(ra, rb);
      if (save & rules::kA) n->a.save(a, false);
      if (save & rules::kB) n->b.save(b, false);
      auto* node = n.get();
      set_history(out, std::move(n));
      if (save & rules::kY) node->y.save(out, true);
    }
  }
  return out;
}

/// A binary op with one scalar operand c (x op c when ScalarIsB, c op x
/// otherwise): the same rule, the scalar kept inline instead of as a tensor.
/// Like PyTorch it has two edges, the scalar's being null.
template <class Rule, class T, bool ScalarIsB>
class ScalarNode final : public BasicNode<T> {
 public:
  ScalarNode(const char* n, T c) : name_(n), c_(c) {}
  std::string name() const override { return name_; }
  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    constexpr unsigned need = ScalarIsB ? rules::grad_a_needs<Rule> : rules::grad_b_needs<Rule>;
    if (released_.marked()) detail::fail(detail::kSecondTime);
    const auto x = detail::ref_if<(need & (ScalarIsB ? rules::kA : rules::kB)) != 0>(this->x, *this);
    const auto y = detail::ref_if<(need & rules::kY) != 0>(this->y, *this);
    const T c = c_;
    if constexpr (ScalarIsB && rules::passes_a<Rule>()) out[0] = std::move(g);
    else if constexpr (!ScalarIsB && rules::passes_b<Rule>()) out[1] = std::move(g);
    else if constexpr (ScalarIsB)
      out[0] = detail::run_formula_in_g<T>(
          [c](const auto& g_, const auto& x_, const auto& y_) { return Rule::vjp_a(x_, c, y_, g_); }, std::move(g), x, y);
    else
      out[1] = detail::run_formula_in_g<T>(
          [c](const auto& g_, const auto& x_, const auto& y_) { return Rule::vjp_b(c, x_, y_, g_); }, std::move(g), x, y);
  }
  void release_variables() override {
    x.reset();
    y.reset();
    released_.mark();
  }
  std::vector<Sizes> saved_sizes() const override { return SavedVariable<T>::shapes(x, y); }
  static constexpr unsigned kReads = ScalarIsB ? rules::grad_a_needs<Rule> : rules::grad_b_needs<Rule>;
  /// Does the tensor side's formula read the scalar? PyTorch saves a wrapped
  /// number like any operand (`x * 2`: MulBackward0 saves `other`), so a
  /// second backward through such a node without retain_graph fails as it
  /// does there; `x + 2` and `x - 2` save nothing and may run again.
  static constexpr bool kReadsScalar = (kReads & (ScalarIsB ? rules::kB : rules::kA)) != 0;
  static unsigned saves() { return kReads; }
  [[no_unique_address]] SavedSlot<T, (kReads & (ScalarIsB ? rules::kA : rules::kB)) != 0, 0> x;
  [[no_unique_address]] SavedOutputSlot<T, (kReads & rules::kY) != 0, 1> y;

 private:
  const char* name_;
  T c_;
  [[no_unique_address]] ReleaseMark<kReadsScalar> released_;
};

template <class Rule, bool ScalarIsB, class T>
BasicTensor<T> scalar_op(const BasicTensor<T>& x, T c, const char* name = Rule::node_name) {
  static_assert(!(std::is_same_v<T, bool> && std::is_same_v<Rule, rules::Sub>), METAGRAD_BOOL_SUB_MESSAGE);
  BasicTensor<T> out(std::in_place, [&] {
    return kernels::unary(x.impl(), [c](const auto& v) {
      if constexpr (ScalarIsB) return Rule::f(v, c);
      else return Rule::f(c, v);
    });
  });
  if constexpr (std::is_floating_point_v<T>) {  // (no node for integer tensors)
    if (is_grad_enabled() && x.requires_grad()) {
      using N = ScalarNode<Rule, T, ScalarIsB>;
      auto n = make_node<T, N>(name, c);
      if constexpr (!ScalarIsB) n->add_edge({});
      add_gradient_edge(*n, x);
      if constexpr (ScalarIsB) n->add_edge({});
      const unsigned save = N::saves();
      if (save & (ScalarIsB ? rules::kA : rules::kB)) n->x.save(x, false);
      auto* node = n.get();
      set_history(out, std::move(n));
      if (save & rules::kY) node->y.save(out, true);
    }
  }
  return out;
}

// =============================================================== operators
#define METAGRAD_UNARY_FREE(Rule, fn) \
  template <class T> BasicTensor<T> fn(const BasicTensor<T>& x) { return x.fn(); } \
  template <class T> BasicTensor<T> BasicTensor<T>::fn() const { return unary_op<rules::Rule>(*this); }
METAGRAD_FOR_EACH_UNARY(METAGRAD_UNARY_FREE)
#undef METAGRAD_UNARY_FREE

template <class T> BasicTensor<T> operator-(const BasicTensor<T>& a) { return neg(a); }

/// psi^(n)(x) elementwise, n >= 0 (0 is digamma). PolygammaBackward0:
/// d/dx = g psi^(n+1)(x) (rules::PolygammaOrder), recorded with this same op,
/// so create_graph goes on to any order (the static rows are rules::Polygamma<N>).
template <class T>
BasicTensor<T> polygamma(int n, const BasicTensor<T>& x) {
  detail::check(n >= 0, "polygamma(n, x) does not support negative n.");
  if (n == 0) return x.digamma();
  BasicTensor<T> out(std::in_place, [&] {
    return kernels::unary(x.impl(), [n](const auto& v) {
      if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(v)>>) return math::polygamma(n, v);
      else return v.unaryExpr([n](T e) { return math::polygamma(n, e); });
    });
  });
  record_rule(out, x, "PolygammaBackward0", rules::PolygammaOrder{n});
  return out;
}
/// The rules' name for psi^(N) (rules::Digamma's derivative is polygamma_n<1>).
template <int N, class T>
BasicTensor<T> polygamma_n(const BasicTensor<T>& x) { return polygamma(N, x); }

#define METAGRAD_BINARY_FREE(OP, Rule)                                                          \
  template <class T>                                                                           \
  BasicTensor<T> operator OP(const BasicTensor<T>& a, const BasicTensor<T>& b) {               \
    return binary_op<rules::Rule>(a, b);                                                       \
  }                                                                                            \
  template <class T>                                                                           \
  BasicTensor<T> operator OP(const BasicTensor<T>& a, std::type_identity_t<T> b) {             \
    return scalar_op<rules::Rule, true>(a, b);                                                 \
  }
METAGRAD_BINARY_FREE(+, Add)
METAGRAD_BINARY_FREE(-, Sub)
METAGRAD_BINARY_FREE(*, Mul)
#undef METAGRAD_BINARY_FREE
/// Division is true division, as PyTorch's `/`: only floating-point tensors
/// divide here; integer and bool ones are promoted first (promotion.hpp).
template <class T> requires std::is_floating_point_v<T>
BasicTensor<T> operator/(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return binary_op<rules::Div>(a, b);
}
template <class T> requires std::is_floating_point_v<T>
BasicTensor<T> operator/(const BasicTensor<T>& a, std::type_identity_t<T> b) {
  return scalar_op<rules::Div, true>(a, b);
}

#define METAGRAD_ARITH_MEMBER(name, OP)                                                                          \
  template <class T> BasicTensor<T> BasicTensor<T>::name(const BasicTensor& o) const { return *this OP o; } \
  template <class T> BasicTensor<T> BasicTensor<T>::name(T o) const { return *this OP o; }
METAGRAD_ARITH_MEMBER(add, +)
METAGRAD_ARITH_MEMBER(sub, -)
METAGRAD_ARITH_MEMBER(mul, *)
METAGRAD_ARITH_MEMBER(div, /)
#undef METAGRAD_ARITH_MEMBER

/// The binary rows of the table (METAGRAD_FOR_EACH_BINARY), broadcasting:
/// atan2 (Atan2Backward0), hypot (HypotBackward0), minimum / maximum
/// (MinimumBackward0 / MaximumBackward0: ties split the gradient); free
/// functions and members (`a.atan2(b)`).
#define METAGRAD_BINARY_FN(Rule, fn)                                                                          \
  template <class T>                                                                                         \
  BasicTensor<T> fn(const BasicTensor<T>& a, const BasicTensor<T>& b) { return binary_op<rules::Rule>(a, b); } \
  template <class T>                                                                                         \
  BasicTensor<T> BasicTensor<T>::fn(const BasicTensor& other) const { return metagrad::fn(*this, other); }
METAGRAD_FOR_EACH_BINARY(METAGRAD_BINARY_FN)
#undef METAGRAD_BINARY_FN

template <class T>
BasicTensor<T> operator+(std::type_identity_t<T> a, const BasicTensor<T>& b) { return b + a; }
template <class T>
BasicTensor<T> operator*(std::type_identity_t<T> a, const BasicTensor<T>& b) { return b * a; }
/// c - x (RsubBackward1): gradient -g.
template <class T>
BasicTensor<T> operator-(std::type_identity_t<T> a, const BasicTensor<T>& b) {
  static_assert(!std::is_same_v<T, bool>, METAGRAD_BOOL_SUB_MESSAGE);
  BasicTensor<T> out(std::in_place, [&] { return kernels::unary(b.impl(), [a](const auto& v) { return T(a) - v; }); });
  detail::record_unary<rules::Neg>(out, b, "RsubBackward1");
  return out;
}
/// c / x = reciprocal(x) * c, as PyTorch records it.
template <class T> requires std::is_floating_point_v<T>
BasicTensor<T> operator/(std::type_identity_t<T> a, const BasicTensor<T>& b) { return reciprocal(b) * a; }

/// x^c for a scalar c: PowBackward0.
template <class T>
BasicTensor<T> pow(const BasicTensor<T>& x, std::type_identity_t<T> c) {
  if constexpr (math::Integer<T>) detail::check(c >= 0, "Integers to negative integer powers are not allowed.");
  return scalar_op<rules::Pow, true>(x, T(c), "PowBackward0");
}
template <class T>
BasicTensor<T> pow(const BasicTensor<T>& x, const BasicTensor<T>& e) { return binary_op<rules::Pow>(x, e); }
template <class T>
BasicTensor<T> pow(std::type_identity_t<T> base, const BasicTensor<T>& e) {
  return scalar_op<rules::Pow, false>(e, T(base), "PowBackward2");
}
template <class T> BasicTensor<T> BasicTensor<T>::pow(T c) const { return metagrad::pow(*this, c); }
template <class T> BasicTensor<T> BasicTensor<T>::pow(const BasicTensor& e) const { return metagrad::pow(*this, e); }

// ======================================================== shape functions
// Their backward formulas are rules/structure.hpp's (Expand, SumToSize, Clone).

/// A view reading the tensor as if broadcast to `target` (PyTorch's rules: a
/// -1 keeps a dimension, new dimensions lead, a size-1 dimension repeats):
/// broadcast dimensions get stride 0, so no element is copied. Its rule is
/// Expand: dx = sum_to_size(g, x.sizes()).
template <class T>
BasicTensor<T> BasicTensor<T>::expand(const Sizes& target) const {
  const int nd = target.size(), own = dim();
  if (nd < own)
    detail::fail("expand(", detail::tensor_type_name<T>(), "{", sizes(), "}, size=", target,
                 "): the number of sizes provided (", nd,
                 ") must be greater or equal to the number of dimensions in the tensor (", own, ")");
  Sizes s = target, st;
  st.resize(nd);
  for (int i = nd - 1; i >= 0; --i) {
    const int j = i - (nd - own);
    if (j < 0) {  // a new leading dimension
      detail::check(target[i] >= 0, "The expanded size of the tensor (", target[i],
                    ") isn't allowed in a leading, non-existing dimension ", i);
      st[i] = 0;
      continue;
    }
    const std::int64_t have = sizes()[j];
    if (target[i] == -1 || target[i] == have) {
      s[i] = have;
      st[i] = strides()[j];
    } else {
      detail::check(have == 1 && target[i] >= 0, "The expanded size of the tensor (", target[i],
                    ") must match the existing size (", have, ") at non-singleton dimension ", i,
                    ".  Target sizes: ", target, ".  Tensor sizes: ", sizes());
      st[i] = 0;
    }
  }
  return detail::make_view(*this, s, st, impl().offset, ViewStep{ViewStep::Expand, 0, 0, 0, 1, s}, "ExpandBackward0");
}

template <class T>
BasicTensor<T> BasicTensor<T>::sum_to_size(const Sizes& s) const {
  if (s == sizes()) return *this;
  BasicTensor out(kernels::sum_to(impl(), s));
  record_rule(out, *this, "SumToSizeBackward0", [&] { return rules::SumToSize{sizes()}; });
  return out;
}

template <class T>
BasicTensor<T> BasicTensor<T>::clone() const {
  BasicTensor out(kernels::contiguous_copy(impl()));
  record_rule(out, *this, "CloneBackward0", rules::Clone{});
  return out;
}

template <class T>
BasicTensor<T> BasicTensor<T>::contiguous() const { return is_contiguous() ? *this : clone(); }

// Free forms of the shape functions (the rules' formulas call these).
template <class T> BasicTensor<T> expand(const BasicTensor<T>& x, const Sizes& s) { return x.expand(s); }
template <class T> BasicTensor<T> broadcast_to(const BasicTensor<T>& x, const Sizes& s) { return x.expand(s); }
template <class T> BasicTensor<T> sum_to_size(const BasicTensor<T>& x, const Sizes& s) { return x.sum_to_size(s); }
template <class T> BasicTensor<T> reshape(const BasicTensor<T>& x, const Sizes& s) { return x.reshape(s); }
template <class T> BasicTensor<T> clone(const BasicTensor<T>& x) { return x.clone(); }
template <class T> BasicTensor<T> t(const BasicTensor<T>& x) { return x.t(); }
template <class T> BasicTensor<T> permute(const BasicTensor<T>& x, const Sizes& dims) { return x.permute(dims); }
template <class T> BasicTensor<T> transpose(const BasicTensor<T>& x, int d0, int d1) { return x.transpose(d0, d1); }
template <class T> BasicTensor<T> select(const BasicTensor<T>& x, int d, std::int64_t index) { return x.select(d, index); }
template <class T>
BasicTensor<T> slice(const BasicTensor<T>& x, int d, std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
                     std::int64_t step = 1) {
  return x.slice(d, start, stop, step);
}
template <class T> BasicTensor<T> narrow(const BasicTensor<T>& x, int d, std::int64_t start, std::int64_t length) {
  return x.narrow(d, start, length);
}

// ============================================================== reductions
template <class T>
BasicTensor<T> reduce_op(const BasicTensor<T>& x, int dim, bool keepdim, bool mean) {
  Sizes target;
  if (dim >= 0) {
    target = x.sizes();
    target[dim] = 1;
  }
  auto impl = kernels::sum_to(x.impl(), target);
  const std::int64_t count = dim >= 0 ? x.sizes()[dim] : x.numel();
  const T scale = mean ? T(1) / static_cast<T>(count) : T(1);
  if (mean) kernels::map(*impl) *= scale;
  if (dim >= 0 && !keepdim) {
    impl->sizes.erase(dim);
    impl->strides = detail::contiguous_strides(impl->sizes);
  }
  BasicTensor<T> out(std::move(impl));
  const char* name = mean ? (dim >= 0 ? "MeanBackward1" : "MeanBackward0") : (dim >= 0 ? "SumBackward1" : "SumBackward0");
  record_rule(out, x, name, [&] { return rules::SumMean<T>{x.sizes(), target, dim >= 0 && !keepdim, scale}; });
  return out;
}

namespace detail {
/// A fresh contiguous impl holding x's values cast to T (no history): what
/// the promotions of integer and bool tensors copy.
template <class T, class U>
std::shared_ptr<TensorImpl<T>> cast_impl(const BasicTensor<U>& x) {
  const auto c = x.contiguous();
  auto impl = new_impl<T>(x.sizes());
  std::transform(c.data_ptr(), c.data_ptr() + c.numel(), impl->data(), [](U v) { return static_cast<T>(v); });
  return impl;
}
/// A bool tensor's elements as int64 counts (what its sum, product and
/// running sum are taken over).
inline BasicTensor<std::int64_t> counts(const BasicTensor<bool>& x) {
  return BasicTensor<std::int64_t>(cast_impl<std::int64_t>(x));
}
}  // namespace detail

template <class T> BasicTensor<detail::accumulate_t<T>> BasicTensor<T>::sum() const {
  if constexpr (std::is_same_v<T, bool>) return detail::counts(*this).sum();
  else return reduce_op(*this, -1, false, false);
}
template <class T> BasicTensor<T> BasicTensor<T>::mean() const {
  METAGRAD_REQUIRE_FLOATING(T);
  return reduce_op(*this, -1, false, true);
}
template <class T> BasicTensor<detail::accumulate_t<T>> BasicTensor<T>::sum(int d, bool keepdim) const {
  if constexpr (std::is_same_v<T, bool>) return detail::counts(*this).sum(d, keepdim);
  else return reduce_op(*this, wrap_dim(d, dim()), keepdim, false);
}
template <class T> BasicTensor<T> BasicTensor<T>::mean(int d, bool keepdim) const {
  METAGRAD_REQUIRE_FLOATING(T);
  return reduce_op(*this, wrap_dim(d, dim()), keepdim, true);
}
template <class T> auto sum(const BasicTensor<T>& x) { return x.sum(); }
template <class T> auto sum(const BasicTensor<T>& x, int dim, bool keepdim = false) { return x.sum(dim, keepdim); }
template <class T> BasicTensor<T> mean(const BasicTensor<T>& x) { return x.mean(); }
template <class T> BasicTensor<T> mean(const BasicTensor<T>& x, int dim, bool keepdim = false) { return x.mean(dim, keepdim); }

// ========================================================= matrix products
namespace detail {
inline std::string shape_str(const Sizes& s) {
  std::ostringstream os;
  for (int i = 0; i < s.size(); ++i) os << (i ? "x" : "") << s[i];
  return os.str();
}
template <class T>
void check_mm(const char* op, const BasicTensor<T>& a, const BasicTensor<T>& b, std::int64_t ka, std::int64_t kb) {
  if (ka != kb)
    fail(op, ": mat1 and mat2 shapes cannot be multiplied (", shape_str(a.sizes()), " and ",
         shape_str(b.sizes()), ")");
}
}  // namespace detail

/// Products of 1-d/2-d tensors; their backward formulas are the rules
/// MatMul, Mv, Dot and Vm (rules/linalg.hpp), run by a PairNode.
enum class Product { MM, MV, DOT, VM };
template <class T>
BasicTensor<T> matmul_op(const BasicTensor<T>& a, const BasicTensor<T>& b, Product kind) {
  using K = Product;
  std::shared_ptr<TensorImpl<T>> out;
  const auto& A = a.impl();
  const auto& B = b.impl();
  switch (kind) {
    case K::MM:
      detail::check(a.dim() == 2 && b.dim() == 2, "mm: expected 2-d tensors, got ", a.sizes(), " and ", b.sizes());
      detail::check_mm("mm", a, b, a.size(1), b.size(0));
      out = new_impl<T>({a.size(0), b.size(1)});
      kernels::gemm(out->data(), A, B, a.size(0), b.size(1));
      break;
    case K::MV:
      detail::check(a.dim() == 2 && b.dim() == 1, "mv: expected a matrix and a vector, got ", a.sizes(), " and ", b.sizes());
      detail::check_mm("mv", a, b, a.size(1), b.size(0));
      out = new_impl<T>({a.size(0)});
      kernels::gemm(out->data(), A, B, a.size(0), 1);
      break;
    case K::DOT:
      detail::check(a.dim() == 1 && b.dim() == 1, "dot: expected 1-d tensors, got ", a.sizes(), " and ", b.sizes());
      detail::check_mm("dot", a, b, a.size(0), b.size(0));
      out = new_impl<T>(Sizes{});
      kernels::gemm(out->data(), A, B, 1, 1, true);
      break;
    case K::VM: {
      detail::check(a.dim() == 1 && b.dim() == 2, "matmul: expected a vector and a matrix");
      detail::check_mm("matmul", a, b, a.size(0), b.size(0));
      out = new_impl<T>({b.size(1)});
      kernels::gemm(out->data(), A, B, 1, b.size(1), true);
      break;
    }
  }
  BasicTensor<T> r(std::move(out));
  switch (kind) {
    case K::MM: record_pair_rule<rules::MatMul>(r, a, b, rules::MatMul::node_name); break;
    case K::MV: record_pair_rule<rules::Mv>(r, a, b, rules::Mv::node_name); break;
    case K::DOT: record_pair_rule<rules::Dot>(r, a, b, rules::Dot::node_name); break;
    case K::VM: record_pair_rule<rules::Vm>(r, a, b, rules::Vm::node_name); break;
  }
  return r;
}

template <class T> BasicTensor<T> mm(const BasicTensor<T>& a, const BasicTensor<T>& b) { return matmul_op(a, b, Product::MM); }
template <class T> BasicTensor<T> mv(const BasicTensor<T>& a, const BasicTensor<T>& b) { return matmul_op(a, b, Product::MV); }
template <class T> BasicTensor<T> dot(const BasicTensor<T>& a, const BasicTensor<T>& b) { return matmul_op(a, b, Product::DOT); }
template <class T> BasicTensor<T> bmm(const BasicTensor<T>& a, const BasicTensor<T>& b);  // (linalg.hpp)
namespace detail {
/// matmul's batched result handed out as PyTorch does: a view of the product
/// recorded as UnsafeViewBackward0 (its backward reshapes the gradient).
template <class T>
BasicTensor<T> unsafe_view(const BasicTensor<T>& r, const Sizes& s) {
  auto impl = alias_impl(r.impl());
  impl->sizes = s;
  impl->strides = contiguous_strides(s);
  BasicTensor<T> v(std::move(impl));
  record_rule(v, r, "UnsafeViewBackward0", [&] { return rules::Reshape{r.sizes()}; });
  return v;
}
}  // namespace detail
/// torch.matmul for 1-d and 2-d operands, and batched: 3-d @ 3-d (bmm) and
/// 3-d @ 2-d (one mm over the stacked rows).
template <class T>
BasicTensor<T> matmul(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const int da = a.dim(), db = b.dim();
  if (da == 1 && db == 1) return dot(a, b);
  if (da == 2 && db == 1) return mv(a, b);
  if (da == 1 && db == 2) return matmul_op(a, b, Product::VM);
  if (da == 2 && db == 2) return mm(a, b);
  if (da == 3 && db == 3) {
    const auto r = bmm(a, b);
    return detail::unsafe_view(r, r.sizes());
  }
  if (da == 3 && db == 2) {
    const auto r = mm(a.reshape({a.size(0) * a.size(1), a.size(2)}), b);
    return detail::unsafe_view(r, Sizes{a.size(0), a.size(1), b.size(1)});
  }
  detail::fail("matmul: supported operands are 1-d, 2-d, 3-d @ 3-d and 3-d @ 2-d, got ", a.sizes(), " and ",
               b.sizes());
}
template <class T> BasicTensor<T> BasicTensor<T>::matmul(const BasicTensor& o) const { return metagrad::matmul(*this, o); }
/// The matrix transpose (for 2-d tensors, t()).
template <class T> BasicTensor<T> transpose(const BasicTensor<T>& x) { return x.t(); }
/// The outer product a b^T of two vectors: recorded as broadcasting Mul
/// (MulBackward0, as PyTorch) when a gradient is wanted, else one rank-1
/// kernel (what mv's and v@M's backward call: twice as fast as the
/// broadcasting multiply at 64 x 64).
template <class T>
BasicTensor<T> outer(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  detail::check(a.dim() == 1 && b.dim() == 1, "outer: expected 1-d tensors, got ", a.sizes(), " and ", b.sizes());
  if (is_grad_enabled() && (a.requires_grad() || b.requires_grad())) return a.reshape({a.numel(), 1}) * b;
  auto out = new_impl<T>({a.numel(), b.numel()});
  kernels::outer(out->data(), a.impl(), b.impl());
  return BasicTensor<T>(std::move(out));
}
template <class T> BasicTensor<T> BasicTensor<T>::mm(const BasicTensor& o) const { return metagrad::mm(*this, o); }
template <class T> BasicTensor<T> BasicTensor<T>::mv(const BasicTensor& o) const { return metagrad::mv(*this, o); }
template <class T> BasicTensor<T> BasicTensor<T>::dot(const BasicTensor& o) const { return metagrad::dot(*this, o); }

}  // namespace metagrad
