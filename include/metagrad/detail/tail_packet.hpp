// metagrad/detail/tail_packet.hpp — the last, partial packet of a fused pass:
// m < P real lanes. Loads fill the lanes past m with the last real element
// (finite wherever the real ones are, so that no kernel meets a value the
// data does not hold), and stores and sums touch the real lanes only.
//
// Where the target has masked instructions for the packet — AVX-512 for a
// float or double packet of one register, AVX2 for 4 doubles or 8 floats —
// each of these is one or two instructions, and a partial packet costs
// about what a full one does. Elsewhere (SSE2, dual packets, long double)
// it goes lane by lane, and mg::grad's passes run their last elements as a
// one-lane pass instead (native_tail says which).
#pragma once
#include <Eigen/Core>
#include <cstring>
#include <type_traits>
#include <utility>

#include "config.hpp"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace metagrad::detail {

/// What a masked packet of Pk needs: the instruction set's kind (1 AVX-512,
/// 2 AVX2, 0 none).
template <class Pk, class = void>
inline constexpr int tail_isa = 0;
template <class Pk>
inline constexpr int tail_isa<Pk, std::void_t<typename Pk::Scalar, decltype(Pk::SizeAtCompileTime)>> = [] {
  using T = typename Pk::Scalar;
  [[maybe_unused]] constexpr int bytes = static_cast<int>(sizeof(T)) * static_cast<int>(Pk::SizeAtCompileTime);
  if constexpr (!std::is_same_v<T, float> && !std::is_same_v<T, double>) return 0;
  else if constexpr (!std::is_base_of_v<Eigen::ArrayBase<Pk>, Pk>) return 0;  // (dual packets)
#if defined(__AVX512F__)
  else if constexpr (bytes == 64) return 1;
#endif
#if defined(__AVX2__)
  else if constexpr (bytes == 32) return 2;
#endif
  else return 0;
}();

/// Does a partial packet of Pk cost about what a full one does (masked
/// instructions), so that a pass can end on one?
template <class Pk>
inline constexpr bool native_tail = tail_isa<Pk> != 0;

/// The partial packet's mask: lanes [0, m) are real, 0 < m < P.
template <class Pk>
struct TailLanes {
  using T = typename Pk::Scalar;
  static constexpr int P = Pk::SizeAtCompileTime;
  static constexpr int isa = tail_isa<Pk>;
  int m;
#if defined(__AVX512F__)
  std::conditional_t<(P > 8), __mmask16, __mmask8> k{};
#endif
#if defined(__AVX2__)
  __m256i v{};  // all ones in the real lanes (AVX2)
#endif

