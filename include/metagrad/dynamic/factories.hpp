// metagrad/dynamic/factories.hpp — creating tensors: tensor, ones, zeros,
// full, eye, arange, randn, rand, *_like, from_eigen, manual_seed.
#pragma once
#include <cmath>
#include <random>

#include "engine.hpp"

namespace metagrad {
namespace detail {
inline std::mt19937_64& generator() {
  static std::mt19937_64 g(0x6d6574616772ULL);
  return g;
}
template <class T>
BasicTensor<T> finish(std::shared_ptr<TensorImpl<T>> impl, TensorOptions o) {
  check_can_require_grad<T>(o.requires_grad_);
  impl->requires_grad = o.requires_grad_;
  return BasicTensor<T>(std::move(impl));
}
}  // namespace detail

/// Seeds the generator behind randn and rand (process-wide).
inline void manual_seed(std::uint64_t seed) { detail::generator().seed(seed); }

template <class T = double>
BasicTensor<T> full(const Sizes& s, std::type_identity_t<T> v, TensorOptions o = {}) {
  auto impl = new_impl<T>(s);
  kernels::map(*impl).setConstant(v);
  return detail::finish(std::move(impl), o);
}
template <class T = double>
BasicTensor<T> zeros(const Sizes& s, TensorOptions o = {}) { return full<T>(s, T(0), o); }
template <class T = double>
BasicTensor<T> ones(const Sizes& s, TensorOptions o = {}) { return full<T>(s, T(1), o); }
/// Sizes as a single integer (libtorch's `ones(5)`, `full(1, 2.0)`).
/// (Templates, so that `ones({})` stays a 0-d tensor.)
template <class T = double, class I> requires std::is_integral_v<I>
BasicTensor<T> full(I n, std::type_identity_t<T> v, TensorOptions o = {}) { return full<T>(Sizes{std::int64_t(n)}, v, o); }
template <class T = double, class I> requires std::is_integral_v<I>
BasicTensor<T> zeros(I n, TensorOptions o = {}) { return full<T>(Sizes{std::int64_t(n)}, T(0), o); }
template <class T = double, class I> requires std::is_integral_v<I>
BasicTensor<T> ones(I n, TensorOptions o = {}) { return full<T>(Sizes{std::int64_t(n)}, T(1), o); }
template <class T>
BasicTensor<T> zeros_like(const BasicTensor<T>& t, TensorOptions o = {}) { return zeros<T>(t.sizes(), o); }
template <class T>
BasicTensor<T> ones_like(const BasicTensor<T>& t, TensorOptions o = {}) { return ones<T>(t.sizes(), o); }

/// A 0-d tensor holding v (`tensor({v})` is the 1-d tensor [v]).
template <class T = double, class V>
  requires std::is_arithmetic_v<V>
BasicTensor<T> tensor(V v, TensorOptions o = {}) { return full<T>(Sizes{}, static_cast<T>(v), o); }

namespace detail {
/// The element type of `tensor({...})`: the one asked for, else (as in
/// libtorch) int64 for integers, bool for bools, double for the rest.
template <class T, class V>
using list_element_t = std::conditional_t<
    !std::is_void_v<T>, T,
    std::conditional_t<std::is_same_v<V, bool>, bool, std::conditional_t<std::is_integral_v<V>, std::int64_t, double>>>;
/// One number of a mixed braced list (`{1, 2.5}`).
struct Number {
  double v;
  template <class V> requires std::is_arithmetic_v<V>
  Number(V x) : v(static_cast<double>(x)) {}
};
}  // namespace detail

/// A 1-d tensor from a braced list: `tensor({1., 2.})` (double),
/// `tensor({2, 0, 2})` (int64, an index tensor), `tensor<float>({1.f})`.
template <class T = void, class V>
  requires std::is_arithmetic_v<V>
BasicTensor<detail::list_element_t<T, V>> tensor(std::initializer_list<V> v, TensorOptions o = {}) {
  using E = detail::list_element_t<T, V>;
  auto impl = new_impl<E>({static_cast<std::int64_t>(v.size())});
  std::transform(v.begin(), v.end(), impl->data(), [](V x) { return static_cast<E>(x); });
  return detail::finish(std::move(impl), o);
}
/// A 1-d tensor from a braced list of mixed numbers (`{1, 2.5}`): double
/// unless an element type is asked for.
template <class T = double>
BasicTensor<T> tensor(std::initializer_list<detail::Number> v, TensorOptions o = {}) {
  auto impl = new_impl<T>({static_cast<std::int64_t>(v.size())});
  std::transform(v.begin(), v.end(), impl->data(), [](detail::Number x) { return static_cast<T>(x.v); });
  return detail::finish(std::move(impl), o);
}
namespace detail {
template <class V> auto number_value(const V& x) { return x; }
inline double number_value(const Number& x) { return x.v; }
/// The 2-d tensor of a nested braced list (rows must have equal length).
template <class E, class V>
BasicTensor<E> tensor_rows(std::initializer_list<std::initializer_list<V>> rows, TensorOptions o) {
  const auto r = static_cast<std::int64_t>(rows.size());
  const auto c = r ? static_cast<std::int64_t>(rows.begin()->size()) : 0;
  auto impl = new_impl<E>({r, c});
  E* p = impl->data();
  for (const auto& row : rows) {
    check(static_cast<std::int64_t>(row.size()) == c, "expected sequence of length ", c,
          " at dim 1 (got ", row.size(), ")");
    for (const V& x : row) *p++ = static_cast<E>(number_value(x));
  }
  return finish(std::move(impl), o);
}
}  // namespace detail
/// A 2-d tensor from a nested braced list, typed as the 1-d one is:
/// `tensor({{0.5}, {2.}})` is a 2x1 double column, `tensor({{0, 0}, {2, 2}})`
/// an int64 index tensor (as libtorch's), `tensor<float>({{1, 2}})` float.
template <class T = void, class V>
  requires std::is_arithmetic_v<V>
BasicTensor<detail::list_element_t<T, V>> tensor(std::initializer_list<std::initializer_list<V>> rows,
                                                 TensorOptions o = {}) {
  return detail::tensor_rows<detail::list_element_t<T, V>>(rows, o);
}
/// A 2-d tensor from rows of mixed numbers (`{{1, 2.5}}`): double unless asked.
template <class T = double>
BasicTensor<T> tensor(std::initializer_list<std::initializer_list<detail::Number>> rows, TensorOptions o = {}) {
  return detail::tensor_rows<T>(rows, o);
}
template <class T = double>
BasicTensor<T> eye(std::int64_t n, TensorOptions o = {}) {
  auto t = zeros<T>({n, n});
  for (std::int64_t i = 0; i < n; ++i) t.data_ptr()[i * n + i] = T(1);
  detail::check_can_require_grad<T>(o.requires_grad_);
  t.impl().requires_grad = o.requires_grad_;
  return t;
}
template <class T = double>
BasicTensor<T> arange(std::int64_t n, TensorOptions o = {}) {
  auto impl = new_impl<T>({n});
  for (std::int64_t i = 0; i < n; ++i) impl->data()[i] = static_cast<T>(i);
  return detail::finish(std::move(impl), o);
}
/// start, start + step, ... up to end exclusive (`torch::arange(0., 1., 0.25)`):
/// ceil((end - start) / step) elements, element i = start + i * step.
template <class T = double>
BasicTensor<T> arange(double start, double end, double step = 1, TensorOptions o = {}) {
  detail::check(step != 0, "step must be nonzero");
  detail::check(std::isfinite(start) && std::isfinite(end), "unsupported range: ", start, " -> ", end);
  detail::check(step > 0 ? end >= start : end <= start, "upper bound and larger bound inconsistent with step sign");
  const auto n = static_cast<std::int64_t>(std::ceil((end - start) / step));
  auto impl = new_impl<T>({n});
  for (std::int64_t i = 0; i < n; ++i) impl->data()[i] = static_cast<T>(start + static_cast<double>(i) * step);
  return detail::finish(std::move(impl), o);
}
namespace detail {
template <class T, class Dist>
BasicTensor<T> sample(const Sizes& s, TensorOptions o, Dist d) {
  auto impl = new_impl<T>(s);
  for (std::int64_t i = 0; i < impl->numel; ++i) impl->data()[i] = d(generator());
  return finish(std::move(impl), o);
}
}  // namespace detail
/// Standard normal samples.
template <class T = double>
BasicTensor<T> randn(const Sizes& s, TensorOptions o = {}) {
  return detail::sample<T>(s, o, std::normal_distribution<T>(T(0), T(1)));
}
/// Uniform samples in [0, 1).
template <class T = double>
BasicTensor<T> rand(const Sizes& s, TensorOptions o = {}) {
  return detail::sample<T>(s, o, std::uniform_real_distribution<T>(T(0), T(1)));
}
template <class T = double, class I> requires std::is_integral_v<I>
BasicTensor<T> randn(I n, TensorOptions o = {}) { return randn<T>(Sizes{std::int64_t(n)}, o); }
template <class T = double, class I> requires std::is_integral_v<I>
BasicTensor<T> rand(I n, TensorOptions o = {}) { return rand<T>(Sizes{std::int64_t(n)}, o); }

/// `allclose(a, b)`: |a - b| <= atol + rtol |b| everywhere (broadcasting),
/// NaNs never close; `equal(a, b)`: same shape and the same elements.
template <class T>
bool allclose(const BasicTensor<T>& a, const BasicTensor<T>& b, double rtol = 1e-5, double atol = 1e-8) {
  NoGradGuard ng;
  const Sizes s = kernels::broadcast_shapes(a.sizes(), b.sizes());
  const auto ea = a.detach().expand(s).contiguous(), eb = b.detach().expand(s).contiguous();
  for (std::int64_t i = 0; i < ea.numel(); ++i) {
    const double x = static_cast<double>(ea.data_ptr()[i]), y = static_cast<double>(eb.data_ptr()[i]);
    if (!(x == y || std::abs(x - y) <= atol + rtol * std::abs(y))) return false;
  }
  return true;
}
template <class T>
bool equal(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  if (!(a.sizes() == b.sizes())) return false;
  const auto ca = a.contiguous(), cb = b.contiguous();
  return std::equal(ca.data_ptr(), ca.data_ptr() + ca.numel(), cb.data_ptr());
}
namespace autograd {
/// libtorch's make_variable: data (its elements, no history) as a leaf.
template <class T>
BasicTensor<T> make_variable(const BasicTensor<T>& data, bool requires_grad = false) {
  auto t = data.detach();
  t.requires_grad_(requires_grad);
  return t;
}
}  // namespace autograd

/// A tensor copied from an Eigen matrix or vector (a vector gives a 1-d tensor).
template <class Derived>
BasicTensor<typename Derived::Scalar> from_eigen(const Eigen::DenseBase<Derived>& m, TensorOptions o = {}) {
  using T = typename Derived::Scalar;
  const bool vec = Derived::ColsAtCompileTime == 1 || Derived::RowsAtCompileTime == 1;
  auto impl = vec ? new_impl<T>({static_cast<std::int64_t>(m.size())})
                  : new_impl<T>({static_cast<std::int64_t>(m.rows()), static_cast<std::int64_t>(m.cols())});
  kernels::OutMat<T>(impl->data(), vec ? m.size() : m.rows(), vec ? 1 : m.cols()) =
      vec ? Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>(m.derived().reshaped(m.size(), 1))
          : Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>(m.derived());
  return detail::finish(std::move(impl), o);
}

}  // namespace metagrad
