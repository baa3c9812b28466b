// metagrad/dynamic/function.hpp — custom differentiable functions, with
// libtorch's API: `struct MyOp : mg::autograd::Function<MyOp>` declares
//   static Tensor forward(AutogradContext* ctx, Args...)      (or variable_list)
//   static variable_list backward(AutogradContext* ctx, variable_list grads)
// and `MyOp::apply(args...)` runs forward with grad mode off and records ONE
// node (`CppNode<MyOp>`) with an edge per tensor argument and an output per
// returned tensor. backward receives one gradient per output (zeros for an
// output that got none, unless set_materialize_grads(false)) and returns one
// per forward argument (undefined for non-tensor arguments).
#pragma once
#include <cxxabi.h>

#include <cstdlib>
#include <typeinfo>
#include <unordered_map>
#include <variant>

#include "factories.hpp"

namespace metagrad::autograd {

using Variable = Tensor;
using variable_list = std::vector<Tensor>;
using metagrad::Node;  // libtorch's torch::autograd::Node

/// A value kept in `ctx->saved_data` (libtorch's IValue, for the kinds a
/// backward needs: int, double, bool, Tensor).
class IValue {
 public:
  IValue() = default;
  template <class V> requires(std::is_integral_v<V> && !std::is_same_v<V, bool>)
  IValue(V v) : v_(static_cast<std::int64_t>(v)) {}
  IValue(double v) : v_(v) {}
  IValue(bool v) : v_(v) {}
  IValue(Tensor v) : v_(std::move(v)) {}
  bool isNone() const { return v_.index() == 0; }
  bool isInt() const { return v_.index() == 1; }
  bool isDouble() const { return v_.index() == 2; }
  bool isBool() const { return v_.index() == 3; }
  bool isTensor() const { return v_.index() == 4; }
  std::int64_t toInt() const { return get<std::int64_t>("Int"); }
  double toDouble() const { return get<double>("Double"); }
  bool toBool() const { return get<bool>("Bool"); }
  Tensor toTensor() const { return get<Tensor>("Tensor"); }

 private:
  template <class V>
  V get(const char* what) const {
    static const char* kinds[] = {"None", "Int", "Double", "Bool", "Tensor"};
    if (const V* p = std::get_if<V>(&v_)) return *p;
    metagrad::detail::fail("Expected ", what, " but got ", kinds[v_.index()]);
  }
  std::variant<std::monostate, std::int64_t, double, bool, Tensor> v_;
};

template <class X> class CppNode;

/// What forward leaves for backward (libtorch's AutogradContext).
class AutogradContext {
 public:
  AutogradContext() = default;
  AutogradContext(const AutogradContext&) = delete;
  AutogradContext& operator=(const AutogradContext&) = delete;

  /// Values for backward by name.
  std::unordered_map<std::string, IValue> saved_data;

  /// Tensors for backward; get_saved_variables() checks that none of them was
  /// modified in place since (and that backward has not freed them).
  void save_for_backward(variable_list to_save) { to_save_ = std::move(to_save); }
  variable_list get_saved_variables() const {
    metagrad::detail::check(!has_freed_buffers_, metagrad::detail::kSecondTime);
    auto node = grad_fn_.lock();
    variable_list r;
    r.reserve(saved_.size());
    for (const auto& s : saved_) r.push_back(s->unpack(*node));
    return r;
  }
  /// Inputs that forward modified in place (they are returned as outputs).
  void mark_dirty(const variable_list& inputs) {
    for (const auto& t : inputs) dirty_.push_back(t.impl_ptr());
  }
  /// Outputs that are not differentiable (they get no grad_fn; their
  /// gradient in backward is zeros).
  void mark_non_differentiable(const variable_list& outputs) {
    for (const auto& t : outputs) non_differentiable_.push_back(t.impl_ptr());
  }
  /// false: outputs that got no gradient reach backward as undefined tensors.
  void set_materialize_grads(bool value) { materialize_grads_ = value; }
  /// Does the tensor argument number i (counting tensor arguments only) need
  /// a gradient?
  bool needs_input_grad(std::size_t i) const {
    auto node = grad_fn_.lock();
    return node && static_cast<int>(i) < node->num_edges() && node->edge(static_cast<int>(i)).valid();
  }

