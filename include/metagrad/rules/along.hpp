// metagrad/rules/along.hpp — a reduction or scan of the table along one
// dimension of an Eigen value, as static mode uses it: `mg::logsumexp(x, 1)`
// is Binary<rules::AlongDim<rules::LogSumExp>, X, Const>, the dimension being
// the second operand (a run-time integer, PyTorch's numbering: -1 is the last).
// Nothing is derived here: the value of each line is the rule's own `line` /
// `map_line` and the gradient its own `vjp_along(x, y, g, d)`, the formula the
// dynamic engine runs, with `d` this file's view of the dimension of an Eigen
// array (EigenAlong) instead of a tensor's.
//   Shapes, as PyTorch's: a matrix (2-d) reduced along a dimension is a vector
//   (1-d) of the other dimension's length; a vector reduced is a number; a
//   number is its own reduction. softmax, log_softmax and cumsum keep the shape.
//   keepdim does not exist here (static Eigen values do not broadcast).
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "../detail/config.hpp"
#include "../detail/number.hpp"
#include "linalg.hpp"
#include "reductions.hpp"

namespace metagrad {
namespace rules {

/// sum and mean along a dimension in static mode (dynamic mode's `sum(d)`
/// and `mean(d)` are one kernel summing to a shape, rules::SumMean):
///   y = sum_k x_k,  dx = g;    y = (1/n) sum_k x_k,  dx = g / n.
struct SumDim {
  static constexpr const char* node_name = "SumBackward1";
  static constexpr const char* symbol = "sum";
  template <class T> static T line(const T* in, std::int64_t n, std::int64_t s) {
    T acc = 0;
    for (std::int64_t k = 0; k < n; ++k) acc += in[k * s];
    return acc;
  }
  template <class X, class Y, class G, class D>
  static auto vjp_along(const X&, const Y&, const G& g, const D& d) { return d.back(g); }
};
struct MeanDim {
  static constexpr const char* node_name = "MeanBackward1";
  static constexpr const char* symbol = "mean";
  template <class T> static T line(const T* in, std::int64_t n, std::int64_t s) {
    return SumDim::line(in, n, s) / static_cast<T>(n);
  }
  template <class X, class Y, class G, class D>
  static auto vjp_along(const X&, const Y&, const G& g, const D& d) { return d.back(g) / d.count(); }
};

namespace detail_along {
template <class R>
inline constexpr bool reduces = requires(const double* p) { R::line(p, 1, 1); };

/// A value held by an Eigen expression (a nullary expression owning it): what
/// EigenAlong returns, so that a rule's formula may nest it in other
/// expressions and return them (Eigen keeps plain operands by reference).
template <class S>
struct Held {
  std::shared_ptr<const Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>> v;
  int mode = 0;  // 0: v itself; 1: v(j) down every column; 2: v(i) along every row
  S operator()(Eigen::Index i, Eigen::Index j) const { return mode == 0 ? (*v)(i, j) : v->data()[mode == 1 ? j : i]; }
};
}  // namespace detail_along

/// The view of one dimension of a rows x cols Eigen array (or a vector, whose
/// one dimension is its column, or a number) that rules' `vjp_along` is
/// written with; the dynamic engine's is dynamic::Along.
template <class S>
struct EigenAlong {
  using Plain = Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>;
  Eigen::Index rows = 1, cols = 1;  // (a number is read as a 1 x 1 array)
  int dim = 0;                      // 0: down each column (PyTorch's dim 0), 1: along each row

  Eigen::Index lines() const { return dim == 0 ? cols : rows; }
  Eigen::Index length() const { return dim == 0 ? rows : cols; }
  S count() const { return static_cast<S>(length()); }

  auto hold(Plain p, int mode = 0) const {
    return Plain::NullaryExpr(rows, cols, detail_along::Held<S>{std::make_shared<const Plain>(std::move(p)), mode});
  }
  /// A reduced value (a number, or one per line) put back along the dimension.
  template <class T> auto back(const T& t) const {
    if constexpr (::metagrad::detail::is_number_v<T>) {
      return hold(Plain::Constant(rows, cols, static_cast<S>(t)));
    } else {
      return hold(Plain(t.matrix().reshaped()), dim == 0 ? 1 : 2);
    }
  }
  /// Calls f(first element, stride) for every line.
  template <class F> void each_line(F&& f) const {
    for (Eigen::Index l = 0; l < lines(); ++l) f(dim == 0 ? l * rows : l, dim == 0 ? 1 : rows);
  }
  /// t summed along the dimension, kept there (broadcast back).
  template <class T> auto sum(const T& t) const {
    if constexpr (::metagrad::detail::is_number_v<T>) return t;
    else {
      const Plain v = t;
      Plain r(rows, cols);
      each_line([&](Eigen::Index b, Eigen::Index s) {
        const S total = SumDim::line(v.data() + b, length(), s);
        for (Eigen::Index k = 0; k < length(); ++k) r.data()[b + k * s] = total;
      });
      return hold(std::move(r));
    }
  }
  template <class T> auto mean(const T& t) const {
    if constexpr (::metagrad::detail::is_number_v<T>) return t;
    else return sum(t) / count();
  }
  template <class T> auto cumsum(const T& t) const {
    if constexpr (::metagrad::detail::is_number_v<T>) return t;
    else {
      const Plain v = t;
      Plain r(rows, cols);
      each_line([&](Eigen::Index b, Eigen::Index s) { Cumsum::map_line(v.data() + b, r.data() + b, length(), s); });
      return hold(std::move(r));
    }
  }
  /// prod_{j != i} x_j along each line, from prefix and suffix products (no
  /// division: exact with zeros).
  template <class X, class Y> auto prod_others(const X& x, const Y&) const {
    if constexpr (::metagrad::detail::is_number_v<X>) return X(1);
    else {
      const Plain v = x;
      Plain r(rows, cols);
      each_line([&](Eigen::Index b, Eigen::Index s) { Prod::others_line(v.data() + b, r.data() + b, length(), s); });
      return hold(std::move(r));
    }
  }
};

/// Rule R (a row of METAGRAD_FOR_EACH_ALONG, or SumDim / MeanDim) along the
/// dimension given by the second operand. Its derivative is R's vjp_along.
template <class R>
struct AlongDim {
  static constexpr bool elementwise = false, along_dim = true;
  static constexpr const char* node_name = R::node_name;
  static constexpr const char* symbol = R::symbol;

