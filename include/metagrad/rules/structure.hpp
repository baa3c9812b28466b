// metagrad/rules/structure.hpp — derivative rules of the ops whose backward
// formula needs the op's own arguments (a shape, a dimension, an index
// tensor, k, the bounds, the lengths of the parts). The arguments are the
// rule's members and `vjp(x, y, g)` is a member function written with the
// value family's free functions, found by argument-dependent lookup: Tensor
// ops in dynamic mode (so create_graph differentiates them again), probes
// when rules/probe.hpp finds which of x and y a formula reads (a node saves
// exactly those: `rules::param_needs<R>`). As derivatives.yaml writes them:
//   expand(x, s):           dx = sum_to_size(g, x.sizes())              ExpandBackward0
//   sum_to_size(x, s):      dx = expand(g, x.sizes())                   SumToSizeBackward0
//   clone(x):               dx = g                                      CloneBackward0
//   reshape, view:          dx = reshape(g, x.sizes())                  ViewBackward0, UnsafeViewBackward0
//   t(x):                   dx = t(g)                                   TBackward0
//   permute(x, p):          dx = permute(g, p^-1)                       PermuteBackward0, TransposeBackward0
//   select(x, d, i):        dx = select_backward(g, x.sizes(), d, i)    SelectBackward0
//   its adjoint (g into zeros at i): dg = select(g, d, i)              SelectBackwardBackward0
//   slice(x, d, a, b, s):   dx = slice_backward(g, x.sizes(), d, a, b, s) SliceBackward0 (narrow too)
//   its adjoint (g into zeros at a:b:s): dg = slice(g, d, a, b, s)      SliceBackwardBackward0
//   a view whose base changed in place: dbase = as_strided_backward(g, base.sizes(), steps)  AsStridedBackward0
//   sum, mean (along d):    dx = expand(g with d kept * scale, x.sizes())  SumBackward0/1, MeanBackward0/1
//   index_select(x, d, i):  dx = index_select_backward(g, x.sizes(), d, i) IndexSelectBackward0
//   its adjoint (index_add into zeros):  dsrc = index_select(g, d, i)   IndexAddBackward0
//   gather(x, d, i):        dx = gather_backward(g, x.sizes(), d, i)    GatherBackward0
//   its adjoint (scatter_add into zeros): dsrc = gather(g, d, i)        ScatterAddBackward0
//   tril(x, k):             dx = tril(g, k)                             TrilBackward0
//   clamp(x, lo, hi):       dx = g [lo <= x <= hi]                      ClampBackward1, ClampMin/MaxBackward0
//   nll_loss(logp, t):      dlogp = g w, w = -1/count at [i, t_i]       NllLossBackward0
//   polygamma(n, x):        dx = g polygamma(n + 1, x)                  PolygammaBackward0
//   cat(xs, d):             dxs[i] = narrow(g, d, offset_i, length_i)   CatBackward0
//   stack(xs, d):           dxs[i] = select(g, d, i)                    StackBackward0
// (cat and stack have one input per part: `vjp_at(g, i)` is part i's.)
#pragma once
#include <cstdint>
#include <vector>

#include "../detail/small_vector.hpp"
#include "probe.hpp"
#include "select.hpp"

