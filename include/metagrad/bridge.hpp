// metagrad/bridge.hpp — a static expression evaluated on mg::Tensor bindings
// becomes ONE node of the dynamic graph. Forward: one broadcasting pass over
// memory evaluating the whole expression per element. Backward: one pass
// running the compile-time generated scalar sweep per element (the same
// rule table as everywhere else), or — under create_graph — the same sweep
// over Tensors, so the backward is itself differentiable.
#pragma once
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

  /// The bindings with every tensor replaced by its element at `off`.
  template <std::size_t... I, class Ptrs, class Offs>
  static auto at_element(std::index_sequence<I...>, const std::tuple<const Bs&...>& bs, const Ptrs& ptrs,
                         const Offs& off) {
    return std::make_tuple(element_binding<I>(std::get<I>(bs), ptrs, off)...);
  }
  template <std::size_t I, class B, class Ptrs, class Offs>
  static auto element_binding(const B& b, const Ptrs& ptrs, const Offs& off) {
    if constexpr (is_tensor_v<decltype(B::value)>) {
      constexpr std::size_t k = tensor_slot<I, Bs...>();
      return Binding<B::name, T>{ptrs[k][off[k]]};
    } else {
      return Binding<B::name, T>{static_cast<T>(b.value)};
    }
  }
  /// The bindings with every tensor as an Eigen array map (for the dense path).
  template <std::size_t... I>
  static auto as_maps(std::index_sequence<I...>, const std::tuple<const Bs&...>& bs,
                      const std::array<BasicTensor<T>, K>& ts) {
    return std::make_tuple(map_binding<I>(std::get<I>(bs), ts)...);
  }
  template <std::size_t I, class B>
  static auto map_binding(const B& b, const std::array<BasicTensor<T>, K>& ts) {
    if constexpr (is_tensor_v<decltype(B::value)>)
      return Binding<B::name, kernels::ConstArrayMap<T>>{kernels::cmap(ts[tensor_slot<I, Bs...>()].impl())};
    else
      return Binding<B::name, T>{static_cast<T>(b.value)};
  }
  /// All tensors contiguous with the output's shape: one vectorised pass.
  static bool dense(const std::array<BasicTensor<T>, K>& ts, const Sizes& shape) {
    for (const auto& t : ts)
      if (!(t.sizes() == shape) || !t.is_contiguous()) return false;
    return true;
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

template <class E, class T, class... Bs>
class FusedNode final : public BasicNode<T> {
  using Tr = BridgeTraits<T, Bs...>;
  static constexpr std::size_t K = Tr::K;

 public:
  FusedNode(const E& e, const std::tuple<const Bs&...>& bs, const std::array<BasicTensor<T>, K>& ts, Sizes out)
      : expr_(e), scalars_(scalar_values(typename Tr::Seq{}, bs)), out_(out) {
    for (std::size_t k = 0; k < K; ++k) {
      saved_[k].save(ts[k], false);
      sizes_[k] = ts[k].sizes();
      this->add_edge(gradient_edge(ts[k]));
    }
  }
  std::string name() const override { return "StaticExprBackward0"; }
  void release_variables() override {
    for (auto& s : saved_) s.reset();
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
    else if (Tr::dense(ts, out_) && g.is_contiguous() && g.sizes() == out_) dense_sweep(g, ts, out, typename Tr::Seq{});
    else fused_sweep(g, ts, out, typename Tr::Seq{});
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

  /// Per element: scalar forward + reverse sweep, scaled by g, added into
  /// each input's gradient at its (broadcast) position.
  template <std::size_t... I>
  void fused_sweep(const BasicTensor<T>& g0, const std::array<BasicTensor<T>, K>& ts, BasicTensor<T>* out,
                   std::index_sequence<I...>) {
    const BasicTensor<T> g = g0.is_contiguous() ? g0 : g0.contiguous();
    std::array<BasicTensor<T>, K> gs;
    std::array<Sizes, 2 * K + 1> strides;
    std::array<const T*, K> ptrs;
    std::array<T*, K> gptr;
    for (std::size_t k = 0; k < K; ++k) {
      gs[k] = BasicTensor<T>(new_impl<T>(sizes_[k]));
      kernels::fill(gs[k].impl(), T(0));
      ptrs[k] = ts[k].data_ptr();
      gptr[k] = gs[k].data_ptr();
      strides[k] = kernels::broadcast_strides(ts[k].impl(), out_);
      strides[K + k] = kernels::broadcast_strides(gs[k].impl(), out_);
    }
    strides[2 * K] = g.strides();
    const T* gd = g.data_ptr();
    kernels::nd_loop<2 * K + 1>(out_, strides, [&](const auto& off) {
      auto sb = std::make_tuple(element<I>(ptrs, off)...);
      std::apply([&](const auto&... b) {
        using Sw = Sweep<T>;
        auto tape = Sw::fwd(expr_, b...);
        std::tuple<std::conditional_t<true, T, decltype(b)>...> adj{};
        Sw::bwd(expr_, tape, gd[off[2 * K]], adj, b...);
        ((is_tensor_v<decltype(Bs::value)> ? void(gptr[tensor_slot<I, Bs...>()][off[K + tensor_slot<I, Bs...>()]] += std::get<I>(adj)) : void()), ...);
      }, sb);
    });
    for (std::size_t k = 0; k < K; ++k)
      if (this->edge(static_cast<int>(k)).valid()) out[k] = gs[k];
  }
  template <std::size_t I, class Offs>
  auto element(const std::array<const T*, K>& ptrs, const Offs& off) const {
    using B = std::tuple_element_t<I, std::tuple<Bs...>>;
    if constexpr (is_tensor_v<decltype(B::value)>) {
      constexpr std::size_t k = tensor_slot<I, Bs...>();
      return Binding<B::name, T>{ptrs[k][off[k]]};
    } else {
      return Binding<B::name, T>{scalars_[I]};
    }
  }

  /// Dense operands: each input's gradient is g * d(expr)/d(input), the
  /// compile-time symbolic derivative, evaluated as one vectorised Eigen pass.
  template <std::size_t... I>
  void dense_sweep(const BasicTensor<T>& g, const std::array<BasicTensor<T>, K>& ts, BasicTensor<T>* out,
                   std::index_sequence<I...>) {
    auto maps = std::make_tuple(map_binding<I>(ts)...);
    std::apply([&](const auto&... b) { (dense_grad<I>(g, out, b...), ...); }, maps);
  }
  template <std::size_t I>
  auto map_binding(const std::array<BasicTensor<T>, K>& ts) const {
    using B = std::tuple_element_t<I, std::tuple<Bs...>>;
    if constexpr (is_tensor_v<decltype(B::value)>)
      return Binding<B::name, kernels::ConstArrayMap<T>>{kernels::cmap(ts[tensor_slot<I, Bs...>()].impl())};
    else
      return Binding<B::name, T>{scalars_[I]};
  }
  template <std::size_t I, class... Ms>
  void dense_grad(const BasicTensor<T>& g, BasicTensor<T>* out, const Ms&... ms) {
    using B = std::tuple_element_t<I, std::tuple<Bs...>>;
    if constexpr (is_tensor_v<decltype(B::value)>) {
      constexpr std::size_t k = tensor_slot<I, Bs...>();
      if (!this->edge(static_cast<int>(k)).valid()) return;
      BasicTensor<T> gk(new_impl<T>(sizes_[k]));
      const auto de = d(expr_, Var<B::name>{});
      kernels::map(gk.impl()) = kernels::cmap(g.impl()) * Evaluator<T, true>::run(de, ms...);
      out[k] = std::move(gk);
    }
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
  std::array<Sizes, K + 1> strides;
  std::array<const T*, K> ptrs;
  for (std::size_t k = 0; k < K; ++k) {
    strides[k] = kernels::broadcast_strides(ts[k].impl(), shape);
    ptrs[k] = ts[k].data_ptr();
  }
  strides[K] = out.strides();
  T* o = out.data_ptr();
  if (Tr::dense(ts, shape)) {
    auto maps = Tr::as_maps(typename Tr::Seq{}, bt, ts);
    std::apply([&](const auto&... b) { kernels::map(out.impl()) = detail::Evaluator<T, true>::run(e, b...); }, maps);
  } else {
    kernels::nd_loop<K + 1>(shape, strides, [&](const auto& off) {
      auto sb = Tr::at_element(typename Tr::Seq{}, bt, ptrs, off);
      o[off[K]] = std::apply([&](const auto&... b) { return detail::Evaluator<T>::run(e, b...); }, sb);
    });
  }
  bool needs = false;
  for (const auto& t : ts) needs = needs || t.requires_grad();
  if (is_grad_enabled() && needs) {
    auto n = make_node<T, detail::FusedNode<E, T, Bs...>>(e, bt, ts, shape);
    set_history(out, n);
  }
  return out;
}

}  // namespace metagrad
