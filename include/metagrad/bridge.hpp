// metagrad/bridge.hpp — a static expression evaluated on mg::Tensor bindings
// becomes ONE node of the dynamic graph. Forward: one vectorised pass over
// memory evaluating the whole expression per element. Backward: one pass of
// static/packet_pass.hpp (forward and reverse of the whole expression per
// SIMD packet, the same rule table as everywhere else), or — under
// create_graph — the same tape over Tensors, so the backward is itself
// differentiable. 0-d operands are read once (what depends only on them is
// computed once per pass); other broadcast operands are expanded to the
// output's shape.
#pragma once
#include <array>
#include <memory>
#include <vector>

#include "dynamic.hpp"
#include "static.hpp"

namespace metagrad {
namespace detail {

template <class T> struct is_bridge_value<BasicTensor<T>> : std::true_type {};

template <class V> inline constexpr bool is_tensor_v = is_bridge_value<std::remove_cvref_t<V>>::value;

/// A gradient slot that discards what it is given (for non-tensor bindings).
struct Ignore {
  template <class G> void operator+=(const G&) {}
};

/// Number of tensor bindings among the first I bindings.
template <std::size_t I, class... Bs>
constexpr std::size_t tensor_slot() {
  constexpr bool flags[] = {is_tensor_v<decltype(Bs::value)>..., false};
  std::size_t n = 0;
  for (std::size_t i = 0; i < I; ++i) n += flags[i];
  return n;
}

template <class T, class... Bs>
struct BridgeTraits {
  static constexpr std::size_t K = (std::size_t{is_tensor_v<decltype(Bs::value)>} + ...);
  using Seq = std::index_sequence_for<Bs...>;

