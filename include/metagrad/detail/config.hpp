// metagrad/detail/config.hpp — library-wide basics: the error type and the
// small helpers every other header needs.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

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
