// tests/support/random_graphs.hpp — the random expression-graph generator
// shared by the randomized differential tests (tests/dynamic/
// test_random_graphs.cpp) and the libFuzzer driver (tests/fuzz/). Every
// choice goes through pick(): from a seeded generator, or from the fuzzer's
// input bytes (so coverage guidance steers the graphs, and a failing input
// replays the very same graph).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include <metagrad/metagrad.hpp>

#include "structure_rows.hpp"

namespace fuzzgraph {
namespace mg = metagrad;

/// Any value mapped smoothly into a table row's domain (rules::Domain), away
/// from the kinks and jumps of the piecewise rows.
inline mg::Tensor into_domain(mg::rules::Domain d, const mg::Tensor& t) {
  using D = mg::rules::Domain;
  switch (d) {
    case D::real: return mg::tanh(t * 0.5) * 2.0;          // (-2, 2)
    case D::positive: return mg::sqrt(t * t + 0.5);        // [0.71, inf)
    case D::unit: return mg::tanh(t) * 0.9;                // (-0.9, 0.9)
    case D::above_one: return mg::sqrt(t * t + 0.5) + 0.8;  // [1.5, inf)
    case D::piecewise: return mg::sigmoid(t) * 0.3 + 0.1;  // (0.1, 0.4): one piece of each
  }
  return t;
}
/// Every unary row of the derivative table with its domain, generated from
/// the table's own row list (a new row is drawn with no change here).
struct TableRow {
  const char* name;
  mg::rules::Domain domain;
  mg::Tensor (*fn)(const mg::Tensor&);
};
inline const std::vector<TableRow>& table_rows() {
#define METAGRAD_ROW(Rule, fn) TableRow{#fn, mg::rules::Rule::domain, [](const mg::Tensor& t) { return mg::fn(t); }},
  static const std::vector<TableRow> rows{METAGRAD_FOR_EACH_UNARY(METAGRAD_ROW)};
#undef METAGRAD_ROW
  return rows;
}

/// Every binary row of the table, each operand mapped into its domain
/// (generated from METAGRAD_FOR_EACH_BINARY).
struct BinaryTableRow {
  const char* name;
  mg::rules::Domain domain_a, domain_b;
  mg::Tensor (*fn)(const mg::Tensor&, const mg::Tensor&);
};
inline const std::vector<BinaryTableRow>& binary_table_rows() {
#define METAGRAD_ROW(Rule, fn)                                                     \
  BinaryTableRow{#fn, mg::rules::Rule::domain_a, mg::rules::Rule::domain_b,       \
                 [](const mg::Tensor& a, const mg::Tensor& b) { return mg::fn(a, b); }},
  static const std::vector<BinaryTableRow> rows{METAGRAD_FOR_EACH_BINARY(METAGRAD_ROW)};
#undef METAGRAD_ROW
  return rows;
}

/// Every rule with a form along a dimension (generated from
/// METAGRAD_FOR_EACH_ALONG), its input mapped into its domain.
struct AlongRow {
  const char* node;
  mg::rules::Domain domain;
  mg::Tensor (*fn)(const mg::Tensor&, int, bool);
};
inline const std::vector<AlongRow>& along_rows() {
#define METAGRAD_ROW(Rule, dom)                                        \
  AlongRow{mg::rules::Rule::node_name, mg::rules::Domain::dom,         \
           [](const mg::Tensor& x, int d, bool k) { return mg::detail::along_op<mg::rules::Rule>(x, d, k); }},
  static const std::vector<AlongRow> rows{METAGRAD_FOR_EACH_ALONG(METAGRAD_ROW)};
#undef METAGRAD_ROW
  return rows;
}

struct Gen {
  std::mt19937 rng;
  const std::uint8_t* bytes = nullptr;
  std::size_t size = 0, used = 0;
  explicit Gen(unsigned seed) : rng(seed) {}
  /// Choices read from bytes (the fuzzer's input); 0 once they run out.
  Gen(const std::uint8_t* data, std::size_t n) : rng(0), bytes(data), size(n) {}
  int pick(int n) {
    if (!bytes) return std::uniform_int_distribution<int>(0, n - 1)(rng);
    return used < size ? bytes[used++] % n : 0;
  }

  mg::Sizes shape() {
    static const mg::Sizes shapes[] = {{}, {3}, {2, 3}, {1, 3}, {2, 1}};
    return shapes[pick(5)];
  }
  /// A well-conditioned value (domain-safe for log/sqrt/div after the guards below).
  static mg::Tensor positive(const mg::Tensor& t) { return mg::sqrt(t * t + 0.5); }

  /// Comparisons, where, clamp and masked_fill, each continuous where its
  /// condition switches (finite differences then see at most a kink, as at
  /// abs's 0, never a jump). Thresholds are off the inputs' grid: sums of
  /// grid values land exactly on round numbers (a - b * 0.5 was exactly -0.5,
  /// a clamp bound, in two of 30,000 graphs). b is nudged by 1e-3 where it is
  /// compared with a: the two can be one value reached by two paths.
  mg::Tensor condition(const mg::Tensor& a, const mg::Tensor& b) {
    constexpr double t = 0.4619, d = 0.9871;
    switch (pick(6)) {
      case 0: return mg::abs(a) + mg::relu(b + 3.0);
      case 1: {  // Huber (C1): |a| read by the condition and by a branch
        const auto r = mg::abs(a);
        return mg::where(r <= d, a * a * 0.5, (r - 0.5 * d) * d);
      }
      case 2: return mg::where(b > t, a * b, a * t);  // b's shape broadcast into the condition
      case 3: return mg::clamp(a, -0.5173, 0.8219) * b;
      case 4: return a.masked_fill(a > t, t);
      default: {  // the larger of a and b, through a comparison read by nothing else
        const auto c = b + 1e-3;
        return mg::where(a < c, c, a);
      }
    }
  }