  /// The bindings with every tensor as an Eigen array map (for the dense path).
  template <std::size_t... I>
  static auto as_maps(std::index_sequence<I...>, const std::tuple<const Bs&...>& bs,
                      const std::array<BasicTensor<T>, K>& ts) {
    return std::make_tuple(map_binding<I>(std::get<I>(bs), ts)...);
  }
  /// The binding type map_binding makes of B.
  template <class B>
  static auto map_binding_type(const B&) {
    if constexpr (is_tensor_v<decltype(B::value)>) return Binding<B::name, kernels::ConstArrayMap<T>>{kernels::ConstArrayMap<T>(nullptr, 0)};
    else return Binding<B::name, T>{T(0)};
  }
  /// How many node values of A's forward pass the backward reads back
  /// (static/keep_plan.hpp: store or recompute).
  template <class A>
  static constexpr std::size_t kept_count() {
    using Nodes = typename inner_order<typename hoisted<A, decltype(map_binding_type(std::declval<const Bs&>()))...>::type,
                                       TypeList<>>::type;
    return keep_plan<Nodes, decltype(map_binding_type(std::declval<const Bs&>()))...>::value.kept;
  }
  /// Gradient outputs for a forward-only pass (never written).
  template <std::size_t... I>
  static auto no_grads(std::index_sequence<I...>) {
    return std::make_tuple([] {
      if constexpr (is_tensor_v<decltype(std::tuple_element_t<I, std::tuple<Bs...>>::value)>)
        return Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(nullptr, 0);
      else return T(0);
    }()...);
  }
  template <std::size_t I, class B>
  static auto map_binding(const B& b, const std::array<BasicTensor<T>, K>& ts) {
    if constexpr (is_tensor_v<decltype(B::value)>)
      return Binding<B::name, kernels::ConstArrayMap<T>>{kernels::cmap(ts[tensor_slot<I, Bs...>()].impl())};
    else
      return Binding<B::name, T>{static_cast<T>(b.value)};
  }
  /// t as a contiguous tensor of the output's shape (broadcast operands are
  /// expanded and copied; nothing is recorded).
  static BasicTensor<T> full(const BasicTensor<T>& t, const Sizes& shape) {
    if (t.sizes() == shape && t.is_contiguous()) return t;
    bool one_value = true;  // 0-d, or expanded from one value: a fill
    for (auto st : t.strides()) one_value = one_value && st == 0;
    if (one_value || t.numel() == 1) {
      BasicTensor<T> r(new_impl<T>(shape));
      kernels::fill(r.impl(), *t.data_ptr());
      return r;
    }
    NoGradGuard no_grad;
    return t.expand(shape).contiguous();
  }
  /// Readies the tensor operands of a packet pass over the output's shape: a
  /// tensor holding one value (0-d) stays as it is and is flagged in
  /// pass.one (read once, its subexpressions computed once); any other is
  /// made a contiguous tensor of the output's shape.
  template <class Pass, std::size_t... I>
  static void operands(std::index_sequence<I...>, std::array<BasicTensor<T>, K>& ts, const Sizes& shape,
                       std::int64_t n, Pass& pass) {
    auto one = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
      if constexpr (is_tensor_v<decltype(std::tuple_element_t<J, std::tuple<Bs...>>::value)>) {
        auto& t = ts[tensor_slot<J, Bs...>()];
        if (t.numel() == 1 && n > 1) pass.one[J] = true;
        else t = full(t, shape);
      }
    };
    (one(std::integral_constant<std::size_t, I>{}), ...);
  }
  template <std::size_t... I>
  static std::array<BasicTensor<T>, K> tensors(std::index_sequence<I...>, const std::tuple<const Bs&...>& bs) {
    std::array<BasicTensor<T>, K> r;
    (assign_tensor<I>(r, std::get<I>(bs)), ...);
    return r;
  }
  template <std::size_t I, class B>
  static void assign_tensor(std::array<BasicTensor<T>, K>& r, const B& b) {
    if constexpr (is_tensor_v<decltype(B::value)>) r[tensor_slot<I, Bs...>()] = b.value;
  }
};

/// The NK node values a bridge forward pass keeps for its backward: NK arrays
/// of n elements in one storage (the tensors' buffer cache: no fresh pages per
/// call; uninitialised until the forward writes them).
template <class T, std::size_t NK>
struct KeptValues {
  std::shared_ptr<Storage<T>> storage;
  std::array<T*, NK> at{};
  KeptValues() = default;
  explicit KeptValues(std::int64_t n) {
    if constexpr (NK > 0) {
      storage = make_storage<T>(static_cast<std::int64_t>(NK) * n);
      for (std::size_t k = 0; k < NK; ++k) at[k] = storage->data + static_cast<std::int64_t>(k) * n;
    }
  }
  T* const* pointers() const {
    if constexpr (NK > 0) return storage ? at.data() : nullptr;
    else return nullptr;
  }
};

template <class E, class T, class... Bs>
class FusedNode final : public BasicNode<T> {
  using Tr = BridgeTraits<T, Bs...>;
  static constexpr std::size_t K = Tr::K;

 public:
  static constexpr std::size_t NK = Tr::template kept_count<typename numbered<E>::type>();
  FusedNode(const E& e, const std::tuple<const Bs&...>& bs, const std::array<BasicTensor<T>, K>& ts, Sizes out,
            KeptValues<T, NK> kept)
      : expr_(e), scalars_(scalar_values(typename Tr::Seq{}, bs)), out_(out), kept_(std::move(kept)) {
    for (std::size_t k = 0; k < K; ++k) {
      saved_[k].save(ts[k], false);
      sizes_[k] = ts[k].sizes();
      add_gradient_edge(*this, ts[k]);
    }
  }
  std::string name() const override { return "StaticExprBackward0"; }
  void release_variables() override {
    for (auto& s : saved_) s.reset();
    kept_ = KeptValues<T, NK>();
  }
  std::vector<Sizes> saved_sizes() const override {
    std::vector<Sizes> r;
    for (const auto& s : saved_) s.collect(r);
    return r;
  }

  void apply(BasicTensor<T> g, BasicTensor<T>* out) override {
    std::array<BasicTensor<T>, K> ts;
    for (std::size_t k = 0; k < K; ++k) ts[k] = saved_[k].unpack(*this);
    if (is_grad_enabled()) tensor_sweep(g, ts, out, typename Tr::Seq{});
    else packet_backward(g, ts, out, typename Tr::Seq{});
  }

