// metagrad/static/slices.hpp — slices of bound vectors (head, tail, segment
// of a variable) inside a fused reduction: the elements a slice reads, worked
// out from its counts, and the adding of a block of slice adjoints into the
// variable's gradient. Shared by the tape (tape.hpp) and by mg::grad's direct
// pass over a reduction whose only frontiers are such slices (grad.hpp): where
// a slice reads (slice_source, slice_read) is worked out here for both.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "../detail/config.hpp"
#include "packet_pass.hpp"

#include "../detail/warnings_push.hpp"

namespace metagrad {
namespace detail {

/// The elements [offset, offset + length) of a vector of `size` that slice
/// Fr (of a variable, or of a slice of one) reads; count(type_identity<C>)
/// gives the value of count node C. A count out of range is an mg::Error
/// naming the variable.
template <class Fr, class Count>
METAGRAD_INLINE inline rules::Span slice_span_of(Eigen::Index size, const Count& count) {
  using R = decltype(rule_of(std::declval<Fr>()));
  using A = std::remove_cvref_t<decltype(std::declval<Fr>().a)>;
  using C = std::remove_cvref_t<decltype(std::declval<Fr>().b)>;
  rules::Span in{0, size};
  if constexpr (slice_of_var<A>::value) in = slice_span_of<A>(size, count);
  const rules::Span sp =
      naming_variable<R, typename slice_root<Fr>::type>([&] { return R::span(in.length, count(std::type_identity<C>{})); });
  return {in.offset + sp.offset, sp.length};
}

/// A frontier's shape.
struct Shape {
  Eigen::Index rows, cols;
};

/// The bound vector that frontier Fr slices, as contiguous memory (0 for
/// other frontiers).
template <class S, class Fr, class... Bs>
METAGRAD_INLINE inline auto slice_source(const Bs&... bs) {
  if constexpr (slice_of_var<Fr>::value) {
    constexpr std::size_t j = binding_index<slice_root<Fr>::type::name, Bs...>();
    using B = std::tuple_element_t<j, std::tuple<Bs...>>;
    return Source<S, binding_value_t<B>>(bval(std::get<j>(std::forward_as_tuple(bs...))));
  } else {
    return 0;
  }
}

/// slice_source of every frontier in Fronts, as one tuple.
template <class S, class Fronts, class... Bs>
METAGRAD_INLINE inline auto slice_sources(const Bs&... bs) {
  return [&]<std::size_t... F>(std::index_sequence<F...>) METAGRAD_INLINE {
    return make_flat_tuple(slice_source<S, typename tl_at<F, Fronts>::type>(bs...)...);
  }(std::make_index_sequence<tl_size<Fronts>::value>{});
}

/// Zeroes, in out (shaped like the bindings), the gradient of every variable
/// that reduction body A reads only through slices: a pass writes the
/// gradients of what it reads directly, slices only add into theirs.
template <class A, class... Bs, class Out>
void zero_slice_only_grads(Out& out) {
  [&]<std::size_t... J>(std::index_sequence<J...>) {
    ((void)[&] {
       if constexpr (sliced<A, Bs::name> && !reads_direct<A, Bs::name>::value && !is_data_binding<Bs>)
         std::get<J>(out).setZero();
     }(), ...);
  }(std::index_sequence_for<Bs...>{});
}

/// The longest reduction over slices that mg::grad runs as one ScatterPass,
/// one element at a time with the adjoints added in place, rather than in
/// packets with the slices' adjoints buffered and added after: 12 elements
/// for a pass of cheap nodes (keep_plan.hpp), none with a transcendental
/// (one lane at a time it would call the scalar function). Measured on
/// Rosenbrock through head and tail (bench/suite_numerics rosen, doubles,
/// Zen 4), ScatterPass against packets: g++ 12 AVX-512 8.4 against 15.5 ns at
/// n = 3, 14.3 against 16.8 at n = 10, 15.9 against 19.0 at n = 13; clang++ 14
/// 10.0/15.3, 18.3/19.1, 20.9/22.7; g++ AVX2 10.0/12.2 at n = 3, 14.5/17.9 at
/// n = 10. At 16 elements (n = 17) the ScatterPass took 1.1x the packets' time
/// (g++ and clang++ AVX-512; AVX2 the same time), at 32 1.1-2x.
template <class S, class A, class... Bs>
inline constexpr std::int64_t scatter_max = cheap_pass<A, Bs...> ? 12 : 0;
/// The longest gradient a ScatterPass zeroes (zero_unmasked); a variable
/// with a longer one goes the blockwise way.
template <class S>
inline constexpr std::int64_t scatter_grad_max = 64;

/// Writes n zeros at g, W <= n <= scatter_grad_max, as unmasked stores of W
/// elements each, the last one overlapping the one before.
template <class S, int W>
METAGRAD_INLINE inline void zero_by(S* g, std::int64_t n) {
  using Pk = Eigen::Array<S, W, 1>;
  [&]<std::size_t... K>(std::index_sequence<K...>) METAGRAD_INLINE {
    ((static_cast<std::int64_t>(K + 1) * W <= n ? store_packet(g + K * W, packet_zero<Pk>()) : void()), ...);
  }(std::make_index_sequence<scatter_grad_max<S> / W>{});
  if (n % W != 0) store_packet(g + n - W, packet_zero<Pk>());
}
/// Writes n <= scatter_grad_max zeros at g with unmasked stores: of a whole
/// register where n allows, else of half of one, and so on. (setZero's memset
/// ends in a masked store, which the CPU cannot forward to the loads that
/// follow at once: the first elements of a short ScatterPass waited for it,
/// half of a 3-d Rosenbrock's 14 ns, g++ 12, AVX-512; unrolled, the stores
/// are not made a memset again.)
template <class S, int W = lanes<S>>
METAGRAD_INLINE inline void zero_unmasked(S* g, std::int64_t n) {
  if constexpr (!std::is_arithmetic_v<S>) {
    std::fill(g, g + n, S(0));
  } else if constexpr (W == 1) {
    if (n == 1) *g = S(0);
  } else {
    if (n >= W) zero_by<S, W>(g, n);
    else zero_unmasked<S, W / 2>(g, n);
  }
}

/// The variables that a ScatterPass over reduction body A adds into: those
/// it reads directly or through slices (and needs a gradient of).
template <class A, class B>
inline constexpr bool scatter_target =
    (sliced<A, B::name> || reads_direct<A, B::name>::value) && !is_data_binding<B> && is_eigen_value<binding_value_t<B>>::value;

/// Are the gradients a ScatterPass over A adds into short enough to zero with
/// zero_unmasked?
template <class A, class... Bs, class Out>
METAGRAD_INLINE inline bool scatter_fits(const Out& out) {
  return [&]<std::size_t... J>(std::index_sequence<J...>) {
    return (... && [&] {
      if constexpr (scatter_target<A, Bs>) {
        using G = std::remove_cvref_t<decltype(std::get<J>(out))>;
        return std::get<J>(out).size() <= scatter_grad_max<typename G::Scalar>;
      } else {
        return true;
      }
    }());
  }(std::index_sequence_for<Bs...>{});
}

/// Zeroes, in out (shaped like the bindings), the gradient of every variable
/// a ScatterPass over A adds into.
template <class A, class... Bs, class Out>
METAGRAD_INLINE inline void zero_slice_pass_grads(Out& out) {
  [&]<std::size_t... J>(std::index_sequence<J...>) {
    ((void)[&] {
       if constexpr (scatter_target<A, Bs>) zero_unmasked(std::get<J>(out).data(), std::get<J>(out).size());
     }(), ...);
  }(std::index_sequence_for<Bs...>{});
}

/// Points the adjoint output of every blockwise slice in Fronts at its
/// variable's gradient in out, at the slice's offset (spans), for a
/// ScatterPass: adjoint element i is added to g[offset + i].
template <class S, class Fronts, class... Bs, class Out, std::size_t NF, std::size_t NS>
METAGRAD_INLINE inline void scatter_targets(Out& out, FrontierIO<S, NF>& fio, const std::array<rules::Span, NS>& spans) {
  [&]<std::size_t... F>(std::index_sequence<F...>) {
    ((void)[&] {
       using Fr = typename tl_at<F, Fronts>::type;
       if constexpr (blockwise_frontier<Fr, Bs...>) {
         using V = typename slice_root<Fr>::type;
         fio.out[F] = std::get<binding_index<V::name, Bs...>()>(out).data() + spans[F].offset;
       }
     }(), ...);
  }(std::make_index_sequence<NF>{});
}

/// Where slice Fr reads in its bound vector, whose contiguous memory
/// (slice_source) starts at src: its span of that vector, the span's first
/// element (in) and the slice's shape; returns whether the slice is a row (a
/// row vector's). count as for slice_span_of. (Written through references:
/// returned as one struct, the span went through the stack twice and the
/// 10-d Rosenbrock gradient took 5 ns longer with g++ 12.)
template <class Fr, class S, class Count, class... Bs>
METAGRAD_INLINE inline bool slice_read(const S* src, const Count& count, rules::Span& span, const S*& in, Shape& shape,
                                       const Bs&... bs) {
  const auto& xv = bval(std::get<binding_index<slice_root<Fr>::type::name, Bs...>()>(std::forward_as_tuple(bs...)));
  const rules::Span sp = span = slice_span_of<Fr>(xv.size(), count);
  in = src + sp.offset;
  const bool row = xv.rows() == 1 && xv.cols() != 1;
  shape = row ? Shape{1, sp.length} : Shape{sp.length, 1};
  return row;
}

/// Are slice Fr's counts (its own and those of the slices under it)
/// constants of the expression, known without a tape?
template <class Fr> struct constant_counts : std::false_type {};
template <class R, class A, class C>
  requires(slice_of_var<Binary<R, A, C>>::value && (is_const_at<C>::value || is_intc<C>::value))
struct constant_counts<Binary<R, A, C>> : std::bool_constant<is_var<A>::value || constant_counts<A>::value> {};

/// The value of constant count C.
template <class S, class C, std::size_t NC>
S constant_count(const std::array<double, NC>& consts) {
  if constexpr (is_const_at<C>::value) return static_cast<S>(consts[C::index]);
  else return static_cast<S>(C::value);
}

/// Does every frontier of A slice a variable with constant counts (so that a
/// reduction of A needs no tape: mg::grad's direct pass)?
template <class L> struct only_constant_slices;
template <class... Fs> struct only_constant_slices<TypeList<Fs...>> : std::bool_constant<(constant_counts<Fs>::value && ...)> {};

/// Adds one block, elements [begin, end) of the pass, of every blockwise
/// slice adjoint (fio.out) into its variable's gradient in out (shaped like
/// the bindings), at the slice's offset (spans): g[offset + i] += adj[i - begin].
template <class S, class Fronts, class... Bs, class Out, std::size_t NF, std::size_t NS>
void add_slice_adjoints(Out& out, const FrontierIO<S, NF>& fio, const std::array<rules::Span, NS>& spans, std::int64_t begin,
                        std::int64_t end) {
  [&]<std::size_t... F>(std::index_sequence<F...>) {
    ((void)[&] {
       using Fr = typename tl_at<F, Fronts>::type;
       if constexpr (blockwise_frontier<Fr, Bs...>) {
         using V = typename slice_root<Fr>::type;
         using Arr = Eigen::Array<S, Eigen::Dynamic, 1>;
         Eigen::Map<Arr>(std::get<binding_index<V::name, Bs...>()>(out).data() + spans[F].offset + begin, end - begin) +=
             Eigen::Map<const Arr>(fio.out[F], end - begin);
       }
     }(), ...);
  }(std::make_index_sequence<NF>{});
}

/// The blockwise frontiers of Fronts that slice variable V, in order.
template <class V, class Fronts, class... Bs>
constexpr auto slices_of_var() {
  return []<std::size_t... F>(std::index_sequence<F...>) {
    constexpr auto is_v = []<class Fr>(std::type_identity<Fr>) {
      if constexpr (blockwise_frontier<Fr, Bs...>) return std::is_same_v<typename slice_root<Fr>::type, V>;
      else return false;
    };
    constexpr std::size_t m = (std::size_t{0} + ... + (is_v(std::type_identity<typename tl_at<F, Fronts>::type>{}) ? 1 : 0));
    std::array<std::size_t, m> which{};
    std::size_t k = 0;
    ((is_v(std::type_identity<typename tl_at<F, Fronts>::type>{}) ? (void)(which[k++] = F) : void()), ...);
    return which;
  }(std::make_index_sequence<tl_size<Fronts>::value>{});
}

/// The only block of a short pass over A (n elements): every variable that A
/// reads through slices gets its gradient written whole, element by element,
/// each element the sum of the slices' adjoints that cover it (plus what the
/// pass wrote there, if A reads the variable directly too), so it needs no
/// zeroing before. Adding slice after slice with Eigen, the packet loads of
/// one add waited for the element-by-element stores of the previous one (a
/// failed store-to-load forward): those adds took 12 of the 32 ns of a 10-d
/// Rosenbrock gradient (g++ 12, AVX-512); written this way, 7.5 ns.
template <class S, class A, class... Bs, class Out, std::size_t NF, std::size_t NS>
void write_slice_adjoints(Out& out, const FrontierIO<S, NF>& fio, const std::array<rules::Span, NS>& spans, std::int64_t n) {
  using Fronts = frontiers_t<A>;
  [&]<std::size_t... J>(std::index_sequence<J...>) {
    ((void)[&] {
       using B = std::tuple_element_t<J, std::tuple<Bs...>>;
       constexpr auto which = slices_of_var<Var<B::name>, Fronts, Bs...>();
       constexpr std::size_t M = which.size();
       if constexpr (M > 0) {
         std::array<const S*, M> b;
         std::array<std::int64_t, M> off;
         for (std::size_t k = 0; k < M; ++k) b[k] = fio.out[which[k]], off[k] = spans[which[k]].offset;
         S* g = std::get<J>(out).data();
         const std::int64_t size = std::get<J>(out).size();
         for (std::int64_t j = 0; j < size; ++j) {
           S sum = reads_direct<A, B::name>::value ? g[j] : S(0);
           for (std::size_t k = 0; k < M; ++k) {
             const std::int64_t i = j - off[k];
             if (static_cast<std::uint64_t>(i) < static_cast<std::uint64_t>(n)) sum += b[k][i];
           }
           g[j] = sum;
         }
       }
     }(), ...);
  }(std::index_sequence_for<Bs...>{});
}

}  // namespace detail
}  // namespace metagrad

#include "../detail/warnings_pop.hpp"