namespace metagrad::rules {

struct Expand {
  Sizes in;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const { return sum_to_size(g, in); }
};
struct SumToSize {
  Sizes in;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const { return expand(g, in); }
};
struct Clone {
  template <class X, class Y, class G> G vjp(const X&, const Y&, const G& g) const { return g; }
};
struct Reshape {
  Sizes in;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const { return reshape(g, in); }
};
/// The transpose of a matrix (t()).
struct T2 {
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const { return t(g); }
};
/// permute(x, p); `inverse` is p^-1 (inverse[p[i]] = i).
struct Permute {
  Sizes inverse;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const { return permute(g, inverse); }
};
/// select(x, dim, index): the gradient goes to that position, zeros elsewhere.
struct Select {
  Sizes in;
  int dim;
  std::int64_t index;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const {
    return select_backward(g, in, dim, index);
  }
};
/// select_backward's adjoint: the position's gradient read back.
struct SelectAdjoint {
  int dim;
  std::int64_t index;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const { return select(g, dim, index); }
};
/// x[start:end:step] along dim (slice, narrow): the gradient goes to those
/// positions, zeros elsewhere.
struct SliceDim {
  Sizes in;
  int dim;
  std::int64_t start, end, step;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const {
    return slice_backward(g, in, dim, start, end, step);
  }
};
/// slice_backward's adjoint: those positions' gradient read back.
struct SliceAdjoint {
  int dim;
  std::int64_t start, end, step;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const {
    return slice(g, dim, start, end, step);
  }
};
/// A view whose base was changed in place after the view was taken: its
/// history is regenerated as a view of the base's new history, `steps` the
/// view's steps from the base (select, slice, transpose, reshape, permute).
template <class Steps>
struct AsStrided {
  Sizes in;
  Steps steps;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const {
    return as_strided_backward(g, in, steps);
  }
};
/// sum or mean of every element (`kept` empty) or along a dimension: g,
/// given the reduced dim back as size 1 (`kept`, unless keepdim already did),
/// times `scale` (1, or 1/count for a mean), spread over the input's shape.
template <class S>
struct SumMean {
  Sizes in, kept;
  bool unsqueeze;
  S scale;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const {
    const G g1 = unsqueeze ? reshape(g, kept) : g;
    return expand(scale == S(1) ? g1 : G(g1 * scale), in);
  }
};
template <class Index>
struct IndexSelect {
  static constexpr bool keeps_tensors = true;  // (the index: freed with the graph)
  int dim;
  Index index;
  Sizes in;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const {
    return index_select_backward(g, in, dim, index);
  }
};
/// index_select's adjoint (zeros with g's slices added at index).
template <class Index>
struct IndexAdd {
  static constexpr bool keeps_tensors = true;  // (the index: freed with the graph)
  int dim;
  Index index;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const { return index_select(g, dim, index); }
};
template <class Index>
struct Gather {
  static constexpr bool keeps_tensors = true;  // (the index: freed with the graph)
  int dim;
  Index index;
  Sizes in;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const {
    return gather_backward(g, in, dim, index);
  }
};
/// gather's adjoint (zeros with g's elements added at index).
template <class Index>
struct ScatterAdd {
  static constexpr bool keeps_tensors = true;  // (the index: freed with the graph)
  int dim;
  Index index;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const { return gather(g, dim, index); }
};
struct Tril {
  std::int64_t k;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const { return tril(g, k); }
};
/// clamp(x, lo, hi): the table's ClampMin and ClampMax (rules/select.hpp)
/// with constant bounds, both or one.
template <class S>
struct Clamp {
  S lo, hi;
  template <class X, class Y, class G> auto vjp(const X& x, const Y& y, const G& g) const {
    return ClampMax::vjp_a(x, hi, y, ClampMin::vjp_a(x, lo, y, g));
  }
};
template <class S>
struct ClampMinArg {
  S lo;
  template <class X, class Y, class G> auto vjp(const X& x, const Y& y, const G& g) const { return ClampMin::vjp_a(x, lo, y, g); }
};
template <class S>
struct ClampMaxArg {
  S hi;
  template <class X, class Y, class G> auto vjp(const X& x, const Y& y, const G& g) const { return ClampMax::vjp_a(x, hi, y, g); }
};
/// psi^(n)(x) for an order n known at run time (the static rows are
/// Polygamma<N>): the next order is its derivative, so create_graph goes on.
struct PolygammaOrder {
  int n;
  template <class X, class Y, class G> auto vjp(const X& x, const Y&, const G& g) const { return g * polygamma(n + 1, x); }
};
/// nll_loss's weights w (a constant of the graph: -1/count at [i, t_i]).
template <class W>
struct NllLoss {
  static constexpr bool keeps_tensors = true;  // (the target's weights: freed with the graph)
  W weights;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const { return weights * g; }
};
struct Cat {
  int dim;
  std::vector<std::int64_t> offsets, lengths;
  template <class G> auto vjp_at(const G& g, std::size_t i) const { return narrow(g, dim, offsets[i], lengths[i]); }
};
struct Stack {
  int dim;
  template <class G> auto vjp_at(const G& g, std::size_t i) const {
    return select(g, dim, static_cast<std::int64_t>(i));
  }
};

/// The arguments an op of METAGRAD_FOR_EACH_STRUCTURE takes besides its
/// input, by kind. The op lists of the tests and fuzzers draw valid ones of
/// that kind for a random input (tests/support/structure_rows.hpp); a new
/// kind needs a drawer there.
enum class Args {
  none,              // f(x)
  matrix,            // f(x) on a 2-d x
  matrix_offset,     // f(x, k) on a 2-d x, k a diagonal offset
  dim,               // f(x, d), d an existing dimension
  new_dim,           // f(x, d), d in [0, x.dim()]
  dim_pair,          // f(x, d0, d1)
  permutation,       // f(x, p)
  dim_position,      // f(x, d, i), 0 <= i < x.size(d)
  dim_start_length,  // f(x, d, start, length)
  dim_index,         // f(x, d, index), index 1-d with entries < x.size(d) (repeats allowed)
  dim_index_like,    // f(x, d, index), index of x's rank with index[..] < x.size(d)
  index_into,        // f(g, sizes, d, index): index_select's adjoint into a larger shape
  gather_into,       // f(g, sizes, d, index): gather's adjoint into a larger shape
  bounds,            // f(x, lo, hi)
  lower,             // f(x, lo)
  upper,             // f(x, hi)
  broadcast,         // f(x, s), x broadcastable to s
  reduced,           // f(x, s), s broadcastable to x
  same_numel,        // f(x, s), s with x's number of elements
  parts,             // f({x, ...}, d), parts of x's shape, d an existing dimension
  new_parts,         // f({x, ...}, d), d in [0, x.dim()]
  square,            // f(A), A square with positive determinant
  spd,               // f(A), A symmetric positive definite
  square_rhs,        // f(A, B), A square, B with A's rows
  batches,           // f(A, B), 3-d with matching batch and inner sizes
  vectors,           // f(a, b), 1-d
  targets,           // f(x, t), x 2-d scores, t int64 class indices
};

/// Every op with arguments, i.e. whose rule above (or view step) holds
/// them: M(function in namespace metagrad, node name, argument kind). The
/// list the table test (tests/rules/test_table_dynamic.cpp), the random
/// graphs and the fuzzer draw from, so a new row is gradchecked and fuzzed
/// with no other change. (The node name is the one a contiguous 2-d input
/// gives; a view of a view may be named by its last step.)
#define METAGRAD_FOR_EACH_STRUCTURE(M)                                                                        \
  M(expand, "ExpandBackward0", broadcast) M(sum_to_size, "SumToSizeBackward0", reduced)                        \
  M(clone, "CloneBackward0", none) M(reshape, "ViewBackward0", same_numel) M(flatten, "ViewBackward0", none)     \
  M(t, "TBackward0", matrix) M(permute, "PermuteBackward0", permutation)                                       \
  M(transpose, "TransposeBackward0", dim_pair) M(squeeze, "SqueezeBackward1", dim)                             \
  M(unsqueeze, "UnsqueezeBackward0", new_dim) M(select, "SelectBackward0", dim_position)                       \
  M(narrow, "SliceBackward0", dim_start_length) M(index_select, "IndexSelectBackward0", dim_index)             \
  M(gather, "GatherBackward0", dim_index_like) M(index_select_backward, "IndexAddBackward0", index_into)        \
  M(gather_backward, "ScatterAddBackward0", gather_into) M(tril, "TrilBackward0", matrix_offset)               \
  M(clamp, "ClampBackward1", bounds) M(clamp_min, "ClampMinBackward0", lower)                                  \
  M(clamp_max, "ClampMaxBackward0", upper) M(cat, "CatBackward0", parts) M(stack, "StackBackward0", new_parts) \
  M(inverse, "LinalgInvExBackward0", square) M(det, "LinalgDetBackward0", square)                              \
  M(logdet, "LogdetBackward0", square) M(linalg::cholesky, "LinalgCholeskyExBackward0", spd)                   \
  M(linalg::solve, "LinalgSolveExBackward0", square_rhs) M(bmm, "BmmBackward0", batches)                       \
  M(outer, "MulBackward0", vectors) M(nn::functional::nll_loss, "NllLossBackward0", targets)

/// What the VJP of rule R (with its arguments) reads: kA (x) and/or kY (y).
template <class R>
inline constexpr unsigned param_needs =
    decltype(std::declval<const R&>().vjp(probe::P<kA>{}, probe::P<kY>{}, probe::P<0>{}))::mask;

}  // namespace metagrad::rules