 private:
  /// The values of the non-tensor bindings (tensor slots hold 0).
  template <std::size_t... I>
  static std::array<T, sizeof...(Bs)> scalar_values(std::index_sequence<I...>, const std::tuple<const Bs&...>& bs) {
    return {scalar_of_binding(std::get<I>(bs))...};
  }
  template <class B>
  static T scalar_of_binding(const B& b) {
    if constexpr (is_tensor_v<decltype(B::value)>) return T(0);
    else return static_cast<T>(b.value);
  }

  /// The backward as ONE vectorised pass over memory: static/packet_pass.hpp's fused
  /// packet sweep (the forward and reverse of the whole expression per SIMD
  /// packet), seeded per element with g. A 0-d operand's gradient is summed
  /// by the pass; other broadcast operands are expanded to the output's shape
  /// first and their gradients summed back.
  template <std::size_t... I>
  void packet_backward(const BasicTensor<T>& g0, std::array<BasicTensor<T>, K> ts, BasicTensor<T>* out,
                       std::index_sequence<I...>) {
    const BasicTensor<T> g = Tr::full(g0, out_);
    const std::int64_t n = g.numel();
    BroadcastPass<T, sizeof...(Bs), true> pass;
    pass.kept = kept_.pointers();
    Tr::operands(typename Tr::Seq{}, ts, out_, n, pass);
    std::array<BasicTensor<T>, K> gs;
    for (std::size_t k = 0; k < K; ++k) gs[k] = BasicTensor<T>(new_impl<T>(ts[k].numel() == 1 && n > 1 ? sizes_[k] : out_));
    using A = typename numbered<E>::type;
    (zero_if_unread<I, A>(gs), ...);
    auto maps = std::make_tuple(map_binding<I>(ts)...);
    auto grads = std::make_tuple(grad_out<I>(gs)...);
    std::apply([&](const auto&... b) {
      packet_pass_outlined<T, A, lanes<T>>(consts_of(expr_), grads, FrontierIO<T, 0>{}, ElementSeed<T>{g.data_ptr()}, pass, n, b...);
    }, maps);
    for (std::size_t k = 0; k < K; ++k)
      if (this->edge(static_cast<int>(k)).valid()) out[k] = gs[k].sizes() == sizes_[k] ? gs[k] : gs[k].sum_to_size(sizes_[k]);
  }
  template <std::size_t I>
  auto map_binding(const std::array<BasicTensor<T>, K>& ts) const {
    using B = std::tuple_element_t<I, std::tuple<Bs...>>;
    if constexpr (is_tensor_v<decltype(B::value)>)
      return Binding<B::name, kernels::ConstArrayMap<T>>{kernels::cmap(ts[tensor_slot<I, Bs...>()].impl())};
    else
      return Binding<B::name, T>{scalars_[I]};
  }
  /// Where the pass writes binding I's gradient: the tensor's buffer, or a
  /// scalar that is dropped (plain numbers get no gradient).
  template <std::size_t I>
  static auto grad_out(std::array<BasicTensor<T>, K>& gs) {
    using B = std::tuple_element_t<I, std::tuple<Bs...>>;
    if constexpr (is_tensor_v<decltype(B::value)>) {
      auto& t = gs[tensor_slot<I, Bs...>()];
      return Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(t.data_ptr(), t.numel());
    } else {
      return T(0);
    }
  }
  /// A tensor bound but not read by the expression gets a zero gradient.
  template <std::size_t I, class A>
  static void zero_if_unread(std::array<BasicTensor<T>, K>& gs) {
    using B = std::tuple_element_t<I, std::tuple<Bs...>>;
    if constexpr (is_tensor_v<decltype(B::value)> && !reads_direct<A, B::name>::value)
      kernels::fill(gs[tensor_slot<I, Bs...>()].impl(), T(0));
  }

