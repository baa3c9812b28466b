// metagrad/detail/factorisation.hpp — the factorisation behind solve, inverse,
// det and logdet (static rules and dynamic ops alike), and the per-thread
// cache that lets one gradient factorise a matrix once:
//   A = L L^T (Cholesky) when A is symmetric positive definite, else
//   A = P^-1 L U (LU with partial pivoting);
//   A X = B by two triangular solves, A^T X = B from the same factors,
//   A^-1 = L^-T L^-1, det A = prod(diag L)^2 or ±prod(diag U).
#pragma once
#include <Eigen/Core>
#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

namespace metagrad {
namespace math {
/// Matrices up to this order take Factorisation's own Cholesky loops instead
/// of Eigen's LLT: Eigen's triangular solves go through its blocked matrix
/// kernels (packing, panels), which at 8 x 8 spend about 5,000 instructions
/// on an inverse of about 200 multiply-adds. (Measured on the multivariate
/// normal's gradient, g++ 12 -O3 -march=native: the loops are 0.63x Eigen's
/// time at k = 8, 0.89x at 32, 0.95x at 48, 1.3x at 64.)
inline constexpr Eigen::Index kSmallCholesky = 48;

/// The factorisation behind solve, inverse, det and logdet: Cholesky
/// (A = L L^T, ⅓ n³ flops) when A is symmetric and positive definite, as a
/// covariance matrix is; otherwise LU with partial pivoting (A = P^-1 L U,
/// ⅔ n³). Both give A's own solve, the solve with A^T, the inverse and the
/// determinant, agreeing to rounding. Symmetric means: for float and double,
/// A_ij and A_ji within 8 ulps of A's largest element (a product such as
/// B B^T is rarely symmetric to the bit); Cholesky then reads the lower
/// triangle, i.e. solves exactly with a matrix that close to A, the size of
/// LU's own backward error. For other scalars (duals) symmetric means to the
/// bit, tangents included. Up to kSmallCholesky rows the Cholesky factor,
/// its solves and the inverse are plain loops over L (below).
template <class M>
class Factorisation {
 public:
  using S = typename M::Scalar;
  void compute(const M& a) {
    n_ = a.rows();
    inverse_kept_ = false;
    kind_ = Kind::lu;
    if (symmetric(a)) {
      if (n_ <= kSmallCholesky) {
        if (small_cholesky(a)) kind_ = Kind::small;
      } else {
        llt_.compute(a);
        if (llt_.info() == Eigen::Success) kind_ = Kind::llt;
      }
    }
    if (kind_ == Kind::lu) lu_.compute(a);
  }
  /// The 0-based index of the first zero pivot, -1 for none (Cholesky has
  /// none: it succeeded only for a positive-definite A).
  Eigen::Index zero_pivot() const {
    if (kind_ != Kind::lu) return -1;
    const auto d = lu_.matrixLU().diagonal();
    for (Eigen::Index i = 0; i < d.size(); ++i)
      if (d[i] == S(0)) return i;
    return -1;
  }
  /// X with A X = B, of the plain type X: a Matrix by default, or the Array
  /// a caller returns (built in place, not copied). X is a vector when B is
  /// one at compile time: Eigen's triangular solves then take their vector
  /// path, not the blocked one.
  template <class X = void, class B> auto solve(const B& b) const {
    result_t<X, B::ColsAtCompileTime> x(b.rows(), b.cols());
    solve_into(x, b);
    return x;
  }
  /// The same X written into x (resized to B's shape; a buffer of that
  /// shape is reused). x must not share storage with b.
  template <class X, class B> void solve_into(X& x, const B& b) const {
    if (x.rows() != b.rows() || x.cols() != b.cols()) x.resize(b.rows(), b.cols());
    auto&& xm = x.matrix();  // (a wrapper of an Array, a reference to a Matrix)
    if (kind_ == Kind::lu) {
      xm = lu_.solve(b);
      return;
    }
    xm = b;
    if (kind_ == Kind::small) {
      for (Eigen::Index c = 0; c < x.cols(); ++c) small_solve(x.col(c).data());
    } else {
      llt_.solveInPlace(xm);
    }
  }
  /// X with A^T X = B (A's own factors: A^T = A for Cholesky; for LU,
  /// A^T X = B is U^T L^T P X = B, two triangular solves).
  template <class X = void, class B> auto solve_t(const B& b) const {
    result_t<X, B::ColsAtCompileTime> x(b.rows(), b.cols());
    solve_t_into(x, b);
    return x;
  }
  /// The same X written into x (as solve_into), in place: B, then the two
  /// triangular solves, then P^T (Eigen permutes in place when the source is
  /// the destination), with no temporary.
  template <class X, class B> void solve_t_into(X& x, const B& b) const {
    if (kind_ != Kind::lu) return solve_into(x, b);
    const auto& f = lu_.matrixLU();
    if (x.rows() != b.rows() || x.cols() != b.cols()) x.resize(b.rows(), b.cols());
    auto&& xm = x.matrix();
    xm = b;
    f.template triangularView<Eigen::Upper>().transpose().solveInPlace(xm);
    f.template triangularView<Eigen::UnitLower>().transpose().solveInPlace(xm);
    xm = lu_.permutationP().transpose() * xm;
  }
  /// A^-1, of the plain type X (a Matrix by default).
  template <class X = void> auto inverse() const {
    result_t<X, Eigen::Dynamic> r(n_, n_);
    inverse_into(r);
    return r;
  }
  /// A^-1 computed on first use and kept with the factors until the next
  /// compute: the backward formulas of logdet and det (g A^-T) read it with
  /// no n x n temporary, and a second reader does not invert again.
  const M& kept_inverse() const {
    if (!inverse_kept_) {
      inverse_into(inverse_);
      inverse_kept_ = true;
    }
    return inverse_;
  }
  S determinant() const {
    if (kind_ == Kind::lu) return lu_.determinant();
    S p = S(1);
    for (Eigen::Index i = 0; i < n_; ++i) p *= l_diag(i);
    return p * p;
  }
  /// (sign det A, log |det A|) from the factors' diagonals, with no
  /// overflow of det itself: (0, -inf) for a singular A (as PyTorch).
  std::pair<S, S> sign_log_abs_determinant() const {
    using std::log;
    using std::abs;
    S sum = S(0);
    if (kind_ != Kind::lu) {
      for (Eigen::Index i = 0; i < n_; ++i) sum += log(l_diag(i));
      return {S(1), S(2) * sum};
    }
    int sign = lu_.permutationP().determinant();
    const auto d = lu_.matrixLU().diagonal();
    for (Eigen::Index i = 0; i < n_; ++i) {
      if (d[i] == S(0)) return {S(0), S(-std::numeric_limits<double>::infinity())};
      if (d[i] < S(0)) sign = -sign;
      sum += log(abs(d[i]));
    }
    return {S(sign), sum};
  }
  /// log det A: -inf for a singular A, NaN for a negative determinant (as PyTorch).
  S log_determinant() const {
    const auto [sign, logabs] = sign_log_abs_determinant();
    return sign < S(0) ? S(std::numeric_limits<double>::quiet_NaN()) : logabs;
  }
  bool is_cholesky() const { return kind_ != Kind::lu; }

