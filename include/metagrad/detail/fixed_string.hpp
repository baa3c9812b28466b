// metagrad/detail/fixed_string.hpp — a string usable as a template argument,
// so `mg::var<"x">` names a variable in its type.
#pragma once
#include <cstddef>
#include <string_view>

namespace metagrad::detail {

template <std::size_t N>
struct fixed_string {
  char data[N]{};
  constexpr fixed_string(const char (&s)[N]) {
    for (std::size_t i = 0; i < N; ++i) data[i] = s[i];
  }
  constexpr std::string_view view() const { return {data, N - 1}; }
  template <std::size_t M>
  constexpr bool operator==(const fixed_string<M>& o) const {
    return view() == o.view();
  }
};

}  // namespace metagrad::detail
