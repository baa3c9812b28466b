// metagrad/dynamic/functional.hpp — what libtorch's C++ API lacks:
// autograd::functional::{jacobian, hessian, vjp, jvp} and gradcheck /
// gradgradcheck against central finite differences.
#pragma once
#include <cmath>
#include <functional>
#include <sstream>

#include "factories.hpp"

namespace metagrad::autograd {
namespace functional {

namespace detail {
// (prepare and jacobian_of are templates so that only a translation unit that
// calls jacobian, hessian, vjp or jvp instantiates the engine through them.)
template <class T>
BasicTensor<T> prepare(const BasicTensor<T>& x) { return x.detach().clone().requires_grad_(); }
inline Sizes concat(const Sizes& a, const Sizes& b) {
  Sizes r = a;
  for (auto v : b) r.push_back(v);
  return r;
}
/// Rows of d(out)/d(x), one backward per output element.
template <class T>
BasicTensor<T> jacobian_of(const BasicTensor<T>& out, const BasicTensor<T>& x, bool create_graph) {
  auto jac = zeros(concat(out.sizes(), x.sizes()));
  auto flat = jac.view({out.numel(), x.numel()});
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    auto e = zeros(out.sizes());
    e.data_ptr()[i] = 1;
    auto g = grad({out}, {x}, {e}, true, create_graph, true)[0];
    if (g.defined()) {
      NoGradGuard ng;
      flat[i].copy_(g.reshape({x.numel()}));
    }
  }
  return jac;
}
}  // namespace detail

/// d f(x) / d x, of shape f(x).sizes() ++ x.sizes().
template <class F>
Tensor jacobian(F&& f, const Tensor& x) {
  auto xr = detail::prepare(x);
  auto y = f(xr);
  if (!y.requires_grad()) return zeros(detail::concat(y.sizes(), x.sizes()));
  return detail::jacobian_of(y, xr, false);
}

/// d^2 f(x) / d x^2 for a scalar f, of shape x.sizes() ++ x.sizes().
template <class F>
Tensor hessian(F&& f, const Tensor& x) {
  auto xr = detail::prepare(x);
  auto y = f(xr);
  ::metagrad::detail::check(y.numel() == 1, "hessian: the function must return a single element, got shape ",
                            y.sizes());
  auto g = grad({y}, {xr}, {}, true, true, true)[0];
  if (!g.defined() || !g.requires_grad()) return zeros(detail::concat(x.sizes(), x.sizes()));
  return detail::jacobian_of(g, xr, false);
}

/// {f(x), v^T J}: one reverse pass.
template <class F>
std::pair<Tensor, Tensor> vjp(F&& f, const Tensor& x, const Tensor& v) {
  auto xr = detail::prepare(x);
  auto y = f(xr);
  auto g = y.requires_grad() ? grad({y}, {xr}, {v}, false, false, true)[0] : Tensor{};
  return {y.detach(), g.defined() ? g : zeros_like(x)};
}

/// {f(x), J v} by the double-backward trick: g(u) = J^T u is linear in u, so
/// d(g . v)/du = J v (two reverse passes, no forward mode needed).
template <class F>
std::pair<Tensor, Tensor> jvp(F&& f, const Tensor& x, const Tensor& v) {
  ::metagrad::detail::check(v.sizes() == x.sizes(), "jvp: v must have the shape of x: ", v.sizes(), " vs ",
                            x.sizes());
  auto xr = detail::prepare(x);
  auto y = f(xr);
  if (!y.requires_grad()) return {y.detach(), zeros_like(y)};
  auto u = zeros_like(y, requires_grad());
  auto gx = grad({y}, {xr}, {u}, true, true, true)[0];
  if (!gx.defined() || !gx.requires_grad()) return {y.detach(), zeros_like(y)};
  auto jv = grad({gx}, {u}, {v}, false, false, true)[0];
  return {y.detach(), jv.defined() ? jv : zeros_like(y)};
}

}  // namespace functional

/// Compares the analytic Jacobian of f (every output element, every input
/// that requires grad) with central finite differences. Returns true, or
/// throws an Error naming the input, the element and both values.
template <class F>
bool gradcheck(F&& f, const std::vector<Tensor>& inputs, double eps = 1e-6, double atol = 1e-5,
               double rtol = 1e-3) {
  std::vector<Tensor> xs;
  for (const auto& x : inputs) {
    auto c = x.detach().clone();
    if (x.requires_grad()) c.requires_grad_();
    xs.push_back(c);
  }
  auto out = f(xs);
  const auto n_out = out.numel();
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].requires_grad()) continue;
    auto analytic = zeros({n_out, xs[i].numel()});
    for (std::int64_t k = 0; k < n_out; ++k) {
      auto e = zeros(out.sizes());
      e.data_ptr()[k] = 1;
      auto g = out.requires_grad() ? grad({out}, {xs[i]}, {e}, true, false, true)[0] : Tensor{};
      if (g.defined()) {
        auto gc = g.contiguous();
        for (std::int64_t j = 0; j < xs[i].numel(); ++j) analytic.data_ptr()[k * xs[i].numel() + j] = gc.data_ptr()[j];
      }
    }
    double* data = xs[i].data_ptr();  // a private contiguous clone: perturbed directly
    for (std::int64_t j = 0; j < xs[i].numel(); ++j) {
      const double orig = data[j];
      data[j] = orig + eps;
      auto fp = f(xs).detach().clone();  // a copy: f may return (a view of) its input
      data[j] = orig - eps;
      auto fm = f(xs).detach().clone();
      data[j] = orig;
      for (std::int64_t k = 0; k < n_out; ++k) {
        const double num = (fp.data_ptr()[k] - fm.data_ptr()[k]) / (2 * eps);
        const double ana = analytic.data_ptr()[k * xs[i].numel() + j];
        if (!(std::abs(num - ana) <= atol + rtol * std::abs(num))) {
          std::ostringstream os;
          os << "gradcheck: Jacobian mismatch for output element " << k << " with respect to input " << i
             << " (shape " << xs[i].sizes() << "), element " << j << ": numerical " << num << ", analytical "
             << ana << ", difference " << std::abs(num - ana);
          throw Error(os.str());
        }
      }
    }
  }
  return true;
}

/// gradcheck of the first derivatives: checks the gradient of
/// sum_i <d f / d input_i, w_i> (fixed weights) against finite differences.
template <class F>
bool gradgradcheck(F&& f, const std::vector<Tensor>& inputs, double eps = 1e-6, double atol = 1e-5,
                   double rtol = 1e-3) {
  return gradcheck(
      [&](const std::vector<Tensor>& xs) {
        auto out = f(xs);
        std::vector<Tensor> req;
        for (const auto& x : xs)
          if (x.requires_grad()) req.push_back(x);
        auto w = ones(out.sizes());
        for (std::int64_t k = 0; k < w.numel(); ++k) w.data_ptr()[k] = 0.5 + 0.25 * static_cast<double>(k % 3);
        auto gs = grad({out}, req, {w}, true, true, true);
        Tensor total = zeros({});
        for (std::size_t i = 0; i < gs.size(); ++i)
          if (gs[i].defined()) total = total + (gs[i] * gs[i]).sum() * (1.0 + 0.5 * static_cast<double>(i));
        return total;
      },
      inputs, eps, atol, rtol);
}

}  // namespace metagrad::autograd