 private:
  template <class X> friend class CppNode;
  template <class X> friend struct Function;
  static bool among(const std::vector<std::shared_ptr<TensorImpl<double>>>& v, const Tensor& t) {
    return t.defined() && std::find(v.begin(), v.end(), t.impl_ptr()) != v.end();
  }
  variable_list to_save_;
  std::vector<std::unique_ptr<SavedVariable<double>>> saved_;
  std::vector<std::shared_ptr<TensorImpl<double>>> dirty_, non_differentiable_;
  std::weak_ptr<Node> grad_fn_;
  bool materialize_grads_ = true, has_freed_buffers_ = false;
};

namespace detail {
inline std::string demangle(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string r = status == 0 && d ? d : name;
  std::free(d);
  return r;
}
}  // namespace detail

/// The node of a custom function X: one output per tensor forward returned.
template <class X>
class CppNode final : public Node {
 public:
  std::string name() const override { return "CppNode<" + detail::demangle(typeid(X).name()) + ">"; }
  int num_outputs() const override { return static_cast<int>(output_sizes_.size()); }
  void apply(Tensor grad, Tensor* out) override { apply_multi(&grad, out); }
  void apply_multi(Tensor* grads, Tensor* out) override {
    variable_list in(output_sizes_.size());
    for (std::size_t i = 0; i < in.size(); ++i)
      in[i] = grads[i].defined() || !ctx_.materialize_grads_ ? grads[i] : zeros(output_sizes_[i]);
    variable_list res = X::backward(&ctx_, std::move(in));
    const std::size_t nf = is_variable_input_.size();
    if (res.size() > nf && std::all_of(res.begin() + static_cast<std::ptrdiff_t>(nf), res.end(),
                                       [](const Tensor& t) { return !t.defined(); }))
      res.resize(nf);
    if (res.size() != nf)
      metagrad::detail::fail("function ", name(), " returned an incorrect number of gradients (expected ", nf, ", got ",
                             res.size(), ")");
    std::vector<Tensor> grads_out(static_cast<std::size_t>(num_edges()));
    int e = 0;
    for (std::size_t i = 0; i < nf; ++i) {
      if (!is_variable_input_[i]) {
        if (res[i].defined())
          metagrad::detail::fail("function ", name(), " returned a gradient different than None at position ", i + 1,
                                 ", but the corresponding forward input was not a Variable");
        continue;
      }
      Tensor g = std::move(res[i]);
      if (g.defined() && edge(e).valid()) {
        const Sizes& want = input_sizes_[static_cast<std::size_t>(e)];
        if (!(g.sizes() == want)) {
          bool expandable = g.dim() >= want.size();
          for (int k = 0; expandable && k < want.size(); ++k) {
            const auto w = want[want.size() - 1 - k], h = g.sizes()[g.dim() - 1 - k];
            expandable = w == h || w == 1;
          }
          if (!expandable)
            metagrad::detail::fail("Function ", name(), " returned an invalid gradient at index ", e, " - got ",
                                   g.sizes(), " but expected shape compatible with ", want);
          g = g.sum_to_size(want);
        }
        grads_out[static_cast<std::size_t>(e)] = std::move(g);
      }
      ++e;
    }
    for (int k = 0; k < num_edges(); ++k) out[k] = std::move(grads_out[static_cast<std::size_t>(k)]);
  }
  void release_variables() override {
    ctx_.saved_.clear();
    ctx_.has_freed_buffers_ = true;
  }
  std::vector<Sizes> saved_sizes() const override {
    std::vector<Sizes> r;
    for (const auto& s : ctx_.saved_) s->collect(r);
    return r;
  }

