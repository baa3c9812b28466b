// metagrad/detail/small_vector.hpp — Sizes: a shape / stride list stored
// inline (no heap), so creating a tensor never allocates for its metadata.
#pragma once
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <vector>

#include "config.hpp"

namespace metagrad {

/// The largest number of dimensions a tensor may have.
inline constexpr int kMaxDims = 8;

/// A list of at most kMaxDims 64-bit integers: what `sizes()` returns, and
/// what every shape argument takes (a braced list `{2, 3}` converts to it).
class Sizes {
 public:
  using value_type = std::int64_t;
  constexpr Sizes() = default;
  Sizes(std::initializer_list<std::int64_t> l) { assign(l.begin(), l.end()); }
  explicit Sizes(const std::vector<std::int64_t>& v) { assign(v.begin(), v.end()); }
  template <class It>
  Sizes(It first, It last) { assign(first, last); }

  constexpr int size() const { return n_; }
  constexpr bool empty() const { return n_ == 0; }
  constexpr std::int64_t& operator[](int i) { return v_[i]; }
  constexpr const std::int64_t& operator[](int i) const { return v_[i]; }
  const std::int64_t* begin() const { return v_; }
  const std::int64_t* end() const { return v_ + n_; }
  std::int64_t* begin() { return v_; }
  std::int64_t* end() { return v_ + n_; }
  std::int64_t back() const { return v_[n_ - 1]; }
  void push_back(std::int64_t x) {
    detail::check(n_ < kMaxDims, "metagrad supports at most ", kMaxDims, " dimensions");
    v_[n_++] = x;
  }
  void insert(int pos, std::int64_t x) {
    push_back(0);
    for (int i = n_ - 1; i > pos; --i) v_[i] = v_[i - 1];
    v_[pos] = x;
  }
  void erase(int pos) {
    for (int i = pos; i + 1 < n_; ++i) v_[i] = v_[i + 1];
    --n_;
  }
  void resize(int n, std::int64_t fill = 0) {
    detail::check(n <= kMaxDims, "metagrad supports at most ", kMaxDims, " dimensions");
    for (int i = n_; i < n; ++i) v_[i] = fill;
    n_ = n;
  }
  /// resize(n) leaving new entries unset, for a caller that writes each one;
  /// n is the size of another Sizes (so at most kMaxDims: not checked again).
  constexpr void resize_for_overwrite(int n) { n_ = n; }
  std::vector<std::int64_t> vec() const { return {begin(), end()}; }
  operator std::vector<std::int64_t>() const { return vec(); }

  friend bool operator==(const Sizes& a, const Sizes& b) {
    return a.n_ == b.n_ && std::equal(a.begin(), a.end(), b.begin());
  }
  /// Prints like Python's list: [2, 3]
  friend std::ostream& operator<<(std::ostream& os, const Sizes& s) {
    os << '[';
    for (int i = 0; i < s.n_; ++i) os << (i ? ", " : "") << s.v_[i];
    return os << ']';
  }

 private:
  template <class It>
  void assign(It first, It last) {
    for (; first != last; ++first) push_back(static_cast<std::int64_t>(*first));
  }
  std::int64_t v_[kMaxDims];  // (only the first n_ are meaningful: left uninitialised, as a tensor is made per op)
  int n_ = 0;
};

namespace detail {

/// Product of the sizes, refusing shapes whose element count overflows.
inline std::int64_t checked_numel(const Sizes& s) {
  std::int64_t n = 1;
  for (auto d : s) {
    check(d >= 0, "Trying to create tensor with negative dimension ", d, ": ", s);
    if (d != 0 && n > INT64_MAX / d)
      fail("numel: integer multiplication overflow for a tensor of shape ", s);
    n *= d;
  }
  return n;
}

/// Row-major (C-contiguous) strides for the given sizes.
inline Sizes contiguous_strides(const Sizes& s) {
  Sizes st;
  st.resize_for_overwrite(s.size());  // (resize's fill was a `rep stos` in every new tensor)
  std::int64_t acc = 1;
  for (int i = s.size() - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= std::max<std::int64_t>(s[i], 1);
  }
  return st;
}

}  // namespace detail
}  // namespace metagrad