  /// create_graph: the same sweep over Tensors, recorded op by op.
  template <std::size_t... I>
  void tensor_sweep(const BasicTensor<T>& g, const std::array<BasicTensor<T>, K>& ts, BasicTensor<T>* out,
                    std::index_sequence<I...>) {
    auto bs = std::make_tuple(tensor_binding<I>(ts)...);
    std::apply([&](const auto&... b) {
      using Sw = Sweep<T>;
      auto tape = Sw::fwd(expr_, b...);
      auto adj = std::make_tuple(slot_for(b)...);
      Sw::bwd(expr_, tape, g, adj, b...);
      (store<I>(std::get<I>(adj), out), ...);
    }, bs);
  }
  template <std::size_t I>
  auto tensor_binding(const std::array<BasicTensor<T>, K>& ts) const {
    using B = std::tuple_element_t<I, std::tuple<Bs...>>;
    if constexpr (is_tensor_v<decltype(B::value)>) return Binding<B::name, BasicTensor<T>>{ts[tensor_slot<I, Bs...>()]};
    else return Binding<B::name, T>{scalars_[I]};
  }
  template <class B>
  static auto slot_for(const B&) {
    if constexpr (is_tensor_v<decltype(B::value)>) return BasicTensor<T>{};
    else return Ignore{};
  }
  template <std::size_t I, class G>
  void store(G& grad, BasicTensor<T>* out) {
    if constexpr (std::is_same_v<G, BasicTensor<T>>) {
      constexpr std::size_t k = tensor_slot<I, Bs...>();
      if (this->edge(static_cast<int>(k)).valid() && grad.defined()) out[k] = grad.sum_to_size(sizes_[k]);
    }
  }

  E expr_;
  std::array<T, sizeof...(Bs)> scalars_;
  Sizes out_;
  std::array<SavedVariable<T>, K> saved_;
  std::array<Sizes, K> sizes_;
  KeptValues<T, NK> kept_;
};

}  // namespace detail

/// Evaluates `e` with tensor bindings: one fused pass forward, one fused node.
template <class E, class... Bs>
auto bridge_eval(const E& e, const Bs&... bs) {
  static_assert(is_elementwise<E>::value,
                "mg bridge: only elementwise expressions can be fused into one graph node "
                "(apply sum/mean/matmul to the resulting tensor instead)");
  using T = detail::common_scalar_t<Bs...>;
  using Tr = detail::BridgeTraits<T, Bs...>;
  constexpr std::size_t K = Tr::K;
  const auto bt = std::tuple<const Bs&...>(bs...);
  const auto ts = Tr::tensors(typename Tr::Seq{}, bt);
  Sizes shape = ts[0].sizes();
  for (std::size_t k = 1; k < K; ++k) shape = kernels::broadcast_shapes(shape, ts[k].sizes());
  BasicTensor<T> out(new_impl<T>(shape));
  using A = typename detail::numbered<E>::type;
  std::array<BasicTensor<T>, K> full = ts;
  bool needs = false;
  for (const auto& t : ts) needs = needs || t.requires_grad();
  const bool record = is_grad_enabled() && needs;
  detail::KeptValues<T, Tr::template kept_count<A>()> kept;
  if constexpr (detail::uses_eigen<A, decltype(Tr::map_binding_type(std::declval<const Bs&>()))...>::value) {
    // One forward-only packet pass writing every element's value (0-d
    // operands read once, their subexpressions computed once), and keeping
    // the values the backward would otherwise compute again.
    const std::int64_t n = out.numel();
    detail::BroadcastPass<T, sizeof...(Bs), false> pass;
    pass.values = out.data_ptr();
    if (record) {
      kept = decltype(kept)(n);
      pass.kept = kept.pointers();
    }
    Tr::operands(typename Tr::Seq{}, full, shape, n, pass);
    auto maps = Tr::as_maps(typename Tr::Seq{}, bt, full);
    auto none = Tr::no_grads(typename Tr::Seq{});
    std::apply([&](const auto&... b) {
      detail::packet_pass_outlined<T, A, detail::lanes<T>>(detail::consts_of(e), none, detail::FrontierIO<T, 0>{}, T(1), pass, n, b...);
    }, maps);
  } else {  // (no tensor is read: one value everywhere)
    for (std::size_t k = 0; k < K; ++k) full[k] = Tr::full(ts[k], shape);
    auto maps = Tr::as_maps(typename Tr::Seq{}, bt, full);
    std::apply([&](const auto&... b) { kernels::map(out.impl()) = detail::Evaluator<T, true>::run(e, b...); }, maps);
  }
  if (record) {
    auto n = make_node<T, detail::FusedNode<E, T, Bs...>>(e, bt, ts, shape, std::move(kept));
    set_history(out, std::move(n));
  }
  return out;
}

}  // namespace metagrad