  /// One random op applied to the pool of live tensors; returns the new tensor.
  mg::Tensor step(std::vector<mg::Tensor>& pool) {
    const auto& a = pool[static_cast<std::size_t>(pick(static_cast<int>(pool.size())))];
    const auto& b = pool[static_cast<std::size_t>(pick(static_cast<int>(pool.size())))];
    switch (pick(17)) {
      case 0: return a + b;
      case 1: return a - b * 0.5;
      case 2: return a * b;
      case 3: return a / positive(b);
      case 4: return mg::pow(positive(a), b * 0.3);
      case 5: return mg::exp(a * 0.3);
      case 6: return mg::log(positive(a));
      case 7: return mg::sin(a) + mg::cos(b);
      case 8: return mg::tanh(a) * mg::sigmoid(b);
      case 9: return 2.0 - a.pow(2.0) / 3.0;
      case 10: {  // reductions: sum over a dim (keepdim or not), the product of all, or
                  // any rule along a dimension (softmax, cumsum, var, ...) on its domain
        if (a.dim() == 0) return a * 1.5;
        const auto& along = along_rows();
        const int k = pick(3 + static_cast<int>(along.size()));
        if (k < 3) return k < 2 ? a.sum(-1, k == 1) : mg::prod(a * 0.5 + 1.0);
        const auto& row = along[static_cast<std::size_t>(k - 3)];
        return row.fn(into_domain(row.domain, a), pick(a.dim()), pick(2) == 1);
      }
      case 11: return a.dim() == 2 ? a.t().mean(0) : a.mean();
      case 12: return a.dim() > 0 ? a[a.size(0) - 1] : a;
      case 13: {  // slice assignment into a fresh base
        auto base = mg::zeros({2, 3});
        base[pick(2)] = a.dim() == 0 ? a * 1.0 : (a.dim() == 1 ? a : a.sum(0));
        base.index({mg::Slice(), mg::Slice(0, 3, 2)}) = mg::tanh(b.dim() > 0 && b.sizes().back() == 1 ? b : b.sum());
        return base;
      }
      case 14: {  // in-place ops on a non-leaf copy
        auto c = a * 1.0;
        c.mul_(1.5).add_(b.sum());
        c -= mg::sin(c * 1.0);  // reads c, then overwrites it
        return c;
      }
      case 15: {  // any unary or binary row of the derivative table, on its domain, or
                  // any op with arguments, on arguments drawn valid for a's shape
        const auto nu = table_rows().size(), nb = binary_table_rows().size(), ns = structure_rows().size();
        const auto k = static_cast<std::size_t>(pick(static_cast<int>(nu + nb + ns)));
        if (k < nu) return table_rows()[k].fn(into_domain(table_rows()[k].domain, a));
        if (k >= nu + nb) return structure_rows()[k - nu - nb].draw(a.sizes(), [this](int n) { return pick(n); })(a);
        // (b nudged by 1e-3, which leaves it in every domain of the table: a
        // and b can be one value reached by two paths, or the same tensor,
        // and maximum / minimum at a tie have no derivative for finite
        // differences to check — found by the fuzzer, operands 1e-16 apart)
        const auto& row = binary_table_rows()[k - nu];
        return row.fn(into_domain(row.domain_a, a), into_domain(row.domain_b, b) + 1e-3);
      }
      default: {  // products of compatible shapes, else conditions
        if (a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1)) return mg::matmul(a, b.t());
        if (a.dim() == 1 && b.dim() == 1 && a.size(0) == b.size(0)) return mg::dot(a, b);
        return condition(a, b);
      }
    }
  }
};

/// Builds a random graph over `inputs`; errors from incompatible broadcasting
/// are part of the op set, so a step that throws is simply redrawn.
inline mg::Tensor random_graph(Gen g, const std::vector<mg::Tensor>& inputs, int steps) {
  std::vector<mg::Tensor> pool = inputs;
  for (int i = 0; i < steps; ++i) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      try {
        pool.push_back(g.step(pool));
        break;
      } catch (const mg::Error&) {
      }
    }
  }
  mg::Tensor out = pool.back();
  for (std::size_t i = pool.size() >= 3 ? pool.size() - 3 : 0; i + 1 < pool.size(); ++i) {  // reuse earlier tensors
    try {
      out = out + pool[i].sum();
    } catch (const mg::Error&) {
    }
  }
  return out;
}

inline mg::Tensor random_graph(unsigned seed, const std::vector<mg::Tensor>& inputs, int steps) {
  return random_graph(Gen(seed), inputs, steps);
}

/// Inputs of random shapes with values in [lo, hi] (deterministic in g).
inline std::vector<mg::Tensor> random_inputs(Gen& g) {
  std::vector<mg::Tensor> inputs;
  const int n = 1 + g.pick(3);
  // Values on a grid plus a small offset distinct per element, so that sums
  // of inputs never land exactly on a kink of abs or relu (finite differences
  // across a kink are not a gradient bug; the fuzzer found -0.325 + 0.325).
  int serial = 0;
  for (int i = 0; i < n; ++i) {
    auto t = mg::zeros(g.shape());
    auto* p = t.data_ptr();
    for (std::int64_t k = 0; k < t.numel(); ++k) p[k] = -1.2 + 2.4 * (g.pick(97) / 96.0) + 1.4142135e-3 * ++serial;
    inputs.push_back(t.requires_grad_());
  }
  return inputs;
}

}  // namespace fuzzgraph
