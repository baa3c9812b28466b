// metagrad/detail/config.hpp — library-wide basics: the error type and the
// small helpers every other header needs.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

/// Forces a generated lambda inline where its captures must stay in registers
/// (the fused pass's per-packet body: one out-of-line copy makes clang++ keep
/// every packet slot in memory). Only when optimising: at -O0 forced inlining
/// only costs compile time.
#if (defined(__GNUC__) || defined(__clang__)) && defined(__OPTIMIZE__)
#define METAGRAD_INLINE __attribute__((always_inline))
#else
#define METAGRAD_INLINE
#endif
/// Keeps a rarely taken path (a vector kernel's edge cases) out of the
/// fused pass, whose registers it would otherwise crowd.
#if defined(__GNUC__) || defined(__clang__)
#define METAGRAD_NOINLINE __attribute__((noinline))
#else
#define METAGRAD_NOINLINE
#endif

namespace metagrad {

/// Every runtime error of metagrad derives from this (and so from
/// std::exception). Messages contain PyTorch's phrase for the same mistake.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

template <class... A>
[[noreturn]] inline void fail(const A&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(os.str());
}

template <class... A>
inline void check(bool ok, const A&... parts) {
  if (!ok) fail(parts...);
}

}  // namespace detail
}  // namespace metagrad
