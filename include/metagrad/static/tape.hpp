// metagrad/static/tape.hpp — the compile-time tape behind `mg::grad` and the
// bridge's backward. The expression type is flattened, at compile time, into
// a list of its DISTINCT subexpressions in evaluation order (graph.hpp), so a
// subexpression that occurs several times is evaluated once and its adjoint is
// gathered from all its uses before it is propagated. The forward sweep fills
// one slot per node; the reverse sweep walks the list backwards applying each
// rule's vector-Jacobian product (steps.hpp). Both are unrolled by the
// compiler: no tape at run time, no virtual calls, no allocation for scalars.
// A tape whose slots hold dynamic-size Eigen buffers is kept by mg::grad's
// result, and a repeated sweep (mg::grad_into) assigns into those buffers —
// nothing is allocated while the shapes stay the same.
//
// sum/mean of an elementwise expression over Eigen values is one node of the
// list, computed by the fused packet pass (packet_pass.hpp): it yields the
// value and every variable's local derivative at once; the upstream gradient
// only scales them. Slices of bound vectors inside it are read in place.
// mg::scan's loops: scan_loops.hpp.
#pragma once
#include <algorithm>
#include <array>
#include <optional>
#include <tuple>
#include <utility>

#include "../detail/config.hpp"
#include "scan_loops.hpp"
#include "slices.hpp"

#include "../detail/warnings_push.hpp"

namespace metagrad {
namespace detail {

/// The number of elements of the Eigen bindings that A reads and of its
/// frontiers, of shapes fs (they must agree: a sentence at compile time for
/// fixed sizes, else mg::Error).
template <class A, std::size_t NF, class... Bs>
std::int64_t common_size(const std::array<Shape, NF>& fs, const Bs&... bs) {
  static_assert(fixed_shapes_agree<A, Bs...>(), "mg: elementwise operands have different fixed sizes");
  Eigen::Index rows = -1, cols = -1;
  auto shape = [&](Eigen::Index r, Eigen::Index c) {
    if (rows >= 0 && (r != rows || c != cols))
      fail("mg::grad: elementwise operands of different shapes (", rows, "x", cols, " and ", r, "x", c, ")");
    rows = r;
    cols = c;
  };
  auto one = [&]<class B>(const B& b) {
    if constexpr (is_eigen_value<binding_value_t<B>>::value && reads_direct<A, B::name>::value)
      shape(bval(b).rows(), bval(b).cols());
  };
  (one(bs), ...);
  for (const Shape& f : fs) shape(f.rows, f.cols);
  return static_cast<std::int64_t>(rows * cols);
}
template <class A, class... Bs>
std::int64_t common_size(const Bs&... bs) { return common_size<A>(std::array<Shape, 0>{}, bs...); }

/// What a fused reduction node stores: its value and, for each binding it
/// reads, d(value)/d(binding) (the upstream gradient only scales these).
template <class S, class Jac, class FJac>
struct ReductionValue {
  static constexpr bool is_reduction = true;
  S value;
  Jac jac;
  FJac fjac;  // d(value)/d(frontier), per frontier
};
template <class S, class A, bool Exclusive, class B>
auto jac_slot(const B& b) {
  if constexpr ((reads_direct<A, B::name>::value || sliced<A, B::name>) && !Exclusive && !is_data_binding<B>)
    return zero_like<S, binding_value_t<B>, true>(bval(b));
  else return '\0';  // not read, or written straight into the gradient
}

// ------------------------------------------------- 5. the expression tape
template <class S, class E, class L, class... Bs> struct TapeImpl;
template <class S, class E, class... Ts, class... Bs>
struct TapeImpl<S, E, TypeList<Ts...>, Bs...> {
  using Nodes = TypeList<Ts...>;
  static constexpr std::size_t K = sizeof...(Ts);
  template <class T> static constexpr std::size_t at = tl_index<T, Nodes>::value;

