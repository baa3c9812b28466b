// metagrad/rules/linalg.hpp — derivative rules of the non-elementwise static
// ops (reductions and products), written with generic `matmul`, `transpose`,
// `sum_all` and `expand_as` so that each value family supplies only those.
//   sum:       d/dx = 1 everywhere        -> expand the scalar gradient
//   mean:      d/dx = 1/n everywhere
//   prod:      d/dx_i = prod_{j != i} x_j  (= y / x_i when no x_j is 0)
//   transpose: the gradient transposed
//   matmul:    dA = G B^T,  dB = A^T G
//   dot:       da = g b,    db = g a
#pragma once
#include <Eigen/Core>
#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <tuple>
#include <array>
#include <utility>
#include <vector>

#include "../detail/config.hpp"
#include "../detail/factorisation.hpp"
#include "../detail/number.hpp"

namespace metagrad {
namespace math {
// A scalar is its own sum, mean, product and transpose (as PyTorch's 0-d
// tensors), so reductions of expressions that read no array are defined.
template <class T> requires ::metagrad::detail::is_number_v<T> constexpr T sum_all(T x) { return x; }
template <class T> requires ::metagrad::detail::is_number_v<T> constexpr T mean_all(T x) { return x; }
template <class T> requires ::metagrad::detail::is_number_v<T> constexpr T prod_all(T x) { return x; }
template <class T> requires ::metagrad::detail::is_number_v<T> constexpr T transpose(T x) { return x; }
template <class S, class T> requires ::metagrad::detail::is_number_v<T> constexpr auto expand_as(const S& g, T) { return g; }
template <class T, class Y, class G> requires ::metagrad::detail::is_number_v<T> constexpr auto prod_vjp(T, const Y&, const G& g) { return g; }
template <class D>
auto sum_all(const Eigen::ArrayBase<D>& x) { return x.derived().sum(); }
template <class D>
auto mean_all(const Eigen::ArrayBase<D>& x) { return x.derived().mean(); }
template <class D>
auto prod_all(const Eigen::ArrayBase<D>& x) { return x.derived().prod(); }
/// Writes g * d(prod x)/dx into out (x's shape): g y / x_i, or, when some
/// x_j is 0 (y = 0), the product of the others from prefix and suffix
/// products. (Into a destination, so that a gradient can be written in place.)
template <class Out, class D, class Y, class G>
void prod_vjp_into(Out& out, const Eigen::ArrayBase<D>& x, const Y& y, const G& g) {
  using S = typename D::Scalar;
  const auto& xd = x.derived();
  if (static_cast<S>(y) != S(0)) {
    out = (static_cast<S>(g) * static_cast<S>(y)) * xd.inverse();
  } else {  // column-major linear order
    const Eigen::Index n = xd.size(), r = xd.rows();
    S run = S(1);
    for (Eigen::Index i = 0; i < n; ++i) out(i % r, i / r) = run, run *= xd(i % r, i / r);
    run = static_cast<S>(g);
    for (Eigen::Index i = n - 1; i >= 0; --i) {
      out(i % r, i / r) *= run;
      run *= xd(i % r, i / r);
    }
  }
}
template <class D, class Y, class G>
auto prod_vjp(const Eigen::ArrayBase<D>& x, const Y& y, const G& g) {
  Eigen::Array<typename D::Scalar, D::RowsAtCompileTime, D::ColsAtCompileTime> out(x.rows(), x.cols());
  prod_vjp_into(out, x, y, g);
  return out;
}
/// The derivatives of prod without division (mg::d of prod to second order,
/// and a sweep through them): out_i = [s_1 ... s_M] prod_{k != i} (x_k +
/// s_1 t1_k + ... + s_M tM_k), the multilinear coefficient, from prefix and
/// suffix products of truncated polynomials in the s_m (2^M coefficients
/// each). M = 0: the product of the others; M = 1: sum_{j != i} t_j
/// prod_{k != i, j} x_k; M = 2: the next order. Exact with zeros in x.
/// Tangents may be arrays of x's shape or numbers (the same for every k).
template <class D, class... T>
auto others_coefficient(const Eigen::ArrayBase<D>& x, const T&... t) {
  using S = typename D::Scalar;
  constexpr int C = 1 << sizeof...(T);
  const auto xe = x.derived().eval();
  const auto te = std::make_tuple([](const auto& v) {
    if constexpr (::metagrad::detail::is_number_v<std::remove_cvref_t<decltype(v)>>) return S(v);
    else return v.derived().eval();
  }(t)...);
  const Eigen::Index n = xe.size(), r = xe.rows();
  auto factor = [&](std::array<S, C>& p, Eigen::Index k) {  // p *= x_k + sum_m s_m tm_k (in place, high subsets first)
    const S xk = xe(k % r, k / r);
    std::array<S, sizeof...(T) + 1> tk{};
    std::apply([&](const auto&... tv) {
      int m = 0;
      ((tk[m++] = [&] {
         if constexpr (::metagrad::detail::is_number_v<std::remove_cvref_t<decltype(tv)>>) return tv;
         else return S(tv(k % r, k / r));
       }()), ...);
    }, te);
    for (int set = C - 1; set >= 0; --set) {
      S v = p[set] * xk;
      for (int m = 0; m < int(sizeof...(T)); ++m)
        if (set & (1 << m)) v += p[set ^ (1 << m)] * tk[m];
      p[set] = v;
    }
  };
  std::vector<std::array<S, C>> pre(static_cast<std::size_t>(n));
  std::array<S, C> run{};
  run[0] = S(1);
  for (Eigen::Index k = 0; k < n; ++k) pre[k] = run, factor(run, k);
  Eigen::Array<S, D::RowsAtCompileTime, D::ColsAtCompileTime> out(xe.rows(), xe.cols());
  run = {};
  run[0] = S(1);
  for (Eigen::Index k = n - 1; k >= 0; --k) {
    S v = S(0);
    for (int set = 0; set < C; ++set) v += pre[k][set] * run[(C - 1) ^ set];
    out(k % r, k / r) = v;
    factor(run, k);
  }
  return out;
}
/// prod_others(x)_i = prod_{j != i} x_j, its directional derivative
/// prod_others_jvp(x, t) (M = 1 above) and that one's, prod_others_jvp2.
/// A number is the product of itself alone: the others' product is 1.
template <class D> auto prod_others(const Eigen::ArrayBase<D>& x) { return others_coefficient(x); }
template <class D, class T> auto prod_others_jvp(const Eigen::ArrayBase<D>& x, const T& t) { return others_coefficient(x, t); }
template <class D, class T, class G>
auto prod_others_jvp2(const Eigen::ArrayBase<D>& x, const T& t, const G& g) { return others_coefficient(x, t, g); }
template <class X> requires ::metagrad::detail::is_number_v<X> constexpr X prod_others(X) { return X(1); }
template <class X, class T> requires ::metagrad::detail::is_number_v<X> constexpr X prod_others_jvp(X, const T&) { return X(0); }
template <class X, class T, class G> requires ::metagrad::detail::is_number_v<X>
constexpr X prod_others_jvp2(X, const T&, const G&) { return X(0); }
template <class D>
auto transpose(const Eigen::ArrayBase<D>& x) { return x.derived().transpose(); }
/// The inner dimensions of a product agree (a sentence at compile time for
/// fixed sizes, mg::Error with both shapes at run time).
template <class A, class B>
void check_matmul(const Eigen::ArrayBase<A>& a, const Eigen::ArrayBase<B>& b) {
  static_assert(A::ColsAtCompileTime == Eigen::Dynamic || B::RowsAtCompileTime == Eigen::Dynamic ||
                    int(A::ColsAtCompileTime) == int(B::RowsAtCompileTime),
                "mg::matmul: the columns of the left matrix must equal the rows of the right matrix");
  if (a.cols() != b.rows())
    ::metagrad::detail::fail("mg::matmul: mat1 and mat2 shapes cannot be multiplied (", a.rows(), "x", a.cols(),
                             " and ", b.rows(), "x", b.cols(), ")");
}
template <class A, class B>
auto matmul(const Eigen::ArrayBase<A>& a, const Eigen::ArrayBase<B>& b) {
  check_matmul(a, b);
  return (a.derived().matrix() * b.derived().matrix()).array();
}
template <class T> struct is_array_wrapper : std::false_type {};
template <class M> struct is_array_wrapper<Eigen::ArrayWrapper<M>> : std::true_type {};
template <class T> struct is_transposed : std::false_type {};
template <class M> struct is_transposed<Eigen::Transpose<M>> : std::true_type {};
/// x as a plain matrix operand of a product: the bound matrix an array view
/// wraps, a Map of a plain array, or the transpose of either — the types a
/// hand-written Eigen product has, which Eigen multiplies without wrappers
/// in the way (small products inline, large ones straight into BLAS-like
/// kernels).
template <class X>
decltype(auto) matrix_view(const X& x) {
  if constexpr (is_array_wrapper<X>::value) return (x.nestedExpression());
  else if constexpr (is_transposed<X>::value) return matrix_view(x.nestedExpression()).transpose();
  else if constexpr (std::is_same_v<typename X::PlainObject, X> && std::is_base_of_v<Eigen::ArrayBase<X>, X>)
    return Eigen::Map<const Eigen::Matrix<typename X::Scalar, X::RowsAtCompileTime, X::ColsAtCompileTime>>(x.data(), x.rows(), x.cols());
  else return x.matrix();
}

/// f(o) with o the destination out as a Matrix: out itself, or a Map of
/// the storage of an Array (Eigen's products and solves take matrices).
template <class Out, class F>
void with_matrix(Out& out, F&& f) {
  if constexpr (std::is_base_of_v<Eigen::MatrixBase<Out>, Out>) {
    f(out);
  } else {
    using M = Eigen::Matrix<typename Out::Scalar, Out::RowsAtCompileTime, Out::ColsAtCompileTime>;
    f(Eigen::Map<M>(out.data(), out.rows(), out.cols()));
  }
}
/// out resized to rows x cols unless it has that shape (its buffer kept).
template <class Out>
void shape_like(Out& out, Eigen::Index rows, Eigen::Index cols) {
  if (out.rows() != rows || out.cols() != cols) out.resize(rows, cols);
}

/// out = a b (Add: out += a b) as one matrix product straight into out's
/// storage: no temporary (out is never an operand). out is resized to the
/// product's shape unless Add.
template <bool Add, class Out, class A, class B>
void matmul_into(Out& out, const Eigen::ArrayBase<A>& a, const Eigen::ArrayBase<B>& b) {
  check_matmul(a, b);
  if constexpr (!Add) shape_like(out, a.rows(), b.cols());
  auto product_into = [&](auto&& o) {
    if (a.cols() == 1 && a.rows() > 1 && b.cols() > 1) {
      // an outer product (solve's dA = -dB X^T): column times row, which
      // Eigen runs as one scaled column at a time; as a general product of
      // inner size 1 it went through GEMM's packing and blocking
      const auto u = matrix_view(a.derived()).col(0);
      const auto v = matrix_view(b.derived()).row(0);
      if constexpr (Add) o.noalias() += u * v;
      else o.noalias() = u * v;
    } else if constexpr (Add) {
      o.noalias() += matrix_view(a.derived()) * matrix_view(b.derived());
    } else {
      o.noalias() = matrix_view(a.derived()) * matrix_view(b.derived());
    }
  };
  with_matrix(out, product_into);
}
template <class D, class E>
auto dot(const Eigen::ArrayBase<D>& a, const Eigen::ArrayBase<E>& b) {
  if (a.size() != b.size())
    ::metagrad::detail::fail("mg::dot: 1D tensors expected with the same number of elements, but got ", a.size(), " and ",
                             b.size(), " elements");
  return (a.derived().matrix().reshaped().cwiseProduct(b.derived().matrix().reshaped())).sum();
}
/// Square-matrix checks and the factorisation behind solve, inverse and
/// det (detail/factorisation.hpp; a zero pivot is PyTorch's "singular" error).
template <class D>
void check_square(const char* op, const Eigen::ArrayBase<D>& a) {
  if (a.rows() != a.cols())
    ::metagrad::detail::fail(op, ": A must be batches of square matrices, but they are ", a.rows(), " by ", a.cols(),
                             " matrices");
}
template <class D>
const auto& lu_of(const char* op, const Eigen::ArrayBase<D>& a) {
  check_square(op, a);
  const auto& fac = cached_lu(a);
  if (const Eigen::Index i = fac.zero_pivot(); i >= 0) {
    if (std::string(op) == "linalg.inv")
      ::metagrad::detail::fail("linalg.inv: The diagonal element ", i + 1,
                               " is zero, the inversion could not be completed because the input matrix is singular.");
    ::metagrad::detail::fail(op, ": The solver failed because the input matrix is singular.");
  }
  return fac;
}
/// B has as many rows as the matrix (n x m) that the solve is with.
template <class DB>
void check_rhs(Eigen::Index n, Eigen::Index m, const Eigen::ArrayBase<DB>& b) {
  if (b.rows() != n)
    ::metagrad::detail::fail("linalg.solve: Incompatible shapes of A and B for the equation AX = B (", n, "x", m,
                             " and ", b.rows(), "x", b.cols(), ")");
}
/// X with A X = B (B of B's shape: a vector gives a vector).
template <class DA, class DB>
auto linalg_solve(const Eigen::ArrayBase<DA>& a, const Eigen::ArrayBase<DB>& b) {
  const auto& fac = lu_of("linalg.solve", a);
  check_rhs(a.rows(), a.cols(), b);
  using R = Eigen::Array<typename DA::Scalar, DA::RowsAtCompileTime, DB::ColsAtCompileTime>;
  return fac.template solve<R>(b.derived().matrix());
}
/// X with A^T X = B, from A's own (cached) factorisation (solve's backward).
template <class DA, class DB>
auto linalg_solve_t(const Eigen::ArrayBase<DA>& a, const Eigen::ArrayBase<DB>& b) {
  const auto& fac = lu_of("linalg.solve", a);
  check_rhs(a.cols(), a.rows(), b);
  using R = Eigen::Array<typename DA::Scalar, DA::ColsAtCompileTime, DB::ColsAtCompileTime>;
  return fac.template solve_t<R>(b.derived().matrix());
}
template <class D>
auto linalg_inv(const Eigen::ArrayBase<D>& a) {
  using R = Eigen::Array<typename D::Scalar, D::RowsAtCompileTime, D::ColsAtCompileTime>;
  return lu_of("linalg.inv", a).template inverse<R>();
}
/// out = A^-1 B (out's buffer reused: the static sweep's kept node value).
template <class Out, class DA, class DB>
void linalg_solve_into(Out& out, const Eigen::ArrayBase<DA>& a, const Eigen::ArrayBase<DB>& b) {
  const auto& fac = lu_of("linalg.solve", a);
  check_rhs(a.rows(), a.cols(), b);
  fac.solve_into(out, b.derived().matrix());
}
/// A^-T B in a buffer kept per thread and scalar type, valid until the next
/// call on this thread: solve's dB where it is added to a buffer that holds
/// other contributions already, with no allocation per gradient.
template <class DA, class DB>
const auto& linalg_solve_t_kept(const Eigen::ArrayBase<DA>& a, const Eigen::ArrayBase<DB>& b) {
  thread_local Eigen::Array<typename DA::Scalar, Eigen::Dynamic, DB::ColsAtCompileTime> r;
  const auto& fac = lu_of("linalg.solve", a);
  check_rhs(a.cols(), a.rows(), b);
  fac.solve_t_into(r, b.derived().matrix());
  return r;
}
/// out = s A^-T (Add: out += s A^-T) with A^-1 kept by A's cached
/// factorisation: the backward of logdet and det with no n x n temporary.
template <bool Add, class Out, class D, class T>
void scaled_inv_t_into(Out& out, const Eigen::ArrayBase<D>& a, const T& s) {
  const auto& inv = lu_of("linalg.inv", a).kept_inverse();
  if constexpr (!Add) shape_like(out, a.rows(), a.cols());
  const auto c = static_cast<typename D::Scalar>(s);
  with_matrix(out, [&](auto&& o) {
    if constexpr (Add) o += c * inv.transpose(); else o = c * inv.transpose();
  });
}
/// out = -u v^T (Add: out -= u v^T), solve's dA = -dB X^T: for vectors one
/// scaled column at a time, for matrices one product with factor -1; no
/// temporary either way.
template <bool Add, class Out, class U, class V>
void neg_outer_into(Out& out, const Eigen::ArrayBase<U>& u, const Eigen::ArrayBase<V>& v) {
  if constexpr (!Add) shape_like(out, u.rows(), v.rows());
  const auto& um = matrix_view(u.derived());
  const auto& vm = matrix_view(v.derived());
  with_matrix(out, [&](auto&& o) {
    if (u.cols() == 1 && v.cols() == 1) {
      for (Eigen::Index j = 0; j < o.cols(); ++j) {
        if constexpr (Add) o.col(j) -= um.col(0) * vm(j, 0); else o.col(j) = um.col(0) * -vm(j, 0);
      }
    } else if constexpr (Add) {
      o.noalias() -= um * vm.transpose();
    } else {
      o.noalias() = -um * vm.transpose();
    }
  });
}
/// out = -Y^T G Y^T (Add: out -= Y^T G Y^T), inverse's dA: G Y^T into a
/// buffer kept per thread, then one product with factor -1 into out.
template <bool Add, class Out, class DY, class DG>
void inverse_vjp_into(Out& out, const Eigen::ArrayBase<DY>& y, const Eigen::ArrayBase<DG>& g) {
  thread_local Eigen::Matrix<typename DY::Scalar, Eigen::Dynamic, Eigen::Dynamic> t;
  const auto& ym = matrix_view(y.derived());
  const auto& gm = matrix_view(g.derived());
  shape_like(t, g.rows(), y.rows());
  t.noalias() = gm * ym.transpose();
  if constexpr (!Add) shape_like(out, y.cols(), t.cols());
  with_matrix(out, [&](auto&& o) {
    if constexpr (Add) o.noalias() -= ym.transpose() * t; else o.noalias() = -ym.transpose() * t;
  });
}
template <class D>
auto linalg_det(const Eigen::ArrayBase<D>& a) {
  check_square("linalg.det", a);
  return cached_lu(a).determinant();
}
/// log det A: -inf for a singular A, NaN for a negative determinant.
template <class D>
auto linalg_logdet(const Eigen::ArrayBase<D>& a) {
  check_square("logdet", a);
  return cached_lu(a).log_determinant();
}
/// (sign det A, log |det A|), without overflow: (0, -inf) for a singular A.
template <class D>
auto linalg_slogdet(const Eigen::ArrayBase<D>& a) {
  check_square("linalg.slogdet", a);
  return cached_lu(a).sign_log_abs_determinant();
}
/// The Cholesky factor L (lower triangular, A = L L^T) of a symmetric
/// positive-definite A; only A's lower triangle is read (as PyTorch). A
/// non-positive pivot is PyTorch's error, naming the leading minor.
template <class D>
auto linalg_cholesky(const Eigen::ArrayBase<D>& a) {
  using std::sqrt;
  check_square("linalg.cholesky", a);
  using S = typename D::Scalar;
  using R = Eigen::Array<S, D::RowsAtCompileTime, D::ColsAtCompileTime>;
  const auto& A = a.derived();
  const Eigen::Index n = A.rows();
  R L = R::Zero(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    S d = A(j, j);
    for (Eigen::Index k = 0; k < j; ++k) d -= L(j, k) * L(j, k);
    if (!(d > S(0)))
      ::metagrad::detail::fail("linalg.cholesky: The factorization could not be completed because the input is not "
                               "positive-definite (the leading minor of order ", j + 1, " is not positive-definite).");
    L(j, j) = sqrt(d);
    for (Eigen::Index i = j + 1; i < n; ++i) {
      S s = A(i, j);
      for (Eigen::Index k = 0; k < j; ++k) s -= L(i, k) * L(j, k);
      L(i, j) = s / L(j, j);
    }
  }
  return L;
}
/// (tril(x) + tril(x, -1)^T) / 2: the symmetric matrix whose lower triangle
/// is half x's (Cholesky's backward).
template <class D>
auto sym_lower(const Eigen::ArrayBase<D>& x) {
  using S = typename D::Scalar;
  Eigen::Array<S, D::RowsAtCompileTime, D::ColsAtCompileTime> r(x.rows(), x.cols());
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < x.rows(); ++i) r(i, j) = x.derived()(std::max(i, j), std::min(i, j)) / S(2);
  return r;
}
/// A vector as a column: a static binding already is one (an n x 1 array).
template <class D>
const D& as_column(const Eigen::ArrayBase<D>& x) { return x.derived(); }
/// x evaluated when it is an Eigen expression (a rule's result must not
/// refer to its temporaries); other values as they are.
template <class X>
auto ev(X&& x) {
  using P = std::remove_cvref_t<X>;
  if constexpr (requires { typename P::PlainObject; }) return typename P::PlainObject(std::forward<X>(x));
  else return P(std::forward<X>(x));
}
/// The scalar g spread over x's shape.
template <class S, class D>
auto expand_as(const S& g, const Eigen::ArrayBase<D>& x) {
  using A = Eigen::Array<typename D::Scalar, D::RowsAtCompileTime, D::ColsAtCompileTime>;
  return A::Constant(x.rows(), x.cols(), static_cast<typename D::Scalar>(g));
}
}  // namespace math