 private:
  enum class Kind : unsigned char { lu, llt, small };
  template <class X, int Cols>
  using result_t = std::conditional_t<std::is_void_v<X>, Eigen::Matrix<S, Eigen::Dynamic, Cols>, X>;
  static bool symmetric(const M& a) {
    if constexpr (std::is_floating_point_v<S>) {
      const S tol = S(8) * std::numeric_limits<S>::epsilon() * a.cwiseAbs().maxCoeff();
      for (Eigen::Index j = 0; j < a.cols(); ++j)
        for (Eigen::Index i = j + 1; i < a.rows(); ++i)
          if (!(std::abs(a(i, j) - a(j, i)) <= tol)) return false;  // (NaN: not symmetric)
    } else {
      for (Eigen::Index j = 0; j < a.cols(); ++j)
        for (Eigen::Index i = j + 1; i < a.rows(); ++i)
          if (std::memcmp(&a.coeffRef(i, j), &a.coeffRef(j, i), sizeof(S)) != 0) return false;
    }
    return true;
  }
  /// r <- A^-1 (resized to n x n; a buffer of that size is reused).
  template <class X> void inverse_into(X& r) const {
    if (r.rows() != n_ || r.cols() != n_) r.resize(n_, n_);
    if (kind_ == Kind::small) {
      small_inverse(r.data());
    } else if (kind_ == Kind::llt) {
      auto&& rm = r.matrix();
      rm.setIdentity();
      llt_.solveInPlace(rm);
    } else {
      r.matrix() = lu_.inverse();
    }
  }
  S l_diag(Eigen::Index i) const { return kind_ == Kind::small ? l_(i, i) : llt_.matrixLLT()(i, i); }