  /// A fused reduction that is the only reader of variable N (N appears
  /// nowhere else) writes its derivative straight into N's gradient, which
  /// the reverse sweep then scales: no extra buffer, no extra pass.
  template <class T, detail::fixed_string N>
  static constexpr bool reduction_reads() {
    if constexpr (is_fused_reduction<T, Bs...>::value) {
      using A = std::remove_cvref_t<decltype(std::declval<T>().a)>;
      return reads_direct<A, N>::value || sliced<A, N>;
    }
    else return false;
  }
  template <class T, detail::fixed_string N>
  static constexpr bool exclusive = [] {
    if constexpr (is_fused_reduction<T, Bs...>::value) {
      constexpr std::size_t readers =
          (std::size_t{0} + ... + (is_fused_reduction<Ts, Bs...>::value && reduction_reads<Ts, N>() ? 1 : 0));
      constexpr bool operand = ((is_operand<Var<N>, Ts, 0>::value || is_operand<Var<N>, Ts, 1>::value) || ...);
      constexpr bool data = ((Bs::name == N && is_data_binding<Bs>) || ...);
      return reduction_reads<T, N>() && readers == 1 && !operand && !data;
    } else {
      return false;
    }
  }();
  /// Variable N's gradient is written whole by one node (its own tape node,
  /// which sees every contribution first, or one exclusive fused reduction),
  /// so it needs no zeroing.
  template <detail::fixed_string N>
  static constexpr bool fresh = (exclusive<Ts, N> || ...) || (std::is_same_v<Ts, Var<N>> || ...);
  template <class T> struct slot { using type = node_type_t<S, T, Bs...>; };
  template <class T> requires is_fused_reduction<T, Bs...>::value
  struct slot<T> {
    using A = std::remove_cvref_t<decltype(std::declval<T>().a)>;
    using Fronts = frontiers_t<A>;
    template <class L> struct fjac;
    template <class... Fs> struct fjac<TypeList<Fs...>> {
      using type = std::tuple<typename adjoint_type<node_type_t<S, Fs, Bs...>>::type...>;
    };
    using type = ReductionValue<S, decltype(std::make_tuple(jac_slot<S, A, exclusive<T, Bs::name>>(std::declval<const Bs&>())...)),
                                typename fjac<Fronts>::type>;
  };
  template <class T> using value_t = typename slot<T>::type;
  /// Recording (create_graph) sweeps over Tensors keep every adjoint a Tensor.
  using tensor_t = typename std::conditional_t<(is_tensor_like<binding_value_t<Bs>> || ...),
                                               first_tensor<binding_value_t<Bs>...>, std::type_identity<void>>::type;
  template <class T> struct generic_adjoint { using type = std::conditional_t<
      is_fused_reduction<T, Bs...>::value, S,
      std::conditional_t<!std::is_void_v<tensor_t> && is_number_v<value_t<T>>, tensor_t,
                         typename adjoint_type<value_t<T>>::type>>; };
  template <class T> struct adjoint : generic_adjoint<T> {};
  /// A variable bound to an Eigen value gathers its adjoint straight in its
  /// gradient (the result's storage, reused by mg::grad_into): its slot here
  /// only records that the first contribution has been stored.
  struct InGrad {};
  template <detail::fixed_string N>
  static constexpr bool gathers_in_grad = [] {
    if constexpr (is_bound<N, Bs...>) {
      using B = std::tuple_element_t<binding_index<N, Bs...>(), std::tuple<Bs...>>;
      return is_eigen_value<binding_value_t<B>>::value && !is_data_binding<B>;
    } else {
      return false;
    }
  }();
  template <detail::fixed_string N> requires(gathers_in_grad<N>)
  struct adjoint<Var<N>> { using type = InGrad; };
  template <class T> using adjoint_t = typename adjoint<T>::type;

  /// T is a unary node over a variable that gathers in its gradient, and
  /// T's rule can write its vector-Jacobian product into a destination.
  template <class T>
  static constexpr bool vjp_into_grad() {
    if constexpr (requires { std::declval<T>().a; } && !requires { std::declval<T>().b; }) {
      using C = std::remove_cvref_t<decltype(std::declval<T>().a)>;
      using R = decltype(rule_of(std::declval<T>()));
      if constexpr (is_var<C>::value && requires { &R::template vjp_into<int, int, int, int>; })
        return std::is_same_v<adjoint_t<C>, InGrad>;
      else return false;
    } else {
      return false;
    }
  }