namespace rules {
using namespace ::metagrad::math;
struct Sum {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "SumBackward0";
  static constexpr const char* symbol = "sum";
  template <class X> static constexpr auto f(const X& x) { return sum_all(x); }
  template <class X, class Y, class G> static constexpr auto vjp(const X& x, const Y&, const G& g) { return expand_as(g, x); }
};
struct Mean {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "MeanBackward0";
  static constexpr const char* symbol = "mean";
  template <class X> static constexpr auto f(const X& x) { return mean_all(x); }
  template <class X, class Y, class G> static constexpr auto vjp(const X& x, const Y&, const G& g) {
    if constexpr (::metagrad::detail::is_number_v<X>) return g;
    else return expand_as(g / static_cast<double>(x.size()), x);
  }
};
struct Prod {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "ProdBackward0";
  static constexpr const char* symbol = "prod";
  template <class X> static constexpr auto f(const X& x) { return prod_all(x); }
  template <class X, class Y, class G> static constexpr auto vjp(const X& x, const Y& y, const G& g) { return prod_vjp(x, y, g); }
  /// The same product written straight into a destination (static sweep).
  template <class Out, class X, class Y, class G> static void vjp_into(Out& out, const X& x, const Y& y, const G& g) {
    prod_vjp_into(out, x, y, g);
  }
  /// The same formula as the dynamic engine runs it, over every element or
  /// along a dimension: `d.prod_others(x, y)` is the product of the others
  /// (y / x_i without zeros, prefix and suffix products with them, and
  /// recorded multiplications under create_graph: exact in every order).
  template <class T> static T line(const T* in, std::int64_t n, std::int64_t s) {
    if (s == 1) return Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(in, n).prod();  // vectorised
    T p[4] = {1, 1, 1, 1};  // four independent chains of multiplications
    std::int64_t k = 0;
    for (; k + 4 <= n; k += 4)
      for (int j = 0; j < 4; ++j) p[j] *= in[(k + j) * s];
    for (; k < n; ++k) p[0] *= in[k * s];
    return (p[0] * p[1]) * (p[2] * p[3]);
  }
  /// out_k = prod_{j != k} in_j along one line (n elements, stride s), from
  /// prefix and suffix products: no division, exact with zeros. What every
  /// engine's `prod_others` runs on a line.
  template <class T> static void others_line(const T* in, T* out, std::int64_t n, std::int64_t s) {
    T run = 1;
    for (std::int64_t k = 0; k < n; ++k) out[k * s] = run, run *= in[k * s];
    run = 1;
    for (std::int64_t k = n - 1; k >= 0; --k) out[k * s] *= run, run *= in[k * s];
  }
  template <class X, class Y, class G, class D>
  static auto vjp_along(const X& x, const Y& y, const G& g, const D& d) { return d.back(g) * d.prod_others(x, y); }
};
/// The product of the others, prod_{j != i} x_j, as a static node (what
/// mg::d of prod is written with). Its Jacobian M_ij = prod_{k != i, j} x_k
/// is symmetric, so its vector-Jacobian and Jacobian-vector products are both
/// prod_others_jvp.
struct ProdOthers {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "ProdOthersBackward";
  static constexpr const char* symbol = "prod_others";
  template <class X> static constexpr auto f(const X& x) { return prod_others(x); }
  template <class X, class Y, class G> static constexpr auto vjp(const X& x, const Y&, const G& g) { return prod_others_jvp(x, g); }
};
/// prod_others_jvp(x, t)_i = sum_{j != i} t_j prod_{k != i, j} x_k: linear in
/// t with ProdOthers' symmetric Jacobian; in x its products (either way, the
/// three-index tensor being symmetric) are prod_others_jvp2.
struct ProdOthersJvp {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "ProdOthersJvpBackward";
  static constexpr const char* symbol = "prod_others_jvp";
  template <class X, class T> static constexpr auto f(const X& x, const T& t) { return prod_others_jvp(x, t); }
  template <class X, class T, class Y, class G>
  static constexpr auto vjp_a(const X& x, const T& t, const Y&, const G& g) { return prod_others_jvp2(x, t, g); }
  template <class X, class T, class Y, class G>
  static constexpr auto vjp_b(const X& x, const T&, const Y&, const G& g) { return prod_others_jvp(x, g); }
};
/// prod(x, d): the product along a dimension (ProdBackward1), Prod's formula.
struct ProdDim : Prod {
  static constexpr const char* node_name = "ProdBackward1";
};
struct Transpose {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "TBackward0";
  static constexpr const char* symbol = "transpose";
  template <class X> static constexpr auto f(const X& x) { return transpose(x); }
  template <class X, class Y, class G> static constexpr auto vjp(const X&, const Y&, const G& g) { return transpose(g); }
};
struct MatMul {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "MmBackward0";
  static constexpr const char* symbol = "matmul";
  template <class A, class B> static auto f(const A& a, const B& b) { return matmul(a, b); }
  template <class A, class B, class Y, class G>
  static auto vjp_a(const A&, const B& b, const Y&, const G& g) { return matmul(g, transpose(b)); }
  template <class A, class B, class Y, class G>
  static auto vjp_b(const A& a, const B&, const Y&, const G& g) { return matmul(transpose(a), g); }
  /// The same three products written into a destination (Add: added to it),
  /// so that the static sweep reuses its buffers and makes no temporary.
  static constexpr bool writes_into = true;
  template <class Out, class A, class B> static void f_into(Out& out, const A& a, const B& b) {
    matmul_into<false>(out, a, b);
  }
  template <bool Add, class Out, class A, class B, class Y, class G>
  static void vjp_a_into(Out& out, const A&, const B& b, const Y&, const G& g) {
    matmul_into<Add>(out, g, transpose(b));
  }
  template <bool Add, class Out, class A, class B, class Y, class G>
  static void vjp_b_into(Out& out, const A& a, const B&, const Y&, const G& g) {
    matmul_into<Add>(out, transpose(a), g);
  }
};
/// mv(M, v): dM = outer(g, v), dv = mv(M^T, g).
struct Mv {
  static constexpr const char* node_name = "MvBackward0";
  template <class A, class B, class Y, class G>
  static auto vjp_a(const A&, const B& b, const Y&, const G& g) { return outer(g, b); }
  template <class A, class B, class Y, class G>
  static auto vjp_b(const A& a, const B&, const Y&, const G& g) { return mv(transpose(a), g); }
};
/// v @ M for a vector v: dv = mv(M, g), dM = outer(v, g) (PyTorch records
/// unsqueeze, mm, squeeze; the node is named for the last).
struct Vm {
  static constexpr const char* node_name = "SqueezeBackward3";
  template <class A, class B, class Y, class G>
  static auto vjp_a(const A&, const B& b, const Y&, const G& g) { return mv(b, g); }
  template <class A, class B, class Y, class G>
  static auto vjp_b(const A& a, const B&, const Y&, const G& g) { return outer(a, g); }
};
/// bmm(a, b), a batch of products: da = bmm(g, b^T), db = bmm(a^T, g)
/// (^T: the last two dims swapped).
struct Bmm {
  static constexpr const char* node_name = "BmmBackward0";
  template <class A, class B, class Y, class G>
  static auto vjp_a(const A&, const B& b, const Y&, const G& g) { return bmm(g, transpose(b, 1, 2)); }
  template <class A, class B, class Y, class G>
  static auto vjp_b(const A& a, const B&, const Y&, const G& g) { return bmm(transpose(a, 1, 2), g); }
};
// Linear algebra (the value family supplies linalg_solve, linalg_solve_t,
// linalg_inv, transpose, matmul and as_column, a vector as an n x 1 matrix):
//   X = solve(A, B):  dB = solve(A^T, G),  dA = -dB X^T  (A^T solved with A's own
//                     factorisation: linalg_solve_t; B, X and G vectors or matrices)
//   Y = inverse(A):   dA = -Y^T G Y^T
//   y = det(A):       dA = g y A^-T
//   y = logdet(A):    dA = g A^-T
//   L = cholesky(A):  dA = L^-T S L^-1, S = sym_lower(L^T G) (PyTorch's formula; symmetric)
struct Solve {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "LinalgSolveExBackward0";
  static constexpr const char* symbol = "solve";
  static constexpr bool symbolic_d = false;
  template <class A, class B> static auto f(const A& a, const B& b) { return linalg_solve(a, b); }
  /// dB = A^-T G, from A's own factorisation.
  template <class A, class B, class Y, class G>
  static auto vjp_b(const A& a, const B&, const Y&, const G& g) { return ev(linalg_solve_t(a, g)); }
  /// dA = -dB X^T.
  template <class A, class B, class Y, class G>
  static auto vjp_a(const A& a, const B& b, const Y& y, const G& g) { return vjp_a_from_b(vjp_b(a, b, y, g), y); }
  /// Both with dB solved once (the engines call this when A and B both need
  /// a gradient, as PyTorch's linalg_solve backward does).
  template <class A, class B, class Y, class G>
  static auto vjp_ab(const A& a, const B& b, const Y& y, const G& g) {
    auto db = vjp_b(a, b, y, g);
    auto da = vjp_a_from_b(db, y);
    return std::pair{std::move(da), std::move(db)};
  }
  /// dA = -dB X^T from a dB already solved for.
  template <class DB, class Y>
  static auto vjp_a_from_b(const DB& db, const Y& y) { return ev(-matmul(as_column(db), transpose(as_column(y)))); }
  /// The same written into destinations (Add: added to them), for the
  /// static sweep's kept buffers: X into the node's value, dB = A^-T G into
  /// B's adjoint or gradient, dA = -dB X^T into A's with no n x n temporary.
  static constexpr bool writes_into = true;
  template <class Out, class A, class B> static void f_into(Out& out, const A& a, const B& b) {
    linalg_solve_into(out, a, b);
  }
  /// dB in a buffer kept per thread (valid until the next call).
  template <class A, class B, class Y, class G>
  static const auto& vjp_b_kept(const A& a, const B&, const Y&, const G& g) { return linalg_solve_t_kept(a, g); }
  template <bool Add, class Out, class A, class B, class Y, class G>
  static void vjp_a_into(Out& out, const A& a, const B& b, const Y& y, const G& g) {
    neg_outer_into<Add>(out, vjp_b_kept(a, b, y, g), y);
  }
  template <bool Add, class Out, class A, class B, class Y, class G>
  static void vjp_b_into(Out& out, const A& a, const B& b, const Y& y, const G& g) {
    if constexpr (Add) {
      with_matrix(out, [&](auto&& o) { o += vjp_b_kept(a, b, y, g).matrix(); });
    } else {
      lu_of("linalg.solve", a).solve_t_into(out, g.matrix());
    }
  }
  template <bool Add, class Out, class DB, class Y>
  static void vjp_a_from_b_into(Out& out, const DB& db, const Y& y) {
    neg_outer_into<Add>(out, db, y);
  }
};
struct Inverse {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "LinalgInvExBackward0";
  static constexpr const char* symbol = "inverse";
  static constexpr bool symbolic_d = false;
  template <class A> static auto f(const A& a) { return linalg_inv(a); }
  template <class A, class Y, class G>
  static auto vjp(const A&, const Y& y, const G& g) {
    const auto yt = ev(transpose(y));
    return ev(-ev(matmul(yt, ev(matmul(g, yt)))));
  }
  /// dA written into out (Add: added), G Y^T in a per-thread buffer.
  static constexpr bool writes_into = true;
  template <bool Add, class Out, class A, class Y, class G>
  static void vjp_a_into(Out& out, const A&, const Y& y, const G& g) { inverse_vjp_into<Add>(out, y, g); }
};
struct Det {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "LinalgDetBackward0";
  static constexpr const char* symbol = "det";
  static constexpr bool symbolic_d = false;
  template <class A> static auto f(const A& a) { return linalg_det(a); }
  template <class A, class Y, class G>
  static auto vjp(const A& a, const Y& y, const G& g) { return ev((g * y) * transpose(linalg_inv(a))); }
  /// dA written into out (Add: added), A^-1 read from A's factorisation.
  static constexpr bool writes_into = true;
  template <bool Add, class Out, class A, class Y, class G>
  static void vjp_a_into(Out& out, const A& a, const Y& y, const G& g) { scaled_inv_t_into<Add>(out, a, g * y); }
};
struct LogDet {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "LogdetBackward0";
  static constexpr const char* symbol = "logdet";
  static constexpr bool symbolic_d = false;
  template <class A> static auto f(const A& a) { return linalg_logdet(a); }
  template <class A, class Y, class G>
  static auto vjp(const A& a, const Y&, const G& g) { return ev(g * transpose(linalg_inv(a))); }
  /// dA written into out (Add: added), A^-1 read from A's factorisation.
  static constexpr bool writes_into = true;
  template <bool Add, class Out, class A, class Y, class G>
  static void vjp_a_into(Out& out, const A& a, const Y&, const G& g) { scaled_inv_t_into<Add>(out, a, g); }
};
/// slogdet(A) = (sign det A, log|det A|), two outputs: the sign is
/// piecewise constant, so only log|det A| (output 1) has a gradient,
/// dA = g A^-T as for logdet (LinalgSlogdetBackward0).
struct Slogdet {
  static constexpr const char* node_name = "LinalgSlogdetBackward0";
  static constexpr int outputs = 2;
  static constexpr int grad_output = 1;
  template <class A, class Y, class G> static auto vjp(const A& a, const Y& y, const G& g) { return LogDet::vjp(a, y, g); }
};
/// slogdet's outputs one at a time, as static mode has them (each its own
/// expression): sign det A, through which no gradient flows, and log |det A|
/// with Slogdet's dA = g A^-T.
struct SlogdetSign {
  static constexpr bool elementwise = false, differentiable = false;
  static constexpr const char* node_name = Slogdet::node_name;
  static constexpr const char* symbol = "sign_det";
  static constexpr bool symbolic_d = false;
  template <class A> static auto f(const A& a) { return linalg_slogdet(a).first; }
  template <class A, class Y, class G> static auto vjp(const A& a, const Y&, const G&) { return ev(a * typename A::Scalar(0)); }
};
struct SlogdetLogAbs {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = Slogdet::node_name;
  static constexpr const char* symbol = "logabsdet";
  static constexpr bool symbolic_d = false;
  template <class A> static auto f(const A& a) { return linalg_slogdet(a).second; }
  template <class A, class Y, class G> static auto vjp(const A& a, const Y& y, const G& g) { return Slogdet::vjp(a, y, g); }
};
struct Cholesky {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "LinalgCholeskyExBackward0";
  static constexpr const char* symbol = "cholesky";
  static constexpr bool symbolic_d = false;
  template <class A> static auto f(const A& a) { return linalg_cholesky(a); }
  template <class A, class Y, class G>
  static auto vjp(const A&, const Y& y, const G& g) {
    const auto li = ev(linalg_inv(y));
    const auto s = ev(sym_lower(ev(matmul(ev(transpose(y)), g))));
    return ev(matmul(ev(transpose(li)), ev(matmul(s, li))));
  }
};
struct Dot {
  static constexpr bool elementwise = false;
  static constexpr const char* node_name = "DotBackward0";
  static constexpr const char* symbol = "dot";
  template <class A, class B> static auto f(const A& a, const B& b) { return dot(a, b); }
  template <class A, class B, class Y, class G>
  static auto vjp_a(const A&, const B& b, const Y&, const G& g) { return g * b; }
  template <class A, class B, class Y, class G>
  static auto vjp_b(const A& a, const B&, const Y&, const G& g) { return g * a; }
};
}  // namespace rules
}  // namespace metagrad
