// metagrad/detail/splat.hpp — a fixed-size Eigen array with one number in
// every lane, built as one register broadcast.
//
// g++ 12 builds Eigen's Array<double, 8, 1>::Constant(x) in memory (two
// 32-byte stores) and reads it back as one 64-byte vector: a failed
// store-to-load forward, and inside a loop g++ redoes it every iteration
// even when x is loop-invariant (the seed of a fused pass: about 10 cycles
// a packet). A GCC vector extension broadcast stays in a register.
#pragma once
#include <Eigen/Core>
#include <cstring>
#include <type_traits>

#include "config.hpp"

#if defined(__GNUC__) && (defined(__clang__) || __GNUC__ >= 12)
#define METAGRAD_VECTOR_EXTENSIONS 1
#else
#define METAGRAD_VECTOR_EXTENSIONS 0
#endif

namespace metagrad::detail {
/// Arr (a fixed-size Eigen array) with x in every lane.
template <class Arr>
METAGRAD_INLINE inline Arr splat(typename Arr::Scalar x) {
  using T = typename Arr::Scalar;
  constexpr int L = Arr::SizeAtCompileTime;
#if METAGRAD_VECTOR_EXTENSIONS
  if constexpr ((std::is_same_v<T, float> || std::is_same_v<T, double>) && L >= 2 && (L & (L - 1)) == 0) {
    typedef T V __attribute__((vector_size(sizeof(T) * L)));
    const V b = V{} + x;
    Arr r;
    std::memcpy(r.data(), &b, sizeof(V));
    return r;
  } else
#endif
  {
    return Arr::Constant(x);
  }
}
}  // namespace metagrad::detail