  /// The dimension b (PyTorch's range check and phrase) as 0 (down the
  /// columns) or 1 (along the rows) of an A.
  template <class A, class B>
  static int wrap(const B& b) {
    const double r = static_cast<double>(::metagrad::detail::real_part(b));
    const int ndim = [] {
      if constexpr (::metagrad::detail::is_number_v<A>) return 0; else return A::ColsAtCompileTime == 1 ? 1 : 2;
    }();
    const int lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
    const int d = static_cast<int>(r);
    if (static_cast<double>(d) != r || d < lo || d > hi)
      ::metagrad::detail::fail("Dimension out of range (expected to be in range of [", lo, ", ", hi, "], but got ", r,
                               ") (", R::symbol, ")");
    return d < 0 ? d + (ndim == 0 ? 1 : ndim) : d;
  }
  template <class S, class A, class B>
  static EigenAlong<S> view(const A& a, const B& b) {
    EigenAlong<S> d;
    d.dim = wrap<A>(b);
    if constexpr (!::metagrad::detail::is_number_v<A>) d.rows = a.rows(), d.cols = a.cols();
    return d;
  }

  /// A value as a rows x cols array (a number as 1 x 1): a plain value read in
  /// place (Eigen::Ref), an expression or a strided one evaluated.
  template <class S> using Read = Eigen::Ref<const Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>>;
  template <class S, class V>
  static auto as_plain(const V& v) {
    if constexpr (::metagrad::detail::is_number_v<V>) return Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>::Constant(1, 1, v).eval();
    else return Read<S>(v);
  }

  template <class A, class B>
  static auto f(const A& a, const B& b) {
    if constexpr (::metagrad::detail::is_number_v<A>) {
      (void)wrap<A>(b);
      if constexpr (detail_along::reduces<R>) return A(R::line(&a, 1, 1));
      else {
        A out = a;
        R::map_line(&a, &out, 1, 1);
        return out;
      }
    } else {
      using S = typename A::Scalar;
      const auto d = view<S>(a, b);
      if constexpr (std::is_base_of_v<Max, R>)  // (the others have a value for an empty line: -inf, 0, 1, ...)
        if (d.length() == 0)
          ::metagrad::detail::fail(R::symbol, "(): Expected reduction dim ", static_cast<int>(::metagrad::detail::real_part(b)),
                                   " to have non-zero size.");
      const Read<S> x(a);  // in place when a is a plain value; a strided one (a block) is copied
      Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic> copy;
      if (x.outerStride() != x.rows()) copy = x;
      const S* in = copy.size() ? copy.data() : x.data();
      if constexpr (detail_along::reduces<R>) {
        Eigen::Array<S, Eigen::Dynamic, 1> y(d.lines());
        Eigen::Index l = 0;
        d.each_line([&](Eigen::Index first, Eigen::Index s) { y(l++) = R::line(in + first, d.length(), s); });
        if constexpr (A::ColsAtCompileTime == 1) return S(y(0));  // a vector reduces to a number
        else return y;
      } else {
        typename A::PlainObject y(x.rows(), x.cols());
        d.each_line([&](Eigen::Index first, Eigen::Index s) { R::map_line(in + first, y.data() + first, d.length(), s); });
        return y;
      }
    }
  }
  template <class A, class B, class Y, class G>
  static auto vjp_a(const A& a, const B& b, const Y& y, const G& g) {
    using S = ::metagrad::detail::element_type_t<A>;
    using Plain = Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>;
    const auto d = view<S>(a, b);
    const auto x = as_plain<S>(a);
    const auto dx = [&] {
      if constexpr (detail_along::reduces<R>) return Plain(R::vjp_along(x, y, g, d));
      else return Plain(R::vjp_along(x, as_plain<S>(y), as_plain<S>(g), d));  // y, g: x's shape
    }();
    if constexpr (::metagrad::detail::is_number_v<A>) return S(dx(0, 0));
    else return typename A::PlainObject(dx);
  }
  template <class A, class B, class Y, class G>
  static auto vjp_b(const A&, const B& b, const Y&, const G&) { return b * B(0); }
};

}  // namespace rules
}  // namespace metagrad
