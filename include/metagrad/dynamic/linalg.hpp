// metagrad/dynamic/linalg.hpp — linear algebra on 2-d tensors: mg::inverse,
// mg::det, mg::logdet, mg::linalg::solve (a vector or matrix right-hand
// side), mg::linalg::cholesky, mg::linalg::slogdet, mg::tril, mg::bmm
// (batched products). The backward formulas are rules (rules/linalg.hpp:
// Solve, Inverse, Det, LogDet, Cholesky, Bmm; rules/structure.hpp: Tril),
// evaluated with Tensor ops, so create_graph differentiates them again.
#pragma once
#include <Eigen/LU>

#include <tuple>

#include "factories.hpp"
#include "reductions.hpp"

namespace metagrad {
namespace detail {
template <class T>
using DynMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

template <class T>
void check_square(const char* op, const BasicTensor<T>& a) {
  if (a.dim() != 2 || a.size(0) != a.size(1))
    fail(op, ": A must be batches of square matrices, but they are ", (a.dim() == 2 ? a.size(0) : a.numel()), " by ",
         (a.dim() == 2 ? a.size(1) : 1), " matrices (got shape ", a.sizes(), ")");
}
/// The factorisation of a 2-d A: the static rules' (Cholesky or LU; a zero
/// pivot fails with PyTorch's phrase there). Valid until the next one.
template <class T>
const auto& lu_of(const char* op, const BasicTensor<T>& a) {
  check_square(op, a);
  return math::lu_of(op, DynMatrix<T>(kernels::mat(a.impl())).array());
}
template <class T, class M>
BasicTensor<T> from_matrix(const M& m, const Sizes& s) {
  BasicTensor<T> out(new_impl<T>(s));
  kernels::OutMat<T>(out.data_ptr(), m.rows(), m.cols()) = m;
  return out;
}

/// Records a unary linear-algebra rule (it saves what its formula reads).
template <class Rule, class T>
BasicTensor<T> record_linalg_unary(BasicTensor<T> out, const BasicTensor<T>& a) {
  record_rule(out, a, Rule::node_name, Rule{});
  return out;
}

}  // namespace detail

/// A 1-d tensor as an n x 1 column (a view: ViewBackward0 under a graph);
/// other tensors as they are. rules::Solve's formula treats vector and matrix
/// right-hand sides alike through it.
template <class T>
BasicTensor<T> as_column(const BasicTensor<T>& v) { return v.dim() == 1 ? v.reshape({v.numel(), 1}) : v; }
/// A^-1 (LinalgInvExBackward0).
template <class T>
BasicTensor<T> linalg_inv(const BasicTensor<T>& a) {
  const auto& fac = detail::lu_of("linalg.inv", a);
  return detail::record_linalg_unary<rules::Inverse>(detail::from_matrix<T>(fac.inverse(), a.sizes()), a);
}
/// X with A X = B, for B a vector or a matrix (LinalgSolveExBackward0).
template <class T>
BasicTensor<T> linalg_solve(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const auto& fac = detail::lu_of("linalg.solve", a);
  const std::int64_t rows = b.dim() == 1 ? b.numel() : (b.dim() == 2 ? b.size(0) : -1);
  if (rows != a.size(0))
    detail::fail("linalg.solve: Incompatible shapes of A and B for the equation AX = B (", a.sizes(), " and ", b.sizes(),
                 ")");
  const detail::DynMatrix<T> B = kernels::mat(b.impl());
  BasicTensor<T> out = detail::from_matrix<T>(fac.solve(B), b.sizes());
  record_pair_rule<rules::Solve>(out, a, b, rules::Solve::node_name);
  return out;
}
/// X with A^T X = B (solve's backward formula, recorded with create_graph).
template <class T>
BasicTensor<T> linalg_solve_t(const BasicTensor<T>& a, const BasicTensor<T>& b) { return linalg_solve(transpose(a), b); }
template <class T> BasicTensor<T> inverse(const BasicTensor<T>& a) { return linalg_inv(a); }
template <class T> BasicTensor<T> linalg_det(const BasicTensor<T>& a);
template <class T> BasicTensor<T> linalg_logdet(const BasicTensor<T>& a);
/// det(A) (LinalgDetBackward0: g det(A) A^-T; A must be invertible for it).
template <class T>
BasicTensor<T> linalg_det(const BasicTensor<T>& a) {
  detail::check_square("linalg.det", a);
  const T v = math::linalg_det(detail::DynMatrix<T>(kernels::mat(a.impl())).array());
  return detail::record_linalg_unary<rules::Det>(detail::scalar_tensor<T>(v), a);
}
/// log(det(A)): NaN for a negative determinant, -inf for a singular A (LogdetBackward0).
template <class T>
BasicTensor<T> linalg_logdet(const BasicTensor<T>& a) {
  detail::check_square("logdet", a);
  const T v = math::linalg_logdet(detail::DynMatrix<T>(kernels::mat(a.impl())).array());
  return detail::record_linalg_unary<rules::LogDet>(detail::scalar_tensor<T>(v), a);
}
template <class T> BasicTensor<T> det(const BasicTensor<T>& a) { return linalg_det(a); }
template <class T> BasicTensor<T> logdet(const BasicTensor<T>& a) { return linalg_logdet(a); }

/// The lower triangle of a matrix from diagonal k on (TrilBackward0: the
/// gradient's same triangle).
template <class T>
BasicTensor<T> tril(const BasicTensor<T>& x, std::int64_t k = 0) {
  detail::check(x.dim() == 2, "tril: input tensor must have at least 2 dimensions (got shape ", x.sizes(), ")");
  const auto c = x.contiguous();
  BasicTensor<T> out(new_impl<T>(x.sizes()));
  const std::int64_t r = x.size(0), n = x.size(1);
  for (std::int64_t i = 0; i < r; ++i)
    for (std::int64_t j = 0; j < n; ++j) out.data_ptr()[i * n + j] = j - i <= k ? c.data_ptr()[i * n + j] : T(0);
  record_rule(out, x, "TrilBackward0", rules::Tril{k});
  return out;
}
/// (tril(x) + tril(x, -1)^T) / 2, the family function rules::Cholesky uses.
template <class T>
BasicTensor<T> sym_lower(const BasicTensor<T>& x) { return (tril(x, 0) + tril(x, -1).t()) * T(0.5); }
/// The Cholesky factor L of a symmetric positive-definite A, A = L L^T
/// (LinalgCholeskyExBackward0; only A's lower triangle is read).
template <class T>
BasicTensor<T> linalg_cholesky(const BasicTensor<T>& a) {
  detail::check_square("linalg.cholesky", a);
  const detail::DynMatrix<T> A = kernels::mat(a.impl());
  return detail::record_linalg_unary<rules::Cholesky>(
      detail::from_matrix<T>(detail::DynMatrix<T>(math::linalg_cholesky(A.array()).matrix()), a.sizes()), a);
}

/// (sign(det A), log|det A|): the log-determinant without overflow, for any
/// invertible A (a singular A gives (0, -inf), as PyTorch).
template <class T>
std::tuple<BasicTensor<T>, BasicTensor<T>> linalg_slogdet(const BasicTensor<T>& a) {
  detail::check_square("linalg.slogdet", a);
  const auto [sign, logabs] =
      math::cached_lu(detail::DynMatrix<T>(kernels::mat(a.impl())).array()).sign_log_abs_determinant();
  auto s = detail::scalar_tensor<T>(sign), l = detail::scalar_tensor<T>(logabs);
  record_multi_output_rule<rules::Slogdet, T>({&s, &l}, a, rules::Slogdet::node_name, {});
  return {s, l};
}


namespace linalg {
template <class T> BasicTensor<T> solve(const BasicTensor<T>& a, const BasicTensor<T>& b) { return linalg_solve(a, b); }
template <class T> BasicTensor<T> inv(const BasicTensor<T>& a) { return linalg_inv(a); }
template <class T> BasicTensor<T> det(const BasicTensor<T>& a) { return linalg_det(a); }
template <class T> BasicTensor<T> cholesky(const BasicTensor<T>& a) { return linalg_cholesky(a); }
template <class T> std::tuple<BasicTensor<T>, BasicTensor<T>> slogdet(const BasicTensor<T>& a) { return linalg_slogdet(a); }
}  // namespace linalg

/// Batched matrix products: out[i] = a[i] b[i] for 3-d a (n x p x k), b (n x
/// k x q); BmmBackward0 is rules::Bmm (da = g b^T, db = a^T g per batch).
template <class T>
BasicTensor<T> bmm(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  detail::check(a.dim() == 3, "batch1 must be a 3D tensor");
  detail::check(b.dim() == 3, "batch2 must be a 3D tensor");
  if (b.size(0) != a.size(0) || b.size(1) != a.size(2))
    detail::fail("Expected size for first two dimensions of batch2 tensor to be: [", a.size(0), ", ", a.size(2),
                 "] but got: [", b.size(0), ", ", b.size(1), "].");
  const std::int64_t n = a.size(0), p = a.size(1), k = a.size(2), q = b.size(2);
  const auto ac = a.contiguous(), bc = b.contiguous();
  BasicTensor<T> out(new_impl<T>({n, p, q}));
  using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  for (std::int64_t i = 0; i < n; ++i) {
    Eigen::Map<RowMat> o(out.data_ptr() + i * p * q, p, q);
    o.noalias() = Eigen::Map<const RowMat>(ac.data_ptr() + i * p * k, p, k) *
                  Eigen::Map<const RowMat>(bc.data_ptr() + i * k * q, k, q);
  }
  record_pair_rule<rules::Bmm>(out, a, b, rules::Bmm::node_name);
  return out;
}
template <class T> BasicTensor<T> BasicTensor<T>::bmm(const BasicTensor& o) const { return metagrad::bmm(*this, o); }

}  // namespace metagrad