  AutogradContext ctx_;
  std::vector<bool> is_variable_input_;
  std::vector<Sizes> input_sizes_, output_sizes_;
};

/// Base of a custom function X (CRTP, as libtorch's torch::autograd::Function).
template <class X>
struct Function {
  template <class... Args>
  static auto apply(Args&&... args) {
    auto node = make_node<double, CppNode<X>>();
    variable_list inputs;
    auto extract = [&](const auto& a) {
      using A = std::remove_cvref_t<decltype(a)>;
      if constexpr (std::is_same_v<A, Tensor>) {
        node->is_variable_input_.push_back(true);
        inputs.push_back(a);
      } else if constexpr (std::is_same_v<A, variable_list>) {
        for (const auto& t : a) node->is_variable_input_.push_back(true), inputs.push_back(t);
      } else {
        node->is_variable_input_.push_back(false);
      }
    };
    (extract(args), ...);
    bool any = false;
    for (const auto& t : inputs) any = any || (t.defined() && t.requires_grad());
    const bool executable = is_grad_enabled() && any;
    if (executable)
      for (const auto& t : inputs) {
        if (t.defined()) add_gradient_edge(*node, t);
        else node->add_edge(Edge<double>{});
        node->input_sizes_.push_back(t.defined() ? t.sizes() : Sizes{});
      }
    node->ctx_.grad_fn_ = node;
    using Ret = decltype(X::forward(&node->ctx_, std::forward<Args>(args)...));
    static_assert(std::is_same_v<Ret, Tensor> || std::is_same_v<Ret, variable_list>,
                  "mg::autograd::Function: forward must return mg::Tensor or mg::autograd::variable_list");
    Ret ret;
    {
      AutoGradMode off(false);
      ret = X::forward(&node->ctx_, std::forward<Args>(args)...);
    }
    variable_list outs;
    if constexpr (std::is_same_v<Ret, Tensor>) outs.push_back(std::move(ret));
    else outs = std::move(ret);
    wrap_outputs(node, inputs, outs, executable);
    if constexpr (std::is_same_v<Ret, Tensor>) return outs[0];
    else return outs;
  }

 private:
  /// Gives each output its history (PyTorch's _wrap_outputs): a new tensor
  /// gets the node as grad_fn; an input returned unchanged is returned as a
  /// new alias with that history; an input marked dirty is itself rebased on
  /// the node; a non-differentiable output gets none. Then the tensors to
  /// save are saved (outputs as outputs, without a reference cycle).
  static void wrap_outputs(const std::shared_ptr<CppNode<X>>& self, const variable_list& inputs, variable_list& outs,
                           bool executable) {
    auto& node = *self;
    auto& ctx = node.ctx_;
    for (const auto& d : ctx.dirty_) {
      const bool returned = std::any_of(outs.begin(), outs.end(), [&](const Tensor& o) { return o.defined() && o.impl_ptr() == d; });
      metagrad::detail::check(returned, "Some elements marked as dirty during the forward method were not returned as output.");
      ++d->storage->version;
    }
    for (std::size_t i = 0; i < outs.size(); ++i) {
      Tensor& o = outs[i];
      if (!o.defined()) {
        node.output_sizes_.push_back({});
        continue;
      }
      const bool is_input =
          std::any_of(inputs.begin(), inputs.end(), [&](const Tensor& t) { return t.defined() && t.impl_ptr() == o.impl_ptr(); });
      const bool dirty = AutogradContext::among(ctx.dirty_, o);
      const bool differentiable = !AutogradContext::among(ctx.non_differentiable_, o);
      if (dirty && executable && o.is_leaf() && o.requires_grad())
        metagrad::detail::fail("a leaf Variable that requires grad has been used in an in-place operation.");
      if (is_input && !dirty) o = Tensor(alias_impl(o.impl()));
      node.output_sizes_.push_back(o.sizes());
      if (!executable || !differentiable) {
        if (!is_input || !dirty) o.impl().requires_grad = false;
        continue;
      }
      o.impl().grad_fn = self;
      o.impl().output_nr = static_cast<std::uint32_t>(i);
      o.impl().requires_grad = false;
    }
    // (They are only needed above: kept, a dirty input would hold the node
    // that holds it — a reference cycle.)
    ctx.dirty_.clear();
    ctx.non_differentiable_.clear();
    if (!executable) {
      ctx.to_save_.clear();
      return;
    }
    for (const auto& t : ctx.to_save_) {
      auto s = std::make_unique<SavedVariable<double>>();
      if (t.defined()) {
        const bool is_output = std::any_of(outs.begin(), outs.end(), [&](const Tensor& o) { return o.defined() && o.impl_ptr() == t.impl_ptr(); });
        s->save(t, is_output);
      }
      ctx.saved_.push_back(std::move(s));
    }
    ctx.to_save_.clear();
  }
};

}  // namespace metagrad::autograd