  std::array<double, const_count<E>::value> consts;
  std::tuple<std::optional<value_t<Ts>>...> vals;
  /// A scan's reverse loop writes the gradient of its xs here (reused by the
  /// next sweep of a kept tape: mg::grad_into allocates nothing for it).
  Eigen::Array<S, Eigen::Dynamic, 1> scan_xs_grad;

  /// Does the tape hold heap buffers (dynamic-size values, adjoints or a
  /// reduction's derivatives), worth keeping for the next sweep?
  template <class V>
  static constexpr bool holds_buffers = [] {
    if constexpr (requires { V::is_reduction; }) {
      return []<class... J, class... F>(std::type_identity<std::tuple<J...>>, std::type_identity<std::tuple<F...>>) {
        return (is_dynamic_plain<J> || ...) || (is_dynamic_plain<F> || ...);
      }(std::type_identity<decltype(V::jac)>{}, std::type_identity<decltype(V::fjac)>{});
    } else {
      return is_dynamic_plain<V>;
    }
  }();
  static constexpr bool keeps_buffers =
      ((holds_buffers<value_t<Ts>> || is_dynamic_plain<adjoint_t<Ts>>) || ...);

  /// Adjoint slots and got[k] (node k has received a contribution in this
  /// sweep). A tape that keeps buffers keeps these too, so that a repeated
  /// sweep (mg::grad_into) writes into the last one's; others use locals,
  /// which the compiler keeps in registers.
  struct Adjoints {
    std::tuple<std::optional<adjoint_t<Ts>>...> adj;
    std::array<bool, K> got{};
  };
  struct NoAdjoints {};
  [[no_unique_address]] std::conditional_t<keeps_buffers, Adjoints, NoAdjoints> kept;

  explicit TapeImpl(const E& e) : consts(consts_of(e)) {}
  /// For a kept tape: the runtime constants of this call's expression.
  void rebind(const E& e) { consts = consts_of(e); }

  template <class U> const auto& val() const { return *std::get<at<U>>(vals); }
  auto getter() const {
    return [this]<class U>(std::type_identity<U>) -> const auto& { return *std::get<at<U>>(vals); };
  }
  S value() const { return static_cast<S>(plain_value(*std::get<K - 1>(vals))); }

