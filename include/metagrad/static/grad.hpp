// metagrad/static/grad.hpp — `mg::grad(e, bindings...)`: the value and the
// gradient with respect to every bound variable from ONE forward and ONE
// reverse sweep, both generated at compile time from the expression type by
// tape.hpp (common subexpressions once; no runtime tape, no virtual calls,
// no allocation for scalar and fixed-size Eigen bindings). Each reverse step
// is the rule table's vector-Jacobian product. `mg::grad_into` recomputes
// into a previous result's storage: its gradient arrays and, when the tape
// holds dynamic-size Eigen buffers, the tape of the last sweep with every
// intermediate and adjoint buffer (kept in the result's workspace), so a loop
// allocates nothing.
#pragma once
#include "../detail/config.hpp"
#include "../detail/workspace.hpp"
#include "tape.hpp"

namespace metagrad {

/// What mg::grad returns: `.value`, and `g[x]` for each bound variable x.
template <class V, class Grads, class... Bs>
struct GradResult {
  V value;
  Grads grads;
  /// The tape of the last sweep, for mg::grad_into (empty for scalar and
  /// fixed-size bindings, whose tape lives on the stack; a copy starts empty).
  detail::Workspace workspace;
  template <detail::fixed_string N>
  const auto& operator[](const Var<N>&) const {
    static_assert(detail::is_bound<N, Bs...>, "mg::grad: no gradient for a variable that was not bound");
    static_assert(!(... || (Bs::name == N && detail::is_data_binding<Bs>)),
                  "mg::grad: no gradient for a variable bound with mg::data");
    return std::get<detail::binding_index<N, Bs...>()>(grads);
  }
};

namespace detail {
/// The root is one fused reduction reading no frontier: its packet pass
/// writes the gradients directly.
template <class E, class... Bs>
inline constexpr bool direct_grad = [] {
  using Root = typename numbered<E>::type;
  if constexpr (is_fused_reduction<Root, Bs...>::value) return frontier_free<Root>;
  else return false;
}();

/// The root is one fused reduction whose only frontiers are slices of bound
/// vectors with constant counts (Rosenbrock's head and tail): no tape either;
/// the pass reads the slices in place and adds their adjoints, block by
/// block, into the gradients (slice_sweep).
template <class E, class... Bs>
inline constexpr bool slice_grad = [] {
  using Root = typename numbered<E>::type;
  if constexpr (is_fused_reduction<Root, Bs...>::value && !frontier_free<Root>)
    return only_constant_slices<frontiers_t<std::remove_cvref_t<decltype(std::declval<Root>().a)>>>::value;
  else return false;
}();

/// Every binding is a number and the expression is elementwise (no
/// reduction, part or scan): the sweep is the fused pass over one element,
/// whose adjoints are named slots with a first contribution known at compile
/// time — no flags, nothing in memory, on every compiler.
template <class E, class... Bs>
inline constexpr bool scalar_grad = [] {
  using Root = typename numbered<E>::type;
  return (!is_eigen_value<binding_value_t<Bs>>::value && ...) && !(is_tensor_like<binding_value_t<Bs>> || ...) &&
         !is_frontier<Root>::value && tl_size<frontiers_t<Root>>::value == 0;
}();

/// Is binding B's gradient written whole by the sweep (so it needs no zeroing
/// before)?
template <class E, class B, class... Bs>
constexpr bool grad_is_fresh() {
  using S = common_scalar_t<Bs...>;
  using Root = typename numbered<E>::type;
  if constexpr (direct_grad<E, Bs...>) return reads_direct<std::remove_cvref_t<decltype(std::declval<Root>().a)>, B::name>::value;
  else if constexpr (slice_grad<E, Bs...>) {  // (slice_sweep writes what slices read)
    using A = std::remove_cvref_t<decltype(std::declval<Root>().a)>;
    return reads_direct<A, B::name>::value || sliced<A, B::name>;
  }
  else return Tape<S, E, Bs...>::template fresh<B::name>;
}

/// Makes a gradient slot of a previous result ready for binding b: the same
/// shape (resized only if b's changed), zeroed unless the sweep writes it whole.
template <bool Fresh, class Slot, class B>
void prepare_slot(Slot& slot, const B& b) {
  if constexpr (requires { slot.resize(1, 1); }) {
    const auto& v = bval(b);
    if (slot.rows() != v.rows() || slot.cols() != v.cols()) slot.resize(v.rows(), v.cols());
    if constexpr (!Fresh) slot.setZero();
  } else if constexpr (is_number_v<Slot>) {
    slot = Slot(0);
  }
}

/// A slice pass's adjoint buffers, one block per slice, when a block is too
/// long for the stack (kept in the result's workspace for mg::grad_into).
template <class S, std::size_t NF>
struct SliceBlocks {
  Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic> buffer{sweep_block, static_cast<Eigen::Index>(NF)};
};

/// slice_sweep's passes longer than scatter_max: one packet_sweep whose slice
/// adjoints go through one block of buffer per slice (on the stack for short
/// slices, else in ws), added into the gradients after each block. Always
/// inline: as a call (which would keep its stack buffer out of the short
/// passes' frame) the 10-d Rosenbrock's blockwise pass took 29 ns against
/// 17 ns (g++ 12).
template <class S, class A, std::size_t NC, class Grads, std::size_t NF, class... Bs>
METAGRAD_INLINE inline S slice_blocks(const std::array<double, NC>& consts, Grads& grads, Workspace& ws, FrontierIO<S, NF>& fio,
                                      const std::array<rules::Span, NF>& spans, S scale, std::int64_t n, const Bs&... bs) {
  using Fronts = frontiers_t<A>;
  constexpr std::int64_t stack_block = 256;
  static_assert(stack_block % block_padding == 0);
  alignas(64) std::array<S, stack_block * NF> on_stack;
  S* blocks = on_stack.data();
  const bool one_block = n <= stack_block;
  if (!one_block) {
    blocks = ws.get<SliceBlocks<S, NF>>().buffer.data();
    // (grad_is_fresh counts these as set whole here: the long pass adds into them)
    zero_slice_only_grads<A, Bs...>(grads);
  }
  const std::int64_t stride = one_block ? stack_block : sweep_block;
  for (std::size_t f = 0; f < NF; ++f) fio.out[f] = blocks + static_cast<std::int64_t>(f) * stride;
  auto add_slices = [&](std::int64_t begin, std::int64_t end) {
    if (one_block) write_slice_adjoints<S, A, Bs...>(grads, fio, spans, n);
    else add_slice_adjoints<S, Fronts, Bs...>(grads, fio, spans, begin, end);
  };
  return packet_sweep<S, A>(consts, grads, fio, scale, n, add_slices, bs...);
}

/// sum (or mean, Mean) of A, whose frontiers are all slices of bound vectors
/// with constant counts, the slices read in place, the variables' gradients
/// written (direct reads) or added into (slices) in grads: a short pass
/// (scatter_max) as one ScatterPass, a longer one in blocks of packets
/// (slice_blocks). Returns the value.
template <class S, class A, bool Mean, std::size_t NC, class Grads, class... Bs>
S slice_sweep(const std::array<double, NC>& consts, Grads& grads, Workspace& ws, const Bs&... bs) {
  using Fronts = frontiers_t<A>;
  constexpr std::size_t NF = tl_size<Fronts>::value;
  auto sources = slice_sources<S, Fronts>(bs...);
  std::array<rules::Span, NF> spans;
  std::array<Shape, NF> shapes;
  FrontierIO<S, NF> fio;
  const auto count = [&]<class C>(std::type_identity<C>) { return constant_count<S, C>(consts); };
  [&]<std::size_t... F>(std::index_sequence<F...>) {
    ((void)[&] {
       slice_read<typename tl_at<F, Fronts>::type>(fget<F>(sources).ptr, count, spans[F], fio.in[F], shapes[F], bs...);
     }(), ...);
  }(std::make_index_sequence<NF>{});
  const std::int64_t n = common_size<A>(shapes, bs...);
  const S scale = Mean ? S(1) / static_cast<S>(n) : S(1);
  S value;
  if (n <= scatter_max<S, A, Bs...> && scatter_fits<A, Bs...>(grads)) {
    scatter_targets<S, Fronts, Bs...>(grads, fio, spans);
    zero_slice_pass_grads<A, Bs...>(grads);
    value = packet_pass<S, A, 1>(consts, grads, fio, scale, ScatterPass{}, n, bs...);
  } else {
    value = slice_blocks<S, A>(consts, grads, ws, fio, spans, scale, n, bs...);
  }
  if constexpr (Mean) value /= static_cast<S>(n);
  return value;
}

/// The value of e; the gradients are written into grads (shaped like the
/// bindings, zeroed where grad_is_fresh is false). A tape that holds heap
/// buffers is the one kept in ws (made on the first call). Always inline:
/// called through grad_sweep (the compiler decides) or, for small scalar
/// expressions, straight from grad / grad_into (see inline_sweep).
template <class E, class Grads, class... Bs>
METAGRAD_INLINE inline auto grad_sweep_body(const E& e, Grads& grads, Workspace& ws, const Bs&... bs) {
  using S = common_scalar_t<Bs...>;
  using TapeT = Tape<S, E, Bs...>;
  using Root = typename numbered<E>::type;
  if constexpr (direct_grad<E, Bs...>) {
    using A = std::remove_cvref_t<decltype(std::declval<Root>().a)>;
    constexpr bool mean = std::is_same_v<decltype(rule_of(std::declval<Root>())), rules::Mean>;
    const std::int64_t n = common_size<A>(bs...);
    S value = packet_sweep<S, A>(consts_of(e), grads, FrontierIO<S, 0>{}, mean ? S(1) / static_cast<S>(n) : S(1), n,
                               NothingAfterBlock{}, bs...);
    if constexpr (mean) value /= static_cast<S>(n);
    return value;
  } else if constexpr (slice_grad<E, Bs...>) {
    using A = std::remove_cvref_t<decltype(std::declval<Root>().a)>;
    constexpr bool mean = std::is_same_v<decltype(rule_of(std::declval<Root>())), rules::Mean>;
    return slice_sweep<S, A, mean>(consts_of(e), grads, ws, bs...);
  } else if constexpr (scalar_grad<E, Bs...>) {
    // The gradient of a variable the expression reads starts at -0 (see
    // packet_pass: its one contribution keeps the sign of a zero); the others
    // stay +0.
    if constexpr (std::is_floating_point_v<S>) {
      using Nodes = pass_nodes<Root, Bs...>;
      [&]<std::size_t... J>(std::index_sequence<J...>) {
        ((void)[&] {
           using B = std::tuple_element_t<J, std::tuple<Bs...>>;
           if constexpr (!is_data_binding<B> && tl_contains<Var<B::name>, Nodes>::value) std::get<J>(grads) = S(-0.0);
         }(), ...);
      }(std::index_sequence_for<Bs...>{});
    }
    return packet_pass<S, Root, 1>(consts_of(e), grads, FrontierIO<S, 0>{}, S(1), PlainPass{}, 1, bs...);
  } else {
    static_assert(is_number_v<std::remove_cvref_t<decltype(plain_value(*std::get<TapeT::K - 1>(std::declval<TapeT&>().vals)))>>,
                  "mg::grad: the expression must have a scalar value (reduce Eigen values with sum, mean or dot)");
    auto sweep = [&](TapeT& tape) {
      tape.forward(grads, bs...);
      tape.backward(S(1), grads, bs...);
      return tape.value();
    };
    if constexpr (TapeT::keeps_buffers) {
      TapeT& tape = ws.get<TapeT>(e);
      tape.rebind(e);
      return sweep(tape);
    } else {
      TapeT tape(e);
      return sweep(tape);
    }
  }
}
template <class E, class Grads, class... Bs>
auto grad_sweep(const E& e, Grads& grads, Workspace& ws, const Bs&... bs) {
  return grad_sweep_body(e, grads, ws, bs...);
}

/// A scalar expression of at most 48 nodes is swept inline in the caller:
/// its sweep is a few dozen instructions, and as a call (which g++ chooses
/// from the size of the unsimplified template code) the bindings and the
/// gradients went through memory and the gradients' -0 start was stored
/// before being overwritten — the 2-d Rosenbrock took 1.5x a hand-written
/// gradient for that alone.
template <class E, class... Bs>
consteval bool inline_sweep() {
  if constexpr (scalar_grad<E, Bs...>) return tl_size<pass_nodes<typename numbered<E>::type, Bs...>>::value <= 48;
  else return false;
}

template <class E, class Grads, class... Bs>
METAGRAD_INLINE inline auto sweep(const E& e, Grads& grads, Workspace& ws, const Bs&... bs) {
  if constexpr (inline_sweep<E, Bs...>()) return grad_sweep_body(e, grads, ws, bs...);
  else return grad_sweep(e, grads, ws, bs...);
}
}  // namespace detail

/// The value of e and its gradient with respect to every bound variable:
/// d(e)/d(x) has x's shape (a scalar broadcast against arrays gets the sum).
template <class E, class... Bs>
METAGRAD_INLINE inline auto grad(const E& e, const Bs&... bs) {
  static_assert(StaticExpr<E>, "mg::grad: the first argument must be a metagrad static expression");
  static_assert(detail::all_bindings<Bs...>, "mg::grad: arguments after the expression must be bindings `var = value`");
  static_assert(detail::eigen_scalars_agree<Bs...>,
                "mg: the Eigen bindings mix scalar types (float and double); bind values of one type, e.g. v.cast<double>()");
  using S = detail::common_scalar_t<Bs...>;
  auto grads = std::make_tuple(detail::grad_slot<S, detail::grad_is_fresh<E, Bs, Bs...>()>(bs)...);
  GradResult<S, decltype(grads), Bs...> r{S(0), std::move(grads), {}};
  r.value = detail::sweep(e, r.grads, r.workspace, bs...);
  return r;
}

/// mg::grad again into r, a result of mg::grad with the same binding types
/// (usually of the same expression): r's arrays are reused, and so is the
/// tape of r's last sweep when the expression type is the same (nothing is
/// allocated when the shapes are unchanged) — for optimisation loops.
template <class R, class E, class... Bs>
METAGRAD_INLINE inline void grad_into(R& r, const E& e, const Bs&... bs) {
  static_assert(StaticExpr<E>, "mg::grad_into: the second argument must be a metagrad static expression");
  static_assert(detail::all_bindings<Bs...>, "mg::grad_into: arguments after the expression must be bindings `var = value`");
  constexpr bool same = std::is_same_v<R, decltype(grad(e, bs...))>;
  static_assert(same, "mg::grad_into: the result must come from mg::grad with the same binding types");
  if constexpr (same) {  // (one message, not a cascade)
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      (detail::prepare_slot<detail::grad_is_fresh<E, Bs, Bs...>()>(std::get<J>(r.grads), bs), ...);
    }(std::index_sequence_for<Bs...>{});
    r.value = detail::sweep(e, r.grads, r.workspace, bs...);
  }
}

}  // namespace metagrad
