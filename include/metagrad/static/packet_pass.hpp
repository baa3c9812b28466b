// metagrad/static/packet_pass.hpp — the fused pass: sum/mean of an elementwise
// expression over Eigen values (and the bridge's elementwise passes) as one pass
// over memory in SIMD packets, each packet running the compile-time forward AND
// reverse sweep of the expression. Uniform subexpressions are computed once and
// their adjoints summed; frontiers (non-elementwise parts) are read like bindings.
// Over dual numbers (mg::hvp, mg::hessian) a packet is a DualPacket when every
// node has a packet form (detail/dual_packet.hpp). A pass with frontiers runs in
// blocks (packet_sweep), the slices' adjoints added after each block.
#pragma once
#include <array>
#include <cstdint>
#include <utility>

#include "../detail/config.hpp"
#include "../detail/dual_packet.hpp"
#include "../detail/flat_tuple.hpp"
#include "../detail/tail_packet.hpp"
#include "keep_plan.hpp"

#include "../detail/warnings_push.hpp"

namespace metagrad {
namespace detail {

// ------------------------------------ 4. fused reductions: the packet sweep
/// Packet width: one SIMD register.
template <class S>
inline constexpr int lanes = std::max(2, static_cast<int>(Eigen::internal::packet_traits<S>::size));

/// An Eigen binding read as contiguous memory in its plain type's storage
/// order (copied once if it is strided or of another scalar type).
template <class S, class V>
struct Source {
  const S* ptr = nullptr;
  Eigen::Array<S, Eigen::Dynamic, 1> copy;
  explicit Source(const V& v) {
    if constexpr (std::is_same_v<typename V::Scalar, S> && bool(int(V::Flags) & Eigen::DirectAccessBit)) {
      if (v.innerStride() == 1 && (v.outerStride() == v.innerSize() || v.outerSize() <= 1)) {
        ptr = v.data();
        return;
      }
    }
    const typename V::PlainObject plain = v;
    copy = Eigen::Map<const Eigen::Array<typename V::Scalar, Eigen::Dynamic, 1>>(plain.data(), plain.size()).template cast<S>();
    ptr = copy.data();
  }
};

/// Everything read off the bindings for one pass; element bindings are
/// packets for Eigen values and scalars for the rest.
template <class S, class PkT, class... Bs>
struct PacketBindings {
  using Pk = PkT;
  template <class B> using elem_t = std::conditional_t<is_eigen_value<binding_value_t<B>>::value, Pk, S>;
  template <class B> using elem_binding = Binding<B::name, elem_t<B>>;
};

/// Is U an operand (on side Side) of node T?
template <class U, class T, int Side> struct is_operand : std::false_type {};
template <class U, class R, int Side> struct is_operand<U, Unary<R, U>, Side> : std::bool_constant<Side == 0> {};
template <class U, class R, class B> struct is_operand<U, Binary<R, U, B>, 0> : std::true_type {};
template <class U, class R, class A> struct is_operand<U, Binary<R, A, U>, 1> : std::true_type {};
/// A scan's operands: init (side 0) and xs (side 1); its body's outer
/// variables are numbers, never the Eigen values this is asked about.
template <class U, class B, detail::fixed_string C, detail::fixed_string El, class X>
struct is_operand<U, Scan<B, C, El, U, X>, 0> : std::true_type {};
template <class U, class B, detail::fixed_string C, detail::fixed_string El, class In>
struct is_operand<U, Scan<B, C, El, In, U>, 1> : std::true_type {};

/// Does node Q pass a gradient on to its operands? Not a condition (a
/// comparison): the engines send nothing into one.
template <class Q> struct passes_gradient : std::true_type {};
template <class R, class A> struct passes_gradient<Unary<R, A>> : std::bool_constant<rules::differentiable<R>> {};
template <class R, class A, class B> struct passes_gradient<Binary<R, A, B>> : std::bool_constant<rules::differentiable<R>> {};
/// Is node U an operand of node Q?
template <class U, class Q>
inline constexpr bool is_parent_of = is_operand<U, Q, 0>::value || is_operand<U, Q, 1>::value;

/// Does node U (position U in the list L, evaluation order) receive a
/// contribution in the reverse sweep: is it the root, or an operand of a
/// node that passes gradients and receives one itself? A node read only by
/// conditions (`abs(r)` in `where(abs(r) <= d, ...)`) receives none; its
/// adjoint is never written, so its reverse step must not run.
template <std::size_t U, class L>
constexpr bool receives_gradient() {
  constexpr std::size_t K = tl_size<L>::value;
  if constexpr (U + 1 >= K) {
    return true;
  } else {
    using TU = typename tl_at<U, L>::type;
    return []<std::size_t... Q>(std::index_sequence<Q...>) {
      return ((is_parent_of<TU, typename tl_at<U + 1 + Q, L>::type> &&
               passes_gradient<typename tl_at<U + 1 + Q, L>::type>::value && receives_gradient<U + 1 + Q, L>()) ||
              ...);
    }(std::make_index_sequence<K - U - 1>{});
  }
}

/// In the reverse sweep over list L, is the contribution of node P (side
/// Side) the first that U receives? The nodes that send one are known at
/// compile time (receives_gradient, passes_gradient), so the first
/// contribution initialises the adjoint and the others add to it; a later
/// parent that sends nothing — a condition — does not count.
template <class U, std::size_t P, int Side, class L>
constexpr bool first_contribution() {
  return []<std::size_t... Q>(std::index_sequence<Q...>) {
    constexpr bool later = ((Q > P && is_parent_of<U, typename tl_at<Q, L>::type> &&
                             passes_gradient<typename tl_at<Q, L>::type>::value && receives_gradient<Q, L>()) ||
                            ...);
    return !later && (Side == 0 || !is_operand<U, typename tl_at<P, L>::type, 0>::value);
  }(std::make_index_sequence<tl_size<L>::value>{});
}

/// Inside the fused pass, a / b with b independent of the Eigen values
/// becomes a * reciprocal(b): the reciprocal is computed once, outside the
/// loop, and no division is left per element (same rules, other grouping).
template <class T, class... Bs> struct hoisted { using type = T; };
template <class R, class A, class... Bs> requires(!is_frontier<Unary<R, A>>::value)
struct hoisted<Unary<R, A>, Bs...> {
  using type = Unary<R, typename hoisted<A, Bs...>::type>;
};
template <class R, class A, class B, class... Bs> requires(!is_frontier<Binary<R, A, B>>::value)
struct hoisted<Binary<R, A, B>, Bs...> {
  using HA = typename hoisted<A, Bs...>::type;
  using HB = typename hoisted<B, Bs...>::type;
  using type = std::conditional_t<std::is_same_v<R, rules::Div> && uses_eigen<A, Bs...>::value && !uses_eigen<B, Bs...>::value,
                                  Binary<rules::Mul, HA, Unary<rules::Reciprocal, HB>>, Binary<R, HA, HB>>;
};

/// A packet of P elements in a pass whose nodes are Nodes: an Eigen array,
/// or for duals of float/double, when every node has a DualPacket form
/// (detail/dual_packet.hpp), values and tangents in registers of their own.
template <class T> struct dual_packet_node : std::bool_constant<is_var<T>::value || is_intc<T>::value || is_const_at<T>::value> {};
template <class R, class A> struct dual_packet_node<Unary<R, A>> : std::bool_constant<is_frontier<Unary<R, A>>::value || dual_packet_rule<R>::value> {};
template <class R, class A, class B>
struct dual_packet_node<Binary<R, A, B>>
    : std::bool_constant<is_frontier<Binary<R, A, B>>::value || dual_packet_rule<R>::value || small_int_pow<Binary<R, A, B>>::value> {};
/// (pow with a constant exponent: one dual for every lane)
template <class A, class B> requires(is_const_at<B>::value || is_intc<B>::value)
struct dual_packet_node<Binary<rules::Pow, A, B>> : std::true_type {};
template <class S, class Nodes> struct dual_packets : std::false_type {};
template <class T, class... N>
struct dual_packets<Dual<T>, TypeList<N...>> : std::bool_constant<vmath::Vectorised<T> && (dual_packet_node<N>::value && ...)> {};
/// The fused pass's nodes, in evaluation order.
template <class A, class... Bs>
using pass_nodes = typename inner_order<typename hoisted<A, Bs...>::type, TypeList<>>::type;
/// How many elements one packet of the pass over A holds.
template <class S, class A, class... Bs>
inline constexpr int pass_lanes = dual_packets<S, pass_nodes<A, Bs...>>::value ? lanes<dual_part_t<S>> : lanes<S>;
template <class S, int P, class Nodes>
using packet_t = std::conditional_t<dual_packets<S, Nodes>::value, DualPacket<dual_part_t<S>, P>, Eigen::Array<S, P, 1>>;
/// x in every lane of a packet (one register broadcast: detail/splat.hpp).
template <class Pk, class S>
METAGRAD_INLINE inline Pk packet_constant(const S& x) {
  if constexpr (is_dual_packet<Pk>::value) return Pk::Constant(x);
  else return splat<Pk>(x);
}
/// A packet of zeros (a register broadcast, not Eigen's Zero(): g++ leaves
/// that assignment out of line in a pass with many kernels).
template <class Pk>
METAGRAD_INLINE inline Pk packet_zero() {
  if constexpr (is_dual_packet<Pk>::value) return Pk::Zero();
  else return splat<Pk>(typename Pk::Scalar(0));
}
/// P elements of memory as a packet, and back.
template <class Pk, class S>
METAGRAD_INLINE inline Pk load_packet(const S* p) {
  if constexpr (is_dual_packet<Pk>::value) return Pk::load(p);
  else return Eigen::Map<const Pk>(p);
}
template <class Pk, class S>
METAGRAD_INLINE inline void store_packet(S* q, const Pk& a) {
  if constexpr (is_dual_packet<Pk>::value) a.store(q);
  else Eigen::Map<Pk>{q} = a;
}

/// A node's value inside the fused pass: op_value, but a comparison of
/// float or double packets is kept as a mask of the compared type
/// (detail::PacketMask), not as bools — `where` over it blends in packets.
template <class S, class T, class Get>
METAGRAD_INLINE inline auto pass_value(const Get& get) {
  if constexpr (requires { std::declval<T>().b; }) {
    using R = decltype(rule_of(std::declval<T>()));
    if constexpr (!rules::differentiable<R>) {
      using A = std::remove_cvref_t<decltype(std::declval<T>().a)>;
      using B = std::remove_cvref_t<decltype(std::declval<T>().b)>;
      const auto& a = plain_value(get(std::type_identity<A>{}));
      const auto& b = plain_value(get(std::type_identity<B>{}));
      using C = decltype(R::f(a, b));
      if constexpr (float_comparison_v<C, S>) {
        if constexpr (C::SizeAtCompileTime != Eigen::Dynamic) return packet_mask<S>(R::f(a, b));
        else return op_value<S, T>(get);
      } else {
        return op_value<S, T>(get);
      }
    } else {
      return op_value<S, T>(get);
    }
  } else {
    return op_value<S, T>(get);
  }
}

/// The packet-level type of a node inside the fused pass (frontiers are
/// packets read from memory).
template <class S, class Pk, class T, class... EBs> struct packet_node_type { using type = node_type_t<S, T, EBs...>; };
template <class S, class Pk, class T, class... EBs> requires(is_frontier<T>::value)
struct packet_node_type<S, Pk, T, EBs...> { using type = Pk; };
template <class S, class Pk, class T, class... EBs> requires(!is_frontier<T>::value && requires { std::declval<T>().a; })
struct packet_node_type<S, Pk, T, EBs...> {
  struct Get {
    template <class U> const typename packet_node_type<S, Pk, U, EBs...>::type& operator()(std::type_identity<U>) const;
  };
  using type = std::remove_cvref_t<decltype(pass_value<S, T>(std::declval<const Get&>()))>;
};

/// The values of the frontiers (fin) and where their per-element adjoints go
/// (fout), in the order of frontiers_t<A>; contiguous, n elements each.
template <class S, std::size_t NF>
struct FrontierIO {
  std::array<const S*, NF> in{};
  std::array<S*, NF> out{};
};
/// Frontier Fr's adjoint buffer holds one block of packet_sweep's
/// (sweep_block elements, reused by every block): a slice of a variable
/// that needs a gradient, whose adjoint the tape adds into the variable's
/// gradient after each block.
template <class Fr, class... Bs>
inline constexpr bool blockwise_frontier = [] {
  if constexpr (slice_of_var<Fr>::value) return needs_grad<typename slice_root<Fr>::type, Bs...>::value;
  else return false;
}();

/// A blockwise frontier's adjoint buffer holds a multiple of this many
/// elements (the widest packet: 16 floats), so that a partial packet's
/// adjoints are stored whole, unmasked, past the last real element.
inline constexpr std::int64_t block_padding = 16;

/// A seed given per element (the bridge's upstream gradient): contiguous, n
/// elements. A plain S seeds every element alike.
template <class S>
struct ElementSeed {
  const S* g;
};

/// The seed of one packet (in a partial packet, the lanes past the real
/// ones are zero).
template <class Pk, bool Tail, class S>
METAGRAD_INLINE inline Pk seed_packet(const ElementSeed<S>& seed, std::int64_t i, const TailLanes<Pk>& tail) {
  if constexpr (!Tail) return load_packet<Pk>(seed.g + i);
  else return tail.real_only(tail.load(seed.g + i));
}
template <class Pk, bool Tail, class S>
METAGRAD_INLINE inline Pk seed_packet(S seed, std::int64_t, const TailLanes<Pk>& tail) {
  if constexpr (!Tail) return packet_constant<Pk>(seed);
  else return tail.real_only(packet_constant<Pk>(seed));
}
/// The seeds' sum over n elements (a root that reads no array: a uniform seed only).
template <class S>
S seed_total(S seed, std::int64_t n) { return seed * static_cast<S>(n); }
template <class S>
S seed_total(const ElementSeed<S>&, std::int64_t) {
  static_assert(sizeof(S) == 0, "packet_sweep: a per-element seed needs an expression that reads an array");
  return S(0);
}

/// What a pass does besides the sum: mg::grad's passes (PlainPass) run the
/// reverse sweep and know every binding's shape at compile time.
struct PlainPass {
  static constexpr bool runtime_broadcast = false;
  static constexpr bool backward = true;
  /// Adjoints of variables and blockwise frontiers are added into memory
  /// (ScatterPass), not stored.
  static constexpr bool scatter = false;
  /// The first element of this pass (packet_sweep runs the last n % lanes
  /// elements as a one-lane pass or a TailPass from here).
  std::int64_t begin = 0;
  /// The first element of this block: element i of a blockwise frontier's
  /// adjoint is at i - block_begin.
  std::int64_t block_begin = 0;
};
/// mg::grad's pass over the last, partial packet alone (elements [begin, n),
/// fewer than a packet), as masked instructions: an instantiation of its
/// own, so that the loop over full packets is the same code with or without
/// it (in one body with the loop, g++ 12 made the full packets of a cheap
/// pass 10-15% slower). packet_sweep calls it through packet_pass_outlined,
/// so whether it is inlined is the compiler's choice; forced inline beside
/// the full packets' loop it made a 16-element normal log-density 5% slower
/// (12.3 ns against 11.8 ns) and bench/suite_numerics 8-11% slower to compile,
/// for no gain on the passes measured.
struct TailPass : PlainPass {};
/// mg::grad's one-lane pass over a short reduction whose frontiers are slices
/// (grad.hpp's slice_sweep): every element's adjoints are added straight into
/// the gradients, a blockwise frontier's at its slice's offset (the frontier's
/// out pointer points there), as a hand-written loop does; the gradients start
/// at zero. Element i + 1 reads back what element i added to the same
/// address, a store the CPU forwards; packets of overlapping slices added this
/// way would each wait for a failed forward of the previous one's store.
struct ScatterPass : PlainPass {
  static constexpr bool scatter = true;
};
/// The bridge's passes: `one[j]` says that Eigen binding j holds ONE value for
/// all n elements (a 0-d tensor), known only at run time. Nodes that read
/// only such bindings are computed once, before the loop, and their adjoints
/// summed across it (as for compile-time uniform nodes). `values`, if set,
/// receives every element's value; backward = false skips the reverse sweep.
template <class S, std::size_t NB, bool Backward>
struct BroadcastPass {
  static constexpr bool runtime_broadcast = true;
  static constexpr bool backward = Backward;
  static constexpr bool scatter = false;
  std::array<bool, NB> one{};
  S* values = nullptr;
  /// Store or recompute (see keep_plan): the forward pass writes the values
  /// of the kept nodes here (if set), the backward pass reads them back and
  /// computes only what the reverse sweep reads and was not kept.
  S* const* kept = nullptr;
};


/// The fused pass: inner elementwise expression A (numbered), runtime
/// constants C, frontier values and adjoint buffers fio, bindings bs. Writes
/// d(sum_i seed_i A_i)/d(binding) into out (a tuple shaped like the bindings:
/// arrays (anything with .data()) for Eigen bindings, scalars otherwise; only
/// variables of A are touched) and returns sum_i A_i.
template <class S, class A, int P, std::size_t NC, class Out, std::size_t NF, class Seed, class Pass, class... Bs>
METAGRAD_INLINE inline S packet_pass_body(const std::array<double, NC>& consts, Out& out, const FrontierIO<S, NF>& fio,
                                          Seed seed, const Pass& pass, std::int64_t n, const Bs&... bs) {
  constexpr bool RB = Pass::runtime_broadcast;
  using Nodes = pass_nodes<A, Bs...>;
  using PB = PacketBindings<S, packet_t<S, P, Nodes>, Bs...>;
  using Pk = typename PB::Pk;
  using Fronts = frontiers_t<A>;
  constexpr std::size_t K = tl_size<Nodes>::value;
  using Root = typename tl_at<K - 1, Nodes>::type;
  using Elem = flat_tuple<typename PB::template elem_binding<Bs>...>;
  const auto bound = std::forward_as_tuple(bs...);

  return [&]<std::size_t... I, std::size_t... J>(std::index_sequence<I...>, std::index_sequence<J...>) METAGRAD_INLINE -> S {
    using Types = flat_tuple<
        typename packet_node_type<S, Pk, typename tl_at<I, Nodes>::type, typename PB::template elem_binding<Bs>...>::type...>;
    using FrontPk = std::array<Pk, tl_size<Fronts>::value + 1>;  // this packet of each frontier
    constexpr bool varying[] = {uses_eigen<typename tl_at<I, Nodes>::type, Bs...>::value..., false};
    // Plain slots: packets or scalars, no flags. The uniform ones are filled
    // once, here; each packet works on its own copy (chunk below), so that
    // every slot can live in a register (clang++ keeps a slot that outlives
    // the loop body in memory, and reloads it at every step).
    // Contiguous sources for the Eigen bindings that A reads.
    auto sources = make_flat_tuple([&] {
      using B = std::tuple_element_t<J, std::tuple<Bs...>>;
      if constexpr (is_eigen_value<binding_value_t<B>>::value && reads_direct<A, B::name>::value)
        return Source<S, binding_value_t<B>>(bval(std::get<J>(bound)));
      else return 0;
    }()...);
    Elem elem{};
    // Where the per-element gradients go, read once: out may live anywhere
    // (mg::grad_into's result), and the stores below would otherwise make the
    // compiler reload each pointer per packet.
    const std::array<S*, sizeof...(Bs) + 1> optr{[&]() -> S* {
      using B = std::tuple_element_t<J, std::tuple<Bs...>>;
      if constexpr (is_eigen_value<binding_value_t<B>>::value && reads_direct<A, B::name>::value && !is_data_binding<B>)
        return std::get<J>(out).data();
      else return nullptr;
    }()..., nullptr};
    Types vals;
    FrontPk fpk;
    // What the loop reads, as locals: the packet stores may alias anything
    // (Eigen's stores), so a value read through a reference is read again at
    // every packet.
    const std::int64_t count = n;
    const Seed seed_l = seed;
    const FrontierIO<S, NF> io = fio;
    const std::int64_t block_begin = [&] {
      if constexpr (RB) return std::int64_t(0); else return pass.block_begin;
    }();
    auto getter_of = [](const Types& v) METAGRAD_INLINE {
      return [&v]<class U>(std::type_identity<U>) METAGRAD_INLINE -> const auto& { return fget<tl_index<U, Nodes>::value>(v); };
    };
    const auto get = getter_of(vals);
    auto compute = [&]<std::size_t Ii>(Types& v, const Elem& el, const FrontPk& fp,
                                       std::integral_constant<std::size_t, Ii>) METAGRAD_INLINE {
      using T = typename tl_at<Ii, Nodes>::type;
      auto& slot = fget<Ii>(v);
      if constexpr (is_var<T>::value) slot = fget<binding_index<T::name, Bs...>()>(el).value;
      else if constexpr (is_frontier<T>::value) slot = fp[tl_index<T, Fronts>::value];
      else if constexpr (is_intc<T>::value) slot = static_cast<S>(T::value);
      else if constexpr (is_const_at<T>::value) slot = static_cast<S>(consts[T::index]);
      else slot = pass_value<S, T>(getter_of(v));
    };
    // Scalar bindings and everything that depends on them only: once.
    ((void)[&] {
       using B = std::tuple_element_t<J, std::tuple<Bs...>>;
       if constexpr (!is_eigen_value<binding_value_t<B>>::value)
         fget<J>(elem).value = static_cast<S>(bval(std::get<J>(bound)));
     }(), ...);
    ((varying[I] ? void() : compute(vals, elem, fpk, std::integral_constant<std::size_t, I>{})), ...);

    // Run-time uniform nodes (BroadcastPass): varying by type, but reading
    // only bindings that hold one value. Loaded and computed once, here.
    std::array<bool, K + 1> rtu{};
    if constexpr (RB) {
      auto uniform_child = [&]<class C>(std::type_identity<C>) {
        constexpr std::size_t c = tl_index<C, Nodes>::value;
        return !varying[c] || rtu[c];
      };
      ((void)[&] {
         using T = typename tl_at<I, Nodes>::type;
         if constexpr (!varying[I] || is_frontier<T>::value) rtu[I] = false;
         else if constexpr (is_var<T>::value) rtu[I] = pass.one[binding_index<T::name, Bs...>()];
         else if constexpr (requires { std::declval<T>().b; })
           rtu[I] = uniform_child(std::type_identity<std::remove_cvref_t<decltype(std::declval<T>().a)>>{}) &&
                    uniform_child(std::type_identity<std::remove_cvref_t<decltype(std::declval<T>().b)>>{});
         else rtu[I] = uniform_child(std::type_identity<std::remove_cvref_t<decltype(std::declval<T>().a)>>{});
       }(), ...);
      ((void)[&] {
         using B = std::tuple_element_t<J, std::tuple<Bs...>>;
         if constexpr (is_eigen_value<binding_value_t<B>>::value && reads_direct<A, B::name>::value)
           if (pass.one[J]) fget<J>(elem).value = packet_constant<Pk>(fget<J>(sources).ptr[0]);
       }(), ...);
      ((varying[I] && rtu[I] ? compute(vals, elem, fpk, std::integral_constant<std::size_t, I>{}) : void()), ...);
    }

    // Adjoint accumulators of the uniform nodes (packets, summed at the end).
    // (Varying nodes keep no accumulator; uniform nodes no per-packet adjoint.)
    // ... and of the run-time uniform ones; and the value's. They go through
    // the loop by value (in registers: clang++ reloads an accumulator kept in
    // memory at every packet).
    struct None {};
    using UniformAcc = flat_tuple<std::conditional_t<varying[I], None, Pk>...>;
    using RuntimeUniformAcc = flat_tuple<std::conditional_t<varying[I] && RB, Pk, None>...>;
    using Accumulators = flat_tuple<UniformAcc, RuntimeUniformAcc, Pk>;  // (no local class: g++ 12 fails on one here)
    Accumulators acc0;
    ((void)[&] {
       if constexpr (!varying[I]) fget<I>(fget<0>(acc0)) = packet_zero<Pk>();
       if constexpr (varying[I] && RB) fget<I>(fget<1>(acc0)) = packet_zero<Pk>();
     }(), ...);
    fget<2>(acc0) = packet_zero<Pk>();

    // One varying node of a packet: computed; in the bridge's passes (store
    // or recompute), kept by the forward, read back or skipped by the backward.
    auto step = [&]<std::size_t Ii>(Types& v, const Elem& el, const FrontPk& fp, std::integral_constant<std::size_t, Ii> ii,
                                    std::int64_t i, int m) METAGRAD_INLINE {
      if constexpr (RB) {
        constexpr KeepPlan<K> plan = keep_plan<Nodes, Bs...>::value;
        if constexpr (Pass::backward && plan.keep[Ii]) {
          const S* src = pass.kept[plan.slot[Ii]] + i;
          auto& slot = fget<Ii>(v);
          if (m == P) slot = load_packet<Pk>(src);
          else slot = TailLanes<Pk>(m).load(src);
          return;
        } else if constexpr (Pass::backward && !plan.compute[Ii]) {
          return;  // (the reverse sweep does not read it)
        } else {
          compute(v, el, fp, ii);
          if constexpr (!Pass::backward && plan.keep[Ii]) {
            if (pass.kept) {
              S* dst = pass.kept[plan.slot[Ii]] + i;
              const auto& slot = fget<Ii>(v);
              if (m == P) store_packet(dst, slot);
              else TailLanes<Pk>(m).store(dst, slot);
            }
          }
        }
      } else {
        compute(v, el, fp, ii);
      }
    };
    // (the bridge's passes keep theirs in place: their adjoints are added
    // under run-time conditions, and g++ then copies the whole set per packet)
    using AccArg = std::conditional_t<RB, Accumulators&, Accumulators>;
    auto done = [](auto& a) METAGRAD_INLINE {
      if constexpr (std::is_reference_v<AccArg>) return 0; else return std::remove_cvref_t<decltype(a)>(a);
    };
    auto chunk = [&]<bool Tail>(std::bool_constant<Tail>, std::int64_t i, int m, AccArg acc) METAGRAD_INLINE {
      auto& uacc = fget<0>(acc);
      auto& racc = fget<1>(acc);
      auto& vacc = fget<2>(acc);
      // (the bridge's passes, whose slots are filled under run-time
      // conditions, work in place: a copy per packet is not optimised away)
      std::conditional_t<RB, Types&, Types> lv = vals;
      std::conditional_t<RB, Elem&, Elem> le = elem;
      FrontPk lf;
      const auto lget = getter_of(lv);
      const TailLanes<Pk> tail(Tail ? m : P);
      // Load the packet of every Eigen binding A reads (the tail is padded
      // with its last element, and masked below).
      ((void)[&] {
         using B = std::tuple_element_t<J, std::tuple<Bs...>>;
         if constexpr (is_eigen_value<binding_value_t<B>>::value && reads_direct<A, B::name>::value) {
           if constexpr (RB) {
             if (pass.one[J]) return;
           }
           const S* p = fget<J>(sources).ptr + i;
           auto& v = fget<J>(le).value;
           if constexpr (!Tail) v = load_packet<Pk>(p);
           else v = tail.load(p);
         }
       }(), ...);
      [&]<std::size_t... F>(std::index_sequence<F...>) METAGRAD_INLINE {
        ((void)[&] {
           const S* p = io.in[F] + i;
           if constexpr (!Tail) lf[F] = load_packet<Pk>(p);
           else lf[F] = tail.load(p);
         }(), ...);
      }(std::make_index_sequence<NF>{});
      ((varying[I] && !(RB && rtu[I]) ? step(lv, le, lf, std::integral_constant<std::size_t, I>{}, i, m) : void()), ...);
      // In the tail only lanes < m are real (the others repeat the last
      // element: finite, but their contributions must not count).
      auto add_real_lanes = [&tail](Pk& acc, const Pk& c) METAGRAD_INLINE { tail.add(acc, c); };
      if constexpr (uses_eigen<Root, Bs...>::value && !(RB && Pass::backward)) {  // (the bridge's backward ignores it)
        const Pk& y = fget<K - 1>(lv);
        if constexpr (!Tail) vacc += y; else add_real_lanes(vacc, y);
        if constexpr (RB) {
          if (pass.values) {
            if constexpr (!Tail) store_packet(pass.values + i, y);
            else tail.store(pass.values + i, y);
          }
        }
      }
      if constexpr (!Pass::backward) return done(acc);
      // Reverse: adjoints of the varying nodes of this packet.
      flat_tuple<std::conditional_t<varying[I], Pk, None>...> adj;
      if constexpr (RB) {  // (a run-time uniform node may get no contribution here)
        auto zero = [&]<std::size_t Ii>(std::integral_constant<std::size_t, Ii>) METAGRAD_INLINE {
          if constexpr (varying[Ii]) {
            if (rtu[Ii]) fget<Ii>(adj) = packet_zero<Pk>();
          }
        };
        (zero(std::integral_constant<std::size_t, I>{}), ...);
      }
      if constexpr (uses_eigen<Root, Bs...>::value) {
        fget<K - 1>(adj) = seed_packet<Pk, Tail>(seed_l, i, tail);
      }
      // A variable's or frontier's adjoint packet, written where its
      // elements go: one tape node per variable, so each element is written
      // once, into a buffer nobody else writes (no zeroing first; a
      // blockwise buffer holds whole packets: its length is a multiple of
      // block_padding, a multiple of P). A scatter pass adds instead.
      auto write_adjoint = [&]<class T>(std::type_identity<T>, const Pk& a) METAGRAD_INLINE {
        S* q;
        if constexpr (is_var<T>::value) q = optr[binding_index<T::name, Bs...>()] + i;
        else if constexpr (!RB && blockwise_frontier<T, Bs...>) q = io.out[tl_index<T, Fronts>::value] + (i - block_begin);
        else q = io.out[tl_index<T, Fronts>::value] + i;
        if constexpr (Pass::scatter) {
          Pk sum = load_packet<Pk>(q);
          sum += a;
          store_packet(q, sum);
        } else if constexpr (!Tail || (!RB && blockwise_frontier<T, Bs...>)) store_packet(q, a);
        else tail.store(q, a);
      };
      auto back = [&]<std::size_t Ii>(std::integral_constant<std::size_t, Ii>) METAGRAD_INLINE {
        using T = typename tl_at<Ii, Nodes>::type;
        if constexpr (uses_eigen<T, Bs...>::value && needs_grad<T, Bs...>::value && !receives_gradient<Ii, Nodes>()) {
          // (read only by conditions: no adjoint; a variable's or frontier's
          // elements here are 0 — its buffer is written by this pass alone; a
          // run-time uniform one gets its 0 after the loop, from racc)
          if constexpr ((is_var<T>::value || is_frontier<T>::value) && !Pass::scatter) {
            if constexpr (RB) {
              if (rtu[Ii]) return;
            }
            write_adjoint(std::type_identity<T>{}, packet_zero<Pk>());
          }
        } else if constexpr (uses_eigen<T, Bs...>::value && needs_grad<T, Bs...>::value) {
          const Pk& a = fget<Ii>(adj);
          if constexpr (RB) {
            if (rtu[Ii]) {  // gathered; propagated once after the loop
              if constexpr (!Tail) fget<Ii>(racc) += a; else add_real_lanes(fget<Ii>(racc), a);
              return;
            }
          }
          if constexpr (is_var<T>::value || is_frontier<T>::value) {
            write_adjoint(std::type_identity<T>{}, a);
          } else {
            auto send = [&]<class U, int Side, class C>(std::type_identity<U>, std::integral_constant<int, Side>,
                                                        const C& c) METAGRAD_INLINE {
              constexpr std::size_t u = tl_index<U, Nodes>::value;
              if constexpr (uses_eigen<U, Bs...>::value) {
                if constexpr (first_contribution<U, Ii, Side, Nodes>()) fget<u>(adj) = c;
                else fget<u>(adj) += c;
              } else if constexpr (!Tail) {
                fget<u>(uacc) += c;
              } else {
                add_real_lanes(fget<u>(uacc), Pk(c));
              }
            };
            op_vjp<S, T, Bs...>(lget, a, send);
          }
        }
      };
      [&]<std::size_t... R>(std::index_sequence<R...>) METAGRAD_INLINE {
        (back(std::integral_constant<std::size_t, K - 1 - R>{}), ...);
      }(std::make_index_sequence<K>{});
      return done(acc);
    };
    Accumulators acc = acc0;
    std::int64_t i = 0;
    if constexpr (RB) {
      for (; i + P <= count; i += P) chunk(std::false_type{}, i, P, acc);
      if (i < count) chunk(std::true_type{}, i, static_cast<int>(count - i), acc);
    } else {
      // (mg::grad's passes: full packets, or a partial one alone — a
      // TailPass, with masked instructions; packet_sweep decides)
      if constexpr (std::is_same_v<Pass, TailPass>) {
        static_assert(native_tail<Pk>, "packet_sweep: a TailPass needs masked instructions for the packet");
        static_assert(block_padding % P == 0, "packet_sweep: blockwise buffers must hold whole packets");
        acc = chunk(std::true_type{}, pass.begin, static_cast<int>(count - pass.begin), acc);
      } else {
        for (i = pass.begin; i + P <= count; i += P) acc = chunk(std::false_type{}, i, P, acc);
      }
    }
    auto& uacc = fget<0>(acc);
    auto& racc = fget<1>(acc);
    const Pk& vacc = fget<2>(acc);
    if constexpr (!Pass::backward) return vacc.sum();

    // The run-time uniform nodes' reverse sweep, once: their adjoints summed
    // over the loop go to their operands (run-time or compile-time uniform);
    // a binding holding one value gets the sum in its single element.
    if constexpr (RB) {
      auto rsend = [&]<class U, class Side, class C>(std::type_identity<U>, Side, const C& c) {
        constexpr std::size_t u = tl_index<U, Nodes>::value;
        if constexpr (varying[u]) fget<u>(racc) += c;
        else fget<u>(uacc) += c;
      };
      auto rback = [&]<std::size_t Ii>(std::integral_constant<std::size_t, Ii>) {
        using T = typename tl_at<Ii, Nodes>::type;
        if constexpr (varying[Ii] && needs_grad<T, Bs...>::value && !is_frontier<T>::value) {
          if (!rtu[Ii]) return;
          const Pk a = fget<Ii>(racc);
          if constexpr (is_var<T>::value) optr[binding_index<T::name, Bs...>()][0] = a.sum();
          else op_vjp<S, T, Bs...>(get, a, rsend);
        }
      };
      [&]<std::size_t... R>(std::index_sequence<R...>) {
        (rback(std::integral_constant<std::size_t, K - 1 - R>{}), ...);
      }(std::make_index_sequence<K>{});
    }

    // The uniform part: its value repeats n times; its adjoints are the sums
    // of the packets gathered above (plus n * seed at a uniform root).
    S value;
    flat_tuple<std::conditional_t<varying[I], None, S>...> uadj;
    // (A pass over numbers only — mg::grad of a scalar expression — starts each
    // adjoint at -0, the identity of +: a lone -0 contribution keeps its sign,
    // as PyTorch's first gradient is assigned, not added to +0. Over arrays
    // the sums start at +0, as PyTorch's sum_to does.)
    constexpr bool numbers_only = !(varying[I] || ...) && std::is_floating_point_v<S>;
    ((void)[&] {
       if constexpr (!varying[I]) fget<I>(uadj) = numbers_only ? S(-0.0) : S(fget<I>(uacc).sum());
     }(), ...);
    if constexpr (uses_eigen<Root, Bs...>::value) {
      value = vacc.sum();
    } else {
      std::int64_t elements = n;
      if constexpr (!RB) elements -= pass.begin;
      value = static_cast<S>(elements) * static_cast<S>(fget<K - 1>(vals));
      fget<K - 1>(uadj) += seed_total(seed, elements);
    }
    auto usend = [&]<class U, class Side, class C>(std::type_identity<U>, Side, const C& c) METAGRAD_INLINE {
      fget<tl_index<U, Nodes>::value>(uadj) += c;
    };
    auto uback = [&]<std::size_t Ii>(std::integral_constant<std::size_t, Ii>) METAGRAD_INLINE {
      using T = typename tl_at<Ii, Nodes>::type;
      if constexpr (!uses_eigen<T, Bs...>::value && needs_grad<T, Bs...>::value) {
        const S a = fget<Ii>(uadj);
        if constexpr (is_var<T>::value) std::get<binding_index<T::name, Bs...>()>(out) += a;
        else op_vjp<S, T, Bs...>(get, a, usend);
      }
    };
    [&]<std::size_t... R>(std::index_sequence<R...>) METAGRAD_INLINE {
      (uback(std::integral_constant<std::size_t, K - 1 - R>{}), ...);
    }(std::make_index_sequence<K>{});
    return value;
  }(std::make_index_sequence<K>{}, std::index_sequence_for<Bs...>{});
}
/// The fused pass as a function of its own, which the compiler decides
/// whether to inline: for passes with a transcendental node (packet_pass)
/// and for every pass of the bridge (bridge.hpp: forced inline, g++'s 6-op
/// chain at 1M took 1.13x its time; its passes are large, a saved call gains
/// nothing).
template <class S, class A, int P, std::size_t NC, class Out, std::size_t NF, class Seed, class Pass, class... Bs>
S packet_pass_outlined(const std::array<double, NC>& consts, Out& out, const FrontierIO<S, NF>& fio, Seed seed,
                       const Pass& pass, std::int64_t n, const Bs&... bs) {
  return packet_pass_body<S, A, P>(consts, out, fio, seed, pass, n, bs...);
}
/// Is every node of the pass over A cheap (arithmetic, square roots,
/// selections: keep_plan.hpp's cheap_node) or a frontier (read from memory)?
template <class A, class... Bs>
inline constexpr bool cheap_pass = []<class... N>(TypeList<N...>*) {
  return ((is_frontier<N>::value || cheap_node<N>()) && ...);
}(static_cast<pass_nodes<A, Bs...>*>(nullptr));

/// The fused pass (packet_pass_body). A pass of cheap nodes is always
/// inlined into its caller: g++ 12 kept it out of line, and its call — the
/// pointers to every operand and result marshalled through the stack — cost
/// more than the pass (the 2-d Rosenbrock over scalars: 3.6 ns against 1.6 ns
/// inlined; the 10-d one through head/tail: 36 ns against 22 ns). A pass
/// with a transcendental node stays the compiler's choice: forced inline,
/// g++'s code for the loop over them was 1.15–1.5x slower (tv, hvpt in
/// bench/suite_numerics).
template <class S, class A, int P = lanes<S>, std::size_t NC, class Out, std::size_t NF, class Seed, class Pass,
          class... Bs>
METAGRAD_INLINE inline S packet_pass(const std::array<double, NC>& consts, Out& out, const FrontierIO<S, NF>& fio, Seed seed,
                                     const Pass& pass, std::int64_t n, const Bs&... bs) {
  if constexpr (cheap_pass<A, Bs...>) return packet_pass_body<S, A, P>(consts, out, fio, seed, pass, n, bs...);
  else return packet_pass_outlined<S, A, P>(consts, out, fio, seed, pass, n, bs...);
}

/// mg::grad's pass (see packet_pass): full packets, then the elements left
/// over, either as one partial packet of masked instructions (a TailPass,
/// where the target has them: detail/tail_packet.hpp) or one at a time (the
/// one-lane pass), whichever costs less for the pass (masked_from below).
/// Each is an instantiation of its own. Without masked instructions a
/// partial packet assembled lane by lane costs more than its arithmetic
/// (AVX, n = 3: 56 ns against 15 ns for a normal log-density).
///
/// A pass with frontiers runs in blocks of sweep_block elements, calling
/// after_block(begin, end) after each: the tape adds the slices' adjoints
/// (blockwise buffers, reused by every block) into their variables'
/// gradients while they are in cache. (In one pass over 100,000 elements a
/// Rosenbrock's three slice buffers and the gradient, 3.2 MB, left the cache
/// between the pass and the adds: 1.9x a hand-written loop.)
inline constexpr std::int64_t sweep_block = 2048;
static_assert(sweep_block % block_padding == 0);
template <class S, class A, std::size_t NC, class Out, std::size_t NF, class Seed, class AfterBlock, class... Bs>
METAGRAD_INLINE inline S packet_sweep_body(const std::array<double, NC>& consts, Out& out, const FrontierIO<S, NF>& fio, Seed seed, std::int64_t n,
               AfterBlock&& after_block, const Bs&... bs) {
  constexpr int P = pass_lanes<S, A, Bs...>;
  // The fewest elements left over that go as one masked packet (TailPass)
  // rather than the one-lane pass (g++ 12, AVX-512, doubles):
  // * where a lane is costly (a transcendental), two: the one-lane pass took
  //   about 45 ns an element of sum(tanh(x) sin(x) + log1p(exp(-x^2))), one
  //   masked packet 48 ns (n = 7: 315 ns, now 48 ns); one element alone is
  //   3 ns cheaper as a lane.
  // * in a pass of cheap nodes, half a packet: a masked packet cost what 4-5
  //   one-lane elements do (a normal log-density: 4.0 ns, against 2.9-3.6 ns
  //   for 1-4 elements one lane at a time, 3.8-4.7 ns for 4-7; Rosenbrock
  //   through head/tail, 4-7 elements: 15-16 ns against 19-21).
  // Without masked instructions: always the one-lane pass.
  constexpr int masked_from = !native_tail<packet_t<S, P, pass_nodes<A, Bs...>>> ? P
                              : cheap_pass<A, Bs...>                               ? std::max(2, P / 2)
                                                                                   : 2;
  static_assert(sweep_block % P == 0);
  const std::int64_t block = NF > 0 ? sweep_block : n;
  S value = S(0);
  std::int64_t begin = 0;
  do {
    const std::int64_t end = n - begin > block ? begin + block : n;
    std::int64_t full = end - (end - begin) % P;
    if (full > begin) value += packet_pass<S, A, P>(consts, out, fio, seed, PlainPass{begin, begin}, full, bs...);
    if constexpr (masked_from < P) {
      if (end - full >= masked_from) {
        value += packet_pass_outlined<S, A, P>(consts, out, fio, seed, TailPass{{full, begin}}, end, bs...);
        full = end;
      }
    }
    if (full < end) value += packet_pass<S, A, 1>(consts, out, fio, seed, PlainPass{full, begin}, end, bs...);
    after_block(begin, end);
    begin = end;
  } while (begin < n);
  return value;
}
/// packet_sweep_body as a function of its own, which the compiler decides
/// whether to inline (for passes with a transcendental node; see packet_pass).
template <class S, class A, std::size_t NC, class Out, std::size_t NF, class Seed, class AfterBlock, class... Bs>
S packet_sweep_outlined(const std::array<double, NC>& consts, Out& out, const FrontierIO<S, NF>& fio, Seed seed, std::int64_t n,
               AfterBlock&& after_block, const Bs&... bs) {
  return packet_sweep_body<S, A>(consts, out, fio, seed, n, after_block, bs...);
}
/// The blockwise sweep (packet_sweep_body), inlined into its caller when
/// every node of the pass is cheap, as packet_pass is: clang++ 14 kept the
/// block loop out of line, and the 10-d Rosenbrock through head/tail took
/// 1.4–1.5x g++'s time (28 ns against 23 ns inlined).
template <class S, class A, std::size_t NC, class Out, std::size_t NF, class Seed, class AfterBlock, class... Bs>
METAGRAD_INLINE inline S packet_sweep(const std::array<double, NC>& consts, Out& out, const FrontierIO<S, NF>& fio, Seed seed, std::int64_t n,
               AfterBlock&& after_block, const Bs&... bs) {
  if constexpr (cheap_pass<A, Bs...>) return packet_sweep_body<S, A>(consts, out, fio, seed, n, after_block, bs...);
  else return packet_sweep_outlined<S, A>(consts, out, fio, seed, n, after_block, bs...);
}
/// (without frontiers: nothing to do after a block)
struct NothingAfterBlock {
  void operator()(std::int64_t, std::int64_t) const {}
};

}  // namespace detail
}  // namespace metagrad

#include "../detail/warnings_pop.hpp"