  /// Forward sweep; grads (shaped like the bindings) is where exclusive
  /// reductions leave their derivatives.
  template <class Grads>
  void forward(Grads& grads, const Bs&... bs) { (compute<Ts>(grads, bs...), ...); }
  template <class T, class Grads>
  void compute(Grads& grads, const Bs&... bs) {
    auto& s = std::get<at<T>>(vals);
    if constexpr (is_var<T>::value) store(s, as_value(lookup<T::name>(bs...)));
    else if constexpr (is_intc<T>::value) s.emplace(static_cast<S>(T::value));
    else if constexpr (is_const_at<T>::value) s.emplace(static_cast<S>(consts[T::index]));
    else if constexpr (is_fused_reduction<T, Bs...>::value) {
      using A = typename slot<T>::A;
      constexpr bool mean = std::is_same_v<decltype(rule_of(std::declval<T>())), rules::Mean>;
      using Fronts = typename slot<T>::Fronts;
      constexpr std::size_t NF = tl_size<Fronts>::value;
      if (!s) s.emplace(value_t<T>{S(0), std::make_tuple(jac_slot<S, A, exclusive<T, Bs::name>>(bs)...), {}});
      else reset_jac(s->jac, std::index_sequence_for<Bs...>{}, bs...);
      value_t<T>& r = *s;
      auto out = [&]<std::size_t... J>(std::index_sequence<J...>) {
        return std::forward_as_tuple([&]() -> auto& {
          if constexpr (exclusive<T, Bs::name>) return std::get<J>(grads); else return std::get<J>(r.jac);
        }()...);
      }(std::index_sequence_for<Bs...>{});
      // Slices add into their variable's derivative after the pass, which
      // writes it whole only if it also reads the variable directly.
      zero_slice_only_grads<A, Bs...>(out);
      std::array<rules::Span, NF + 1> spans{};
      FrontierIO<S, NF> fio;
      // The bound vectors that slices read, as contiguous memory, and the
      // slices' counts (on this tape).
      [[maybe_unused]] const auto count = [get = getter()]<class C>(std::type_identity<C> c) { return plain_value(get(c)); };
      auto sources = slice_sources<S, Fronts>(bs...);
      const std::int64_t n = [&]<std::size_t... F>(std::index_sequence<F...>) {
        // Each frontier's value and a buffer of its shape for its adjoint: a
        // slice of a variable is read in place, any other frontier's value
        // was computed earlier on this tape.
        std::array<Shape, NF> shapes{};
        ((void)[&] {
           using Fr = typename tl_at<F, Fronts>::type;
           if constexpr (slice_of_var<Fr>::value) {
             const bool row = slice_read<Fr>(fget<F>(sources).ptr, count, spans[F], fio.in[F], shapes[F], bs...);
             if constexpr (blockwise_frontier<Fr, Bs...>) {  // (one block's adjoints: packet_sweep)
               // (whole packets: a partial packet's adjoints are stored
               // unmasked, see packet_pass)
               auto& buffer = std::get<F>(r.fjac);
               const Eigen::Index length = std::min<Eigen::Index>(
                   (spans[F].length + block_padding - 1) / block_padding * block_padding, sweep_block);
               if (buffer.size() != length) buffer.resize(row ? 1 : length, row ? length : 1);
               fio.out[F] = buffer.data();
             }
           } else {
             const auto& v = val<Fr>();
             std::get<F>(r.fjac).resize(v.rows(), v.cols());
             fio.in[F] = v.data(), fio.out[F] = std::get<F>(r.fjac).data();
             shapes[F] = Shape{v.rows(), v.cols()};
           }
         }(), ...);
        return common_size<A>(shapes, bs...);
      }(std::make_index_sequence<NF>{});
      // Slices' adjoints are added into their variables' gradients block by
      // block, while the block is in cache (a separate loop: adding in place
      // inside the packet loop, where head and tail of one vector overlap by
      // an element, stalls every store).
      auto add_slices = [&](std::int64_t begin, std::int64_t end) {
        add_slice_adjoints<S, Fronts, Bs...>(out, fio, spans, begin, end);
      };
      r.value = packet_sweep<S, A>(consts, out, fio, mean ? S(1) / static_cast<S>(n) : S(1), n, add_slices, bs...);
      if constexpr (mean) r.value /= static_cast<S>(n);
    } else if constexpr (is_scan<T>::value) {
      scan_forward<S, T>(s, static_cast<S>(plain_value(val<std::remove_cvref_t<decltype(std::declval<T>().init)>>())),
                         val<std::remove_cvref_t<decltype(std::declval<T>().xs)>>(), consts, bs...);
    } else if constexpr (!is_dynamic_plain<value_t<T>>) {
      s.emplace(naming_variable<decltype(rule_of(std::declval<T>())), std::remove_cvref_t<decltype(std::declval<T>().a)>>(
          [&] { return op_value<S, T>(getter()); }));
    } else if constexpr (requires { decltype(rule_of(std::declval<T>()))::writes_into; std::declval<T>().b; }) {
      // (a product or a solve: straight into the node's buffer)
      if (!s) s.emplace();
      naming_variable<decltype(rule_of(std::declval<T>())), std::remove_cvref_t<decltype(std::declval<T>().a)>>([&] {
        decltype(rule_of(std::declval<T>()))::f_into(*s, val<std::remove_cvref_t<decltype(std::declval<T>().a)>>(),
                                                      val<std::remove_cvref_t<decltype(std::declval<T>().b)>>());
        return 0;
      });
    } else {
      naming_variable<decltype(rule_of(std::declval<T>())), std::remove_cvref_t<decltype(std::declval<T>().a)>>([&] {
        store(s, op_value<S, T, true>(getter()));  // into the kept buffer, if any
        return 0;
      });
    }
  }
  /// A kept reduction's derivative slots made ready for this call's bindings:
  /// scalars (which the pass adds into) zeroed, arrays (written whole) resized.
  template <class Jac, std::size_t... J>
  static void reset_jac(Jac& jac, std::index_sequence<J...>, const Bs&... bs) {
    const auto bound = std::forward_as_tuple(bs...);
    ((void)[&] {
       auto& j = std::get<J>(jac);
       using Slot = std::remove_cvref_t<decltype(j)>;
       if constexpr (is_number_v<Slot>) {
         j = Slot(0);
       } else if constexpr (is_dynamic_plain<Slot>) {
         const auto& v = bval(std::get<J>(bound));
         if (j.rows() != v.rows() || j.cols() != v.cols()) j.resize(v.rows(), v.cols());
       }
     }(), ...);
  }

