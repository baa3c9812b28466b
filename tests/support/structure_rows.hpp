// tests/support/structure_rows.hpp — the ops with arguments
// (METAGRAD_FOR_EACH_STRUCTURE in rules/structure.hpp) as a list the table
// test, the random graphs and the fuzzer draw from: for a row and an input
// shape, `draw` picks valid arguments of the row's kind (rules::Args) and
// returns the op bound to them, adapting the input where the kind needs it
// (a 0-d input made 1-d, a matrix made from any input, a well-conditioned
// square or positive-definite matrix built from the input's elements), so
// the gradient always reaches the input.
#pragma once
#include <functional>
#include <vector>

#include <metagrad/metagrad.hpp>

namespace fuzzgraph {
namespace mg = metagrad;

/// A choice in [0, n): from a seeded generator or from fuzzer bytes.
using Pick = std::function<int(int)>;
/// The op with its drawn arguments, applied to one input.
using Bound = std::function<mg::Tensor(const mg::Tensor&)>;

namespace structure {

inline mg::Tensor at_least_1d(const mg::Tensor& x) { return x.dim() == 0 ? x.reshape({1}) : x; }
inline mg::Sizes at_least_1d(const mg::Sizes& s) { return s.empty() ? mg::Sizes{1} : s; }
inline mg::Tensor as_matrix(const mg::Tensor& x) { return x.dim() == 2 ? x : x.reshape({1, x.numel()}); }
inline std::int64_t numel(const mg::Sizes& s) { return mg::detail::checked_numel(s); }
inline mg::Sizes as_matrix(const mg::Sizes& s) { return s.size() == 2 ? s : mg::Sizes{1, numel(s)}; }
/// A dimension of an n-d shape, negative half of the time (d - n).
inline int any_dim(int n, const Pick& pick) { return pick(n) - (pick(2) == 1 ? n : 0); }
/// An int64 tensor of `shape` with entries drawn in [0, bound).
inline mg::BasicTensor<std::int64_t> indices(const mg::Sizes& shape, std::int64_t bound, const Pick& pick) {
  auto t = mg::full<std::int64_t>(shape, 0);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data_ptr()[i] = pick(static_cast<int>(bound));
  return t;
}
/// q x q, made of the input's first q^2 elements (or of their sum times a
/// fixed pattern when there are fewer), squashed into (-1, 1).
inline mg::Tensor pattern(const mg::Tensor& x, std::int64_t q) {
  const auto v = x.reshape({x.numel()});
  if (x.numel() >= q * q) return mg::tanh(v.narrow(0, 0, q * q).reshape({q, q}));
  auto k = mg::zeros({q, q});
  for (std::int64_t i = 0; i < q * q; ++i) k.data_ptr()[i] = 0.9 * std::sin(1.3 * static_cast<double>(i) + 0.4);
  return mg::tanh(v.sum() * 0.5) * k;
}
/// Clamp bounds away from the grid of the tests' inputs (no element sits on one).
inline double lower_bound(const Pick& pick) { return -0.731 + 0.05 * pick(4); }
inline double upper_bound(const Pick& pick) { return 0.613 + 0.05 * pick(4); }
inline std::int64_t square_size(const mg::Sizes& s) { return numel(s) >= 9 ? 3 : 2; }
/// Strictly diagonally dominant with a positive diagonal: determinant > 0.
inline mg::Tensor square(const mg::Tensor& x, std::int64_t q) { return mg::eye(q) * 2.0 + pattern(x, q) * 0.4; }
/// Symmetric and strictly diagonally dominant: positive definite.
inline mg::Tensor spd(const mg::Tensor& x, std::int64_t q) {
  const auto p = pattern(x, q);
  return mg::eye(q) * 2.0 + (p + p.t()) * 0.2;
}

/// Draws the arguments of kind A for an input of shape s and binds f to them.
template <mg::rules::Args A, class F>
Bound bind(F f, const mg::Sizes& s, const Pick& pick) {
  using K = mg::rules::Args;
  const mg::Sizes s1 = at_least_1d(s);
  const int n1 = static_cast<int>(s1.size());
  if constexpr (A == K::none) {
    return [f](const mg::Tensor& x) { return f(x); };
  } else if constexpr (A == K::matrix) {
    return [f](const mg::Tensor& x) { return f(as_matrix(x)); };
  } else if constexpr (A == K::matrix_offset) {
    const std::int64_t k = pick(5) - 2;
    return [f, k](const mg::Tensor& x) { return f(as_matrix(x), k); };
  } else if constexpr (A == K::dim) {
    const int d = any_dim(n1, pick);
    return [f, d](const mg::Tensor& x) { return f(at_least_1d(x), d); };
  } else if constexpr (A == K::new_dim) {
    const int d = pick(static_cast<int>(s.size()) + 1);
    return [f, d](const mg::Tensor& x) { return f(x, d); };
  } else if constexpr (A == K::dim_pair) {
    const int d0 = any_dim(n1, pick), d1 = any_dim(n1, pick);
    return [f, d0, d1](const mg::Tensor& x) { return f(at_least_1d(x), d0, d1); };
  } else if constexpr (A == K::permutation) {
    mg::Sizes p;
    for (int i = 0; i < n1; ++i) p.push_back(i);
    for (int i = n1 - 1; i > 0; --i) std::swap(p[i], p[pick(i + 1)]);
    return [f, p](const mg::Tensor& x) { return f(at_least_1d(x), p); };
  } else if constexpr (A == K::dim_position) {
    const int d = pick(n1);
    const std::int64_t i = pick(static_cast<int>(s1[d]));
    return [f, d, i](const mg::Tensor& x) { return f(at_least_1d(x), d, i); };
  } else if constexpr (A == K::dim_start_length) {
    const int d = pick(n1);
    const auto n = s1[d];
    const std::int64_t start = pick(static_cast<int>(n)), length = 1 + pick(static_cast<int>(n - start));
    return [f, d, start, length](const mg::Tensor& x) { return f(at_least_1d(x), d, start, length); };
  } else if constexpr (A == K::dim_index) {
    const int d = pick(n1);
    const auto index = indices({1 + pick(4)}, s1[d], pick);
    return [f, d, index](const mg::Tensor& x) { return f(at_least_1d(x), d, index); };
  } else if constexpr (A == K::dim_index_like) {
    const int d = pick(n1);
    mg::Sizes shape = s1;
    shape[d] = 1 + pick(3);
    const auto index = indices(shape, s1[d], pick);
    return [f, d, index](const mg::Tensor& x) { return f(at_least_1d(x), d, index); };
  } else if constexpr (A == K::index_into || A == K::gather_into) {
    const int d = pick(n1);
    mg::Sizes into = s1;
    into[d] += pick(2);
    const auto index = indices(A == K::index_into ? mg::Sizes{s1[d]} : s1, into[d], pick);
    return [f, into, d, index](const mg::Tensor& g) { return f(at_least_1d(g), into, d, index); };
  } else if constexpr (A == K::bounds) {
    const double lo = lower_bound(pick), hi = upper_bound(pick);
    return [f, lo, hi](const mg::Tensor& x) { return f(x, lo, hi); };
  } else if constexpr (A == K::lower || A == K::upper) {
    const double bound = A == K::lower ? lower_bound(pick) : upper_bound(pick);
    return [f, bound](const mg::Tensor& x) { return f(x, bound); };
  } else if constexpr (A == K::broadcast) {
    mg::Sizes to = s;
    for (auto& k : to)
      if (k == 1) k = 1 + pick(3);
    if (pick(2) == 1) to.insert(0, 2);
    return [f, to](const mg::Tensor& x) { return f(x, to); };
  } else if constexpr (A == K::reduced) {
    mg::Sizes to;
    const int drop = s.empty() ? 0 : pick(2);
    for (int i = drop; i < static_cast<int>(s.size()); ++i) to.push_back(pick(2) == 1 ? 1 : s[i]);
    return [f, to](const mg::Tensor& x) { return f(x, to); };
  } else if constexpr (A == K::same_numel) {
    const auto n = numel(s);
    std::vector<mg::Sizes> shapes{{n}, {1, n}, {n, 1}};
    if (n % 2 == 0) shapes.push_back({2, n / 2});
    const auto to = shapes[static_cast<std::size_t>(pick(static_cast<int>(shapes.size())))];
    return [f, to](const mg::Tensor& x) { return f(x, to); };
  } else if constexpr (A == K::parts || A == K::new_parts) {
    const int d = A == K::parts ? any_dim(n1, pick) : pick(static_cast<int>(s.size()) + 1);
    const int count = 1 + pick(3);
    return [f, d, count](const mg::Tensor& x0) {
      const auto x = A == K::parts ? at_least_1d(x0) : x0;
      std::vector<mg::Tensor> parts{x, mg::sin(x), x * 0.5 + 1.0};
      parts.resize(static_cast<std::size_t>(count));
      return f(parts, d);
    };
  } else if constexpr (A == K::square || A == K::spd) {
    const auto q = square_size(s);
    return [f, q](const mg::Tensor& x) { return f(A == K::square ? square(x, q) : spd(x, q)); };
  } else if constexpr (A == K::square_rhs) {
    const auto q = square_size(s);
    const bool vector_rhs = pick(2) == 1;
    return [f, q, vector_rhs](const mg::Tensor& x) {
      const auto b = pattern(x, q) + 0.25;
      return f(square(x, q), vector_rhs ? b.sum(1) : b);
    };
  } else if constexpr (A == K::batches) {
    return [f](const mg::Tensor& x) {
      const auto m = as_matrix(x);
      return f(mg::stack({m, m * 0.5}), mg::stack({mg::sin(m).t(), m.t()}));
    };
  } else if constexpr (A == K::vectors) {
    const bool with_constant = pick(2) == 1;
    return [f, with_constant](const mg::Tensor& x) {
      const auto v = x.reshape({x.numel()});
      return f(v, with_constant ? mg::tensor({0.5, -1.5}) : mg::sin(v));
    };
  } else {
    static_assert(A == K::targets, "a new rules::Args kind needs a drawer in tests/support/structure_rows.hpp");
    const auto m = as_matrix(s);
    const auto target = indices({m[0]}, m[1], pick);
    return [f, target](const mg::Tensor& x) { return f(as_matrix(x), target); };
  }
}

}  // namespace structure

/// One op with arguments: its name, its node, its kind, and the drawer.
struct StructureRow {
  const char* name;
  const char* node;
  mg::rules::Args args;
  Bound (*draw)(const mg::Sizes&, const Pick&);
};
/// Every row of METAGRAD_FOR_EACH_STRUCTURE (a new row is drawn with no
/// change here).
inline const std::vector<StructureRow>& structure_rows() {
#define METAGRAD_ROW(fn, node, kind)                                                                  \
  StructureRow{#fn, node, mg::rules::Args::kind, [](const mg::Sizes& s, const Pick& p) {             \
                 return structure::bind<mg::rules::Args::kind>([](const auto&... a) { return mg::fn(a...); }, s, p); \
               }},
  static const std::vector<StructureRow> rows{METAGRAD_FOR_EACH_STRUCTURE(METAGRAD_ROW)};
#undef METAGRAD_ROW
  return rows;
}

}  // namespace fuzzgraph