  /// L with A = L L^T from A's lower triangle, column by column:
  /// L_jj = sqrt(A_jj - sum_k<j L_jk^2), L_ij = (A_ij - sum_k<j L_ik L_jk) / L_jj.
  /// False at a pivot that is not positive (or NaN): A is not positive definite.
  /// (Raw column-major pointers: the inner loops run down a column.)
  bool small_cholesky(const M& a) {
    using std::sqrt;
    const Eigen::Index n = n_;
    l_.resize(n, n);
    dinv_.resize(n);
    S* l = l_.data();
    for (Eigen::Index j = 0; j < n; ++j) {
      S* lj = l + j * n;
      for (Eigen::Index i = j; i < n; ++i) lj[i] = a(i, j);
      for (Eigen::Index k = 0; k < j; ++k) {  // subtract column k's share
        const S* lk = l + k * n;
        const S ljk = lk[j];
        for (Eigen::Index i = j; i < n; ++i) lj[i] -= lk[i] * ljk;
      }
      const S d = lj[j];
      if (!(d > S(0))) return false;
      const S r = sqrt(d), ri = S(1) / r;
      lj[j] = r;
      dinv_[j] = ri;
      for (Eigen::Index i = j + 1; i < n; ++i) lj[i] *= ri;
    }
    return true;
  }
  /// x <- L^-1 x in place, by columns of L, when x's first `from` elements
  /// are zero (they stay zero: L^-1 is lower triangular).
  void small_forward(S* x, Eigen::Index from) const {
    const Eigen::Index n = n_;
    const S* l = l_.data();
    for (Eigen::Index k = from; k < n; ++k) {
      const S* lk = l + k * n;
      const S xk = x[k] * dinv_[k];
      x[k] = xk;
      for (Eigen::Index i = k + 1; i < n; ++i) x[i] -= lk[i] * xk;
    }
  }
  /// x <- A^-1 x in place: L y = x forward, then L^T x = y backward (by rows
  /// of L^T, i.e. columns of L).
  void small_solve(S* x) const {
    const Eigen::Index n = n_;
    const S* l = l_.data();
    small_forward(x, 0);
    for (Eigen::Index i = n - 1; i >= 0; --i) {
      const S* li = l + i * n;
      S s = x[i];
      for (Eigen::Index k = i + 1; k < n; ++k) s -= li[k] * x[k];
      x[i] = s * dinv_[i];
    }
  }
  /// r <- A^-1 = L^-T L^-1 (r: n x n, column-major). W = L^-1 (lower) by
  /// forward substitution on the unit columns, then in place, column by
  /// column from the left and down each column, (A^-1)_ij = sum_{k >= i}
  /// W_ki W_kj for i >= j, mirrored (exactly symmetric): W_ij is read last
  /// by (A^-1)_ij itself, column i (i > j) is still W, and the mirrored
  /// element lands in W's upper triangle, which is zero and never read.
  void small_inverse(S* r) const {
    const Eigen::Index n = n_;
    for (Eigen::Index j = 0; j < n; ++j) {
      S* wj = r + j * n;
      for (Eigen::Index i = 0; i < n; ++i) wj[i] = S(i == j ? 1 : 0);
      small_forward(wj, j);
    }
    for (Eigen::Index j = 0; j < n; ++j) {
      S* wj = r + j * n;
      for (Eigen::Index i = j; i < n; ++i) {
        const S* wi = r + i * n;
        S s = S(0);
        for (Eigen::Index k = i; k < n; ++k) s += wi[k] * wj[k];
        wj[i] = s;
        r[j + i * n] = s;
      }
    }
  }

  Eigen::Index n_ = 0;
  Kind kind_ = Kind::lu;
  M l_;  // the small path's L (lower triangle)
  Eigen::Matrix<S, Eigen::Dynamic, 1> dinv_;  // and 1 / L_jj (the solves multiply: no divide on their chains)
  Eigen::LLT<M> llt_;
  Eigen::PartialPivLU<M> lu_;
  mutable M inverse_;  // kept_inverse()'s A^-1, valid while inverse_kept_
  mutable bool inverse_kept_ = false;
};

/// A's factorisation, reused while the same matrix comes again: a
/// multivariate normal log-density factorises S in solve, in logdet and in
/// both of their backward formulas, so a gradient would factorise it five
/// times. The last factorisation is kept per thread and scalar type, keyed by
/// the matrix's exact bits (a changed element, or a dual tangent, misses);
/// matrices above kLuCacheMax rows are not kept (the copy would outweigh the
/// memory it holds). The reference is valid until the next call.
inline constexpr Eigen::Index kLuCacheMax = 1024;
template <class D>
const auto& cached_lu(const Eigen::ArrayBase<D>& a) {
  using S = typename D::Scalar;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  struct Cache {
    M key;
    Factorisation<M> fac;
    bool valid = false;
  };
  thread_local Cache c;
  static_assert(std::is_trivially_copyable_v<S>, "cached_lu compares matrices bit by bit");
  const auto& A = a.derived();
  auto same_as_key = [&](const S* p) {
    return std::memcmp(c.key.data(), p, sizeof(S) * static_cast<std::size_t>(A.size())) == 0;
  };
  if (c.valid && c.key.rows() == A.rows() && c.key.cols() == A.cols()) {
    bool hit;
    if constexpr (bool(int(D::Flags) & Eigen::DirectAccessBit) && !bool(int(D::Flags) & Eigen::RowMajorBit)) {
      if (A.innerStride() == 1 && A.outerStride() == A.rows()) hit = same_as_key(A.data());  // (no copy)
      else hit = same_as_key(M(A.matrix()).data());
    } else {
      hit = same_as_key(M(A.matrix()).data());
    }
    if (hit) return c.fac;
  }
  c.valid = false;
  if (A.rows() <= kLuCacheMax) {
    c.key = A.matrix();  // (into the kept key's buffer when the size is the same)
    c.fac.compute(c.key);
    c.valid = true;
  } else {
    c.key.resize(0, 0);
    c.fac.compute(M(A.matrix()));
  }
  return c.fac;
}
}  // namespace math
}  // namespace metagrad