  METAGRAD_INLINE explicit TailLanes(int real) : m(real) {
#if defined(__AVX512F__)
    if constexpr (isa == 1) k = static_cast<decltype(k)>((1u << real) - 1u);
#endif
#if defined(__AVX2__)
    if constexpr (isa == 2) {
      if constexpr (std::is_same_v<T, double>)
        v = _mm256_cmpgt_epi64(_mm256_set1_epi64x(real), _mm256_setr_epi64x(0, 1, 2, 3));
      else
        v = _mm256_cmpgt_epi32(_mm256_set1_epi32(real), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
#endif
  }

  /// The packet p[0..m), the lanes past m holding p[m - 1]. (E is the
  /// pass's element type: T, or Dual<T> for a dual packet, which goes lane
  /// by lane.)
  template <class E>
  METAGRAD_INLINE Pk load(const E* p) const {
#if defined(__AVX512F__)
    if constexpr (isa == 1 && std::is_same_v<E, T>) {
      if constexpr (std::is_same_v<T, double>) return to_pk(_mm512_mask_loadu_pd(_mm512_set1_pd(p[m - 1]), k, p));
      else return to_pk(_mm512_mask_loadu_ps(_mm512_set1_ps(p[m - 1]), k, p));
    }
#endif
#if defined(__AVX2__)
    if constexpr (isa == 2 && std::is_same_v<E, T>) {
      if constexpr (std::is_same_v<T, double>) {
        const __m256d mk = _mm256_castsi256_pd(v);
        return to_pk(_mm256_blendv_pd(_mm256_set1_pd(p[m - 1]), _mm256_maskload_pd(p, v), mk));
      } else {
        const __m256 mk = _mm256_castsi256_ps(v);
        return to_pk(_mm256_blendv_ps(_mm256_set1_ps(p[m - 1]), _mm256_maskload_ps(p, v), mk));
      }
    }
#endif
    Pk r;
    each_lane([&](auto l) { r[l] = p[l < m ? int(l) : m - 1]; });
    return r;
  }
  /// q[0..m) = a[0..m).
  template <class E>
  METAGRAD_INLINE void store(E* q, const Pk& a) const {
#if defined(__AVX512F__)
    if constexpr (isa == 1 && std::is_same_v<E, T>) {
      if constexpr (std::is_same_v<T, double>) _mm512_mask_storeu_pd(q, k, from_pk<__m512d>(a));
      else _mm512_mask_storeu_ps(q, k, from_pk<__m512>(a));
      return;
    }
#endif
#if defined(__AVX2__)
    if constexpr (isa == 2 && std::is_same_v<E, T>) {
      if constexpr (std::is_same_v<T, double>) _mm256_maskstore_pd(q, v, from_pk<__m256d>(a));
      else _mm256_maskstore_ps(q, v, from_pk<__m256>(a));
      return;
    }
#endif
    each_lane([&](auto l) {
      if (l < m) q[l] = a[l];
    });
  }
  /// a with the lanes past m zero.
  METAGRAD_INLINE Pk real_only(const Pk& a) const {
#if defined(__AVX512F__)
    if constexpr (isa == 1) {
      if constexpr (std::is_same_v<T, double>) return to_pk(_mm512_maskz_mov_pd(k, from_pk<__m512d>(a)));
      else return to_pk(_mm512_maskz_mov_ps(k, from_pk<__m512>(a)));
    }
#endif
#if defined(__AVX2__)
    if constexpr (isa == 2) {
      if constexpr (std::is_same_v<T, double>) return to_pk(_mm256_and_pd(from_pk<__m256d>(a), _mm256_castsi256_pd(v)));
      else return to_pk(_mm256_and_ps(from_pk<__m256>(a), _mm256_castsi256_ps(v)));
    }
#endif
    Pk r = a;
    each_lane([&](auto l) {
      if (l >= m) r[l] = T(0);
    });
    return r;
  }
  /// acc[l] += c[l] for the real lanes (a dead lane's c, NaN or infinite
  /// as it may be, is never added).
  METAGRAD_INLINE void add(Pk& acc, const Pk& c) const {
#if defined(__AVX512F__)
    if constexpr (isa == 1) {
      if constexpr (std::is_same_v<T, double>) {
        const __m512d s = from_pk<__m512d>(acc);
        acc = to_pk(_mm512_mask_add_pd(s, k, s, from_pk<__m512d>(c)));
      } else {
        const __m512 s = from_pk<__m512>(acc);
        acc = to_pk(_mm512_mask_add_ps(s, k, s, from_pk<__m512>(c)));
      }
      return;
    }
#endif
    if constexpr (isa == 2) {
      acc += real_only(c);
    } else {
      each_lane([&](auto l) {
        if (l < m) acc[l] += c[l];
      });
    }
  }

 private:
  /// f(l) for every lane, l a compile-time constant: a packet indexed only
  /// by constants can stay in registers (one access at a run-time index put
  /// a whole pass's slots in memory with clang++).
  template <class F>
  METAGRAD_INLINE static void each_lane(F&& f) {
    [&]<int... L>(std::integer_sequence<int, L...>) METAGRAD_INLINE {
      (f(std::integral_constant<int, L>{}), ...);
    }(std::make_integer_sequence<int, P>{});
  }
  template <class V>
  METAGRAD_INLINE static Pk to_pk(const V& x) {
    static_assert(sizeof(V) == sizeof(Pk));
    Pk r;
    std::memcpy(static_cast<void*>(r.data()), &x, sizeof(V));
    return r;
  }
  template <class V>
  METAGRAD_INLINE static V from_pk(const Pk& a) {
    static_assert(sizeof(V) == sizeof(Pk));
    V x;
    std::memcpy(&x, a.data(), sizeof(V));
    return x;
  }
};

}  // namespace metagrad::detail
