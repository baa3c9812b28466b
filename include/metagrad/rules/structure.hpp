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
//   sum, mean (along d):    dx = expand(g with d kept * scale, x.sizes())  SumBackward0/1, MeanBackward0/1
//   index_select(x, d, i):  dx = index_select_backward(g, x.sizes(), d, i) IndexSelectBackward0
//   its adjoint (index_add into zeros):  dsrc = index_select(g, d, i)   IndexAddBackward0
//   gather(x, d, i):        dx = gather_backward(g, x.sizes(), d, i)    GatherBackward0
//   its adjoint (scatter_add into zeros): dsrc = gather(g, d, i)        ScatterAddBackward0
//   tril(x, k):             dx = tril(g, k)                             TrilBackward0
//   clamp(x, lo, hi):       dx = g [lo <= x <= hi]                      ClampBackward1, ClampMin/MaxBackward0
//   nll_loss(logp, t):      dlogp = g w, w = -1/count at [i, t_i]       NllLossBackward0
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
  int dim;
  Index index;
  template <class X, class Y, class G> auto vjp(const X&, const Y&, const G& g) const { return index_select(g, dim, index); }
};
template <class Index>
struct Gather {
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
/// nll_loss's weights w (a constant of the graph: -1/count at [i, t_i]).
template <class W>
struct NllLoss {
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

/// What the VJP of rule R (with its arguments) reads: kA (x) and/or kY (y).
template <class R>
inline constexpr unsigned param_needs =
    decltype(std::declval<const R&>().vjp(probe::P<kA>{}, probe::P<kY>{}, probe::P<0>{}))::mask;

}  // namespace metagrad::rules
