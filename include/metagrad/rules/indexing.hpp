// metagrad/rules/indexing.hpp — derivative rules of reading parts of a vector:
// `x[i]` (one element), `head(x, n)`, `tail(x, n)` and `skip(x, s)` (all but
// the first s; `segment(x, s, n)` is head(skip(x, s), n)). The position or
// count is the second operand, a run-time number. Each is linear, so its
// vector-Jacobian product scatters g into zeros of x's shape:
//   x[i]:       dx = e_i g                 head(x, n): dx[0:n]     = g
//   tail(x, n): dx[size-n:] = g            skip(x, s): dx[s:]      = g
// A scalar operand (the derivative 1 of mg::d) passes through unchanged.
// head, tail and skip are contiguous slices: `span(a, b)` gives the offset and
// length they read (checked), so that a fused reduction reads a slice of a
// bound vector in place and adds its adjoint straight into the vector's
// gradient, with no copy and no scatter.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <type_traits>

#include "../detail/config.hpp"
#include "../detail/number.hpp"

namespace metagrad {
namespace rules {
namespace detail_index {
template <class A>
constexpr void require_vector() {
  if constexpr (!::metagrad::detail::is_number_v<A>)
    static_assert(A::RowsAtCompileTime == 1 || A::ColsAtCompileTime == 1,
                  "mg::head, mg::tail, mg::segment and x[i] read vectors: the operand must be an Eigen vector");
}
/// The error for count or position r out of range (out of line: the checks
/// run before every static pass over slices, and their arguments would
/// otherwise be laid out on the stack before each test).
template <class R>
[[noreturn]] METAGRAD_NOINLINE void bad_count(const char* op, Eigen::Index size, R r, bool position) {
  if (position) ::metagrad::detail::fail("index ", r, " is out of bounds for dimension 0 with size ", size, " (", op, ")");
  ::metagrad::detail::fail(op, ": ", r, " elements asked of a vector of size ", size);
}
/// The count or position b (a number holding an integer), checked against
/// the size of the vector read.
template <class B>
METAGRAD_INLINE inline Eigen::Index count(const char* op, Eigen::Index size, const B& b, bool position) {
  const auto r = ::metagrad::detail::real_part(b);
  const auto v = static_cast<Eigen::Index>(r);
  // (v < 0 is a huge unsigned number: one comparison checks both ends)
  const auto uv = static_cast<std::uint64_t>(v), usize = static_cast<std::uint64_t>(size);
  const bool ok = static_cast<decltype(r)>(v) == r && (position ? uv < usize : uv <= usize);
  if (!ok) [[unlikely]] bad_count(op, size, r, position);
  return v;
}
/// zeros of a's shape with the part `part(r)` set to g.
template <class A, class G, class Part>
auto scatter(const A& a, const G& g, Part part) {
  if constexpr (::metagrad::detail::is_number_v<A>) {
    if constexpr (::metagrad::detail::is_number_v<G>) return g; else return static_cast<A>(g.sum());
  } else {
    Eigen::Array<typename A::Scalar, Eigen::Dynamic, 1> r = Eigen::Array<typename A::Scalar, Eigen::Dynamic, 1>::Zero(a.size());
    part(r) = g;
    return r;
  }
}
}  // namespace detail_index

/// The part of a vector of `size` elements a slice rule reads: elements
/// [offset, offset + length).
struct Span {
  Eigen::Index offset, length;
};

#define METAGRAD_VECTOR_PART_RULE(NAME, NODE, SYMBOL, POSITION, READ, SPAN)                        \
  struct NAME {                                                                                   \
    static constexpr const char* node_name = NODE;                                                \
    static constexpr const char* symbol = SYMBOL;                                                 \
    static constexpr bool elementwise = false, linear_in_a = true;                                \
    static constexpr bool slice = !POSITION;                                                      \
    template <class B>                                                                            \
    static Span span(Eigen::Index size, const B& b) {                                             \
      const Eigen::Index k = detail_index::count(SYMBOL, size, b, POSITION);                      \
      (void)size;                                                                                 \
      return SPAN;                                                                                \
    }                                                                                             \
    template <class A, class B>                                                                   \
    static auto f(const A& a, const B& b) {                                                       \
      detail_index::require_vector<A>();                                                          \
      if constexpr (::metagrad::detail::is_number_v<A>) return a;                                            \
      else {                                                                                      \
        const Eigen::Index k = detail_index::count(SYMBOL, a.size(), b, POSITION);                       \
        auto part = [&](const auto& v) -> decltype(auto) { return READ; };                        \
        return part(a);                                                                           \
      }                                                                                           \
    }                                                                                             \
    template <class A, class B, class Y, class G>                                                 \
    static auto vjp_a(const A& a, const B& b, const Y&, const G& g) {                             \
      if constexpr (::metagrad::detail::is_number_v<A>) return detail_index::scatter(a, g, 0);               \
      else {                                                                                      \
        const Eigen::Index k = detail_index::count(SYMBOL, a.size(), b, POSITION);                       \
        return detail_index::scatter(a, g, [&](auto& v) -> decltype(auto) { return READ; });      \
      }                                                                                           \
    }                                                                                             \
    template <class A, class B, class Y, class G>                                                 \
    static auto vjp_b(const A&, const B& b, const Y&, const G&) { return b * B(0); }              \
  };

//                       rule   PyTorch node        symbol   position  the part of v           its span
METAGRAD_VECTOR_PART_RULE(Index, "SelectBackward0", "index", true,  (v(k)),                  (Span{k, 1}))
METAGRAD_VECTOR_PART_RULE(Head,  "SliceBackward0",  "head",  false, (v.head(k)),             (Span{0, k}))
METAGRAD_VECTOR_PART_RULE(Tail,  "SliceBackward0",  "tail",  false, (v.tail(k)),             (Span{size - k, k}))
METAGRAD_VECTOR_PART_RULE(Skip,  "SliceBackward0",  "skip",  false, (v.tail(v.size() - k)),  (Span{k, size - k}))
#undef METAGRAD_VECTOR_PART_RULE

}  // namespace rules
}  // namespace metagrad