  template <class G, class Grads>
  void backward(const G& g, Grads& grads, const Bs&... bs) {
    if constexpr (keeps_buffers) {
      kept.got.fill(false);
      backward_with(kept, g, grads, bs...);
    } else {
      Adjoints local;
      backward_with(local, g, grads, bs...);
    }
  }
  template <class G, class Grads>
  void backward_with(Adjoints& store_to, const G& g, Grads& grads, [[maybe_unused]] const Bs&... bs) {
    auto& adj = store_to.adj;
    auto& got = store_to.got;
    store(std::get<K - 1>(adj), g);
    got[K - 1] = true;
    const auto get = getter();
    auto send = [&]<class U, class Side, class C>(std::type_identity<U>, Side, C&& c) {
      constexpr std::size_t u = at<U>;
      if constexpr (std::is_same_v<adjoint_t<U>, InGrad>) {
        auto& o = std::get<binding_index<U::name, Bs...>()>(grads);
        if (!got[u]) assign_into(o, c); else add_into(o, c);
        got[u] = true;
      } else if constexpr (needs_grad<U, Bs...>::value) {
        auto& s = std::get<u>(adj);
        using V = std::remove_cvref_t<decltype(plain_value(std::declval<const value_t<U>&>()))>;
        using CV = std::remove_cvref_t<C>;
        if constexpr (is_number_v<V> && !is_number_v<CV> && !is_tensor_like<CV>) {
          const S r = S(c.sum());  // a scalar broadcast against an array
          if (!got[u]) s.emplace(r); else *s += r;
        } else {  // evaluated straight into the slot
          if (!got[u]) store(s, std::forward<C>(c)); else add_into(*s, c);
        }
        got[u] = true;
      }
    };
    // A rule that writes into a destination (a product) writes into the
    // child's kept buffer or the variable's gradient: no temporary.
    auto into = [&]<class U, class Side, class W>(std::type_identity<U>, Side, W& write) -> bool {
      constexpr std::size_t u = at<U>;
      auto run = [&](auto& dst) {
        if (got[u]) write(dst, std::true_type{}); else write(dst, std::false_type{});
        got[u] = true;
        return true;
      };
      if constexpr (std::is_same_v<adjoint_t<U>, InGrad>) {
        return run(std::get<binding_index<U::name, Bs...>()>(grads));
      } else if constexpr (needs_grad<U, Bs...>::value && is_dynamic_plain<adjoint_t<U>>) {
        auto& s = std::get<u>(adj);
        if (!s) s.emplace();
        return run(*s);
      } else {
        return false;
      }
    };
    auto back = [&]<class T>(std::type_identity<T>) {
      if constexpr (needs_grad<T, Bs...>::value && !std::is_same_v<adjoint_t<T>, InGrad>) {
        if (!got[at<T>]) return;
        const auto& a = *std::get<at<T>>(adj);
        if constexpr (is_var<T>::value) {
          if constexpr (is_bound<T::name, Bs...>)
            assign_into(std::get<binding_index<T::name, Bs...>()>(grads), a);
        } else if constexpr (is_fused_reduction<T, Bs...>::value) {
          const auto& r = *std::get<at<T>>(vals);
          [&]<std::size_t... J>(std::index_sequence<J...>) {
            ((void)[&] {
               using B = std::tuple_element_t<J, std::tuple<Bs...>>;
               auto& o = std::get<J>(grads);
               if constexpr (exclusive<T, B::name>) {
                 if constexpr (requires { o.array(); }) o.array() *= a; else o *= a;
               } else if constexpr ((reads_direct<typename slot<T>::A, B::name>::value || sliced<typename slot<T>::A, B::name>) &&
                                    !is_data_binding<B>) {
                 const auto& jac = std::get<J>(r.jac);
                 if constexpr (requires { jac.array(); }) send(std::type_identity<Var<B::name>>{}, side_a, a * jac.array());
                 else send(std::type_identity<Var<B::name>>{}, side_a, a * jac);
               }
             }(), ...);
          }(std::index_sequence_for<Bs...>{});
          [&]<std::size_t... F>(std::index_sequence<F...>) {
            ((void)[&] {
               using Fr = typename tl_at<F, typename slot<T>::Fronts>::type;
               if constexpr (!slice_of_var<Fr>::value) send(std::type_identity<Fr>{}, side_a, a * std::get<F>(r.fjac));
             }(), ...);
          }(std::make_index_sequence<tl_size<typename slot<T>::Fronts>::value>{});
        } else if constexpr (is_scan<T>::value) {
          scan_backward<S, T, Bs...>(get, a, send, scan_xs_grad, consts, bs...);
        } else if constexpr (vjp_into_grad<T>()) {
          // The rule writes its product straight into the variable's
          // gradient when it is the first contribution (prod: no temporary).
          using C = std::remove_cvref_t<decltype(std::declval<T>().a)>;
          // (T the only reader of C: always the first, and no other branch
          // compiled, which keeps the sweep small enough to inline.)
          constexpr bool only_reader =
              (std::size_t{0} + ... + ((is_operand<C, Ts, 0>::value || is_operand<C, Ts, 1>::value) ? 1 : 0)) == 1;
          if (only_reader || !got[at<C>]) {
            auto&& dst = std::get<binding_index<C::name, Bs...>()>(grads).array();
            decltype(rule_of(std::declval<T>()))::vjp_into(dst, plain_value(get(std::type_identity<C>{})),
                                                            plain_value(get(std::type_identity<T>{})), a);
            got[at<C>] = true;
          } else if constexpr (!only_reader) {
            op_vjp<S, T, Bs...>(get, a, send, into);
          }
        } else {
          op_vjp<S, T, Bs...>(get, a, send, into);
        }
      }
    };
    [&]<std::size_t... R>(std::index_sequence<R...>) {
      (back(std::type_identity<typename tl_at<K - 1 - R, Nodes>::type>{}), ...);
    }(std::make_index_sequence<K>{});
  }
};


/// The tape of expression E (runtime constants numbered) under bindings Bs.
template <class S, class E, class... Bs>
using Tape = TapeImpl<S, E, typename post_order<typename numbered<E>::type, TypeList<>, Bs...>::type, Bs...>;

/// The interface the bridge uses: a tape per evaluation.
template <class S>
struct Sweep {
  template <class E, class... Bs>
  static auto fwd(const E& e, const Bs&... bs) {
    Tape<S, E, Bs...> t(e);
    std::tuple<> none;  // the bridge's expressions are elementwise: no reductions
    t.forward(none, bs...);
    return t;
  }
  template <class E, class T, class G, class Grads, class... Bs>
  static void bwd(const E&, T& tape, const G& g, Grads& grads, const Bs&... bs) { tape.backward(g, grads, bs...); }
};

}  // namespace detail
}  // namespace metagrad

#include "../detail/warnings_pop.hpp"
