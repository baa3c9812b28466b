// examples/seed_cells.cpp — the five PyTorch autograd tutorials of shared/seeds/,
// cell by cell, in C++ (declared in seeds.hpp). Compiled once, as the library
// seed_cells, which the demo (seeds.cpp) and tests/examples/test_seeds.cpp link.
#include "seeds.hpp"

#include <metagrad/metagrad.hpp>

#include <cmath>
#include <memory>
#include <sstream>
#include <string>

namespace seeds {
namespace mg = metagrad;

namespace {
/// Python's print of a bool.
const char* py(bool b) { return b ? "True" : "False"; }

/// Python's print of grad_fn.next_functions.
std::string next_functions(const std::shared_ptr<mg::Node>& fn) {
  std::ostringstream os;
  os << '(';
  const auto nf = fn->next_functions();
  for (std::size_t i = 0; i < nf.size(); ++i) os << (i ? ", " : "") << '(' << nf[i].first << ", " << nf[i].second << ')';
  os << ')';
  return os.str();
}
}  // namespace

/// 000: the blitz autograd tutorial (requires_grad, grad_fn, backward, no_grad,
/// vector-Jacobian products with slice assignment, the Jacobian loop).
void seed000(std::ostream& out) {
  out << "# In[2]\n";
  mg::Tensor x = mg::ones({2, 2}, mg::requires_grad());
  out << x << "\n";
  out << "# In[3]\n";
  auto y = x + 2;
  out << y << "\n";
  out << "# In[4]\n" << y.grad_fn() << "\n";
  out << "# In[5]\n";
  auto z = y * y * 3;
  auto o = z.mean();
  out << z << "\n" << o << "\n";

  out << "# In[6]\n";
  auto a = mg::randn({2, 2});
  a = (a * 3) / (a - 1);
  out << py(a.requires_grad()) << "\n";
  a.requires_grad_(true);
  out << py(a.requires_grad()) << "\n";
  auto b = (a * a).sum();
  out << b.grad_fn() << "\n";

  out << "# In[155]\n";
  auto x3 = mg::randn({3}, mg::requires_grad());
  out << py(x3.requires_grad()) << "\n" << py(x3.pow(2).requires_grad()) << "\n";
  {
    mg::NoGradGuard no_grad;
    out << py(x3.pow(2).requires_grad()) << "\n";
  }

  out << "# In[7]\n";
  o.backward();
  out << "# In[8]\n" << x.grad() << "\n";
  try {
    o.backward();
  } catch (const std::exception& e) {
    out << "RuntimeError: " << e.what() << "\n";
  }
  out << y << "\n" << y.grad() << "\n" << z.grad() << "\n";

  out << "# In[75]\n";
  {
    auto x = mg::tensor({2., 3.}, mg::requires_grad());
    out << x << "\n";
    auto y = mg::zeros({2});
    out << y << "\n";
    y[0] = x[0].pow(2) + x[1] * 3;
    y[1] = x[0] * 2 + x[1].pow(2);
    out << y << "\n";
    auto v = mg::tensor({1., 1.});
    y.backward(v);
    out << x.grad() << "\n";
  }

  out << "# In[139] (modern PyTorch: a [2, 2] gradient for a [2] output is an error)\n";
  {
    auto x = mg::tensor({2., 3.}, mg::requires_grad());
    out << x << "\n";
    auto y = mg::zeros({2});
    y[0] = x[0].pow(2) + x[1] * 3;
    y[1] = x[0] * 2 + x[1].pow(2);
    out << y << "\n";
    auto v1 = mg::tensor({{1., 1.}, {1., 1.}});
    out << v1 << "\n";
    try {
      y.backward(v1, true);
    } catch (const std::exception& e) {
      out << "RuntimeError: " << e.what() << "\n";
    }
    out << x.grad() << "\n";
  }

  out << "# In[153]\n";
  auto xj = mg::tensor({2., 3.}, mg::requires_grad());
  out << xj << "\n";
  auto yj = mg::zeros({2});
  yj[0] = xj[0].pow(2) + xj[1] * 3;
  yj[1] = xj[0] * 2 + xj[1].pow(2);
  out << yj << "\n";
  const auto row = yj.sizes()[0], column = xj.sizes()[0];
  out << row << " " << column << "\n";
  auto jacobian = mg::zeros({row, column});
  auto zz = mg::zeros({column});
  out << "# In[154]\n";
  for (std::int64_t r = 0; r < row; ++r) {
    auto temp_v = zz.clone();
    temp_v[r] = 1.0;
    if (xj.grad().defined()) xj.mutable_grad().zero_();
    yj.backward(temp_v, true);
    out << xj.grad() << "\n";
    jacobian.index({r, mg::Slice()}) = xj.grad();
  }
  out << jacobian << "\n";
}

/// 001: scalar and matrix derivatives, gradients with weights, zeroing grads.
void seed001(std::ostream& out) {
  out << "# In[2]\n";
  auto x = mg::tensor(3.0, mg::requires_grad());
  auto y = mg::tensor(4.0, mg::requires_grad(false));
  auto z = mg::pow(x, 2) + mg::pow(y, 2);
  out << py(x.requires_grad()) << "\n" << py(y.requires_grad()) << "\n" << py(z.requires_grad()) << "\n";
  out << "# In[3]\n";
  z.backward();
  out << "(" << x.grad() << ", " << y.grad() << ")\n";

  out << "# In[6]\n";
  auto X = mg::tensor({1.5, 2., 3.}, mg::requires_grad(false));
  auto W = mg::tensor({0.1, 0.2, 0.3}, mg::requires_grad());
  auto b = mg::tensor(0.111, mg::requires_grad());
  auto Y = X * W + b;
  Y = Y.sum();
  out << Y << "\n";
  out << "# In[7]\n";
  Y.backward();
  out << "(" << W.grad() << ", " << b.grad() << ")\n";

  out << "# In[9]\n";
  {
    auto X = mg::tensor({{1., 2., 3.}, {4., 5., 6.}}, mg::requires_grad());
    auto Y = X + 1;
    auto Z = 2 * Y.pow(2);
    auto F = Z.mean();
    out << "# In[10]\n";
    out << py(X.requires_grad()) << " " << py(Y.requires_grad()) << " " << py(Z.requires_grad()) << " "
        << py(F.requires_grad()) << "\n";
    out << "# In[11]\n";
    F.backward();
    out << X.grad() << "\n";
  }

  out << "# In[20]\n";
  auto X2 = mg::tensor({{1., 2., 3.}, {4., 5., 6.}}, mg::requires_grad());
  auto Y2 = X2 + X2.pow(2);
  auto gradient = mg::tensor({{1., 1., 1.}, {1., 1., 1.}});
  Y2.backward(gradient, true);
  out << X2.mutable_grad().zero_() << "\n";
  out << "# In[21]\n";
  gradient = mg::tensor({{1., 100., 1.}, {1., 1., 1.}});
  Y2.backward(gradient);
  out << X2.grad() << "\n";
}

/// 002: the Variable-era tutorial in modern form (matmul gradients with fixed
/// inputs instead of randn, n[0][1] slice assignment, retain_graph, the exercise).
void seed002(std::ostream& out) {
  out << "# In[2]\n";
  auto x = mg::tensor({2.}, mg::requires_grad());
  auto y = x + 2;
  auto z = y.pow(2) + 3;
  out << z << "\n";
  out << "# In[3]\n";
  z.backward();
  out << x.grad() << "\n";

  out << "# In[4] (fixed inputs instead of randn)\n";
  auto xm = mg::zeros({10, 20}), ym = mg::zeros({10, 5}), wm = mg::zeros({20, 5});
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 20; ++j) xm.data_ptr()[i * 20 + j] = std::sin(i * 20 + j);
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 5; ++j) ym.data_ptr()[i * 5 + j] = std::cos(i * 5 + j);
  for (int i = 0; i < 20; ++i)
    for (int j = 0; j < 5; ++j) wm.data_ptr()[i * 5 + j] = 0.1 * std::sin(3 * i + j + 1);
  xm.requires_grad_();
  ym.requires_grad_();
  wm.requires_grad_();
  auto outm = mg::mean(ym - mg::matmul(xm, wm));
  outm.backward();
  out << "# In[5]\n" << xm.grad() << "\n";
  out << "# In[6]\n" << ym.grad() << "\n";
  out << "# In[7]\n" << wm.grad() << "\n";

  out << "# In[8]\n";
  auto m = mg::tensor({{2., 3.}}, mg::requires_grad());
  auto n = mg::zeros({1, 2});
  out << m << "\n" << n << "\n";
  out << "# In[9]\n";
  n[0][0] = m[0][0].pow(2);
  n[0][1] = m[0][1].pow(3);
  out << n << "\n";
  out << "# In[10]\n";
  n.backward(mg::ones_like(n));
  out << "# In[11]\n" << m.grad() << "\n";

  out << "# In[12]\n";
  auto x2 = mg::tensor({3.}, mg::requires_grad());
  auto y2 = x2 * 2 + x2.pow(2) + 3;
  out << y2 << "\n";
  out << "# In[13]\n";
  y2.backward({}, true);
  out << "# In[14]\n" << x2.grad() << "\n";
  out << "# In[15]\n";
  y2.backward();
  out << "# In[16]\n" << x2.grad() << "\n";

  out << "# In[6] (exercise)\n";
  auto xe = mg::tensor({2., 3.}, mg::requires_grad());
  auto k = mg::zeros({2});
  k[0] = xe[0].pow(2) + 3 * xe[1];
  k[1] = xe[1].pow(2) + 2 * xe[0];
  out << "# In[7]\n" << k << "\n";
  out << "# In[8]\n";
  auto j = mg::zeros({2, 2});
  k.backward(mg::tensor({1., 0.}), true);
  j[0] = xe.grad();
  xe.mutable_grad().zero_();
  k.backward(mg::tensor({0., 1.}));
  j[1] = xe.grad();
  out << "# In[9]\n" << j << "\n";
}

/// 003: leaves and non-leaves, the graph (grad_fn, next_functions).
void seed003(std::ostream& out) {
  out << "# In[2]\n";
  auto a = mg::ones({3, 4}, mg::requires_grad());
  out << a << "\n";
  out << "# In[3]\n";
  auto b = mg::zeros({3, 4});
  out << b << "\n";
  out << "# In[4]\n";
  auto c = a + b;
  out << c << "\n";
  out << "# In[5]\n";
  auto d = c.sum();
  d.backward();
  out << "# In[6]\n" << a.grad() << "\n";
  out << "# In[7]\n" << b.grad() << "\n";
  out << "# In[8]\n(" << py(a.requires_grad()) << ", " << py(b.requires_grad()) << ", " << py(c.requires_grad()) << ")\n";
  out << "# In[9]\n(" << py(a.is_leaf()) << ", " << py(b.is_leaf()) << ", " << py(c.is_leaf()) << ")\n";
  out << "# In[10]\n" << py(!c.grad().defined()) << "\n";

  out << "# In[11]\n";
  auto x = mg::ones({1});
  auto w = mg::ones({1}, mg::requires_grad());
  auto bb = mg::ones({1}, mg::requires_grad());
  auto y = w * x;
  auto z = y + bb;
  out << "# In[16]\n(" << py(x.requires_grad()) << ", " << py(bb.requires_grad()) << ", " << py(w.requires_grad()) << ")\n";
  out << "# In[17]\n" << py(y.requires_grad()) << "\n";
  out << "# In[18]\n(" << py(x.is_leaf()) << ", " << py(bb.is_leaf()) << ", " << py(w.is_leaf()) << ")\n";
  out << "# In[19]\n(" << py(z.is_leaf()) << ", " << py(y.is_leaf()) << ")\n";
  out << "# In[20]\n" << z.grad_fn() << "\n";
  out << "# In[21]\n" << y.grad_fn() << "\n";
  out << "# In[22]\n" << next_functions(z.grad_fn()) << "\n";
  out << "# In[23]\n" << next_functions(y.grad_fn()) << "\n";
  out << "# In[24]\n(" << w.grad_fn() << ", " << bb.grad_fn() << ")\n";
  z.backward({}, true);

  out << "# In[26]\n";
  auto x6 = mg::ones({3}, mg::requires_grad());
  auto w6 = mg::tensor({0.2658, 1.0191, 0.0557}, mg::requires_grad());
  auto y6 = w6 * x6;
  auto z6 = y6[0] + y6[1] + y6[2];  // Python's builtin sum(y)
  z6.backward();
  out << "# In[28]\n(" << x6.grad() << ", " << w6.grad() << ", " << y6.grad() << ")\n";
}

/// 004: the PyTorch basics tutorial (BCE-with-logits loss, no_grad, detach,
/// vector-Jacobian products on a 5x5 input) with fixed w, b instead of randn.
void seed004(std::ostream& out) {
  auto x = mg::ones({5});
  auto y = mg::zeros({3});
  auto w = mg::zeros({5, 3});
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j) w.data_ptr()[i * 3 + j] = 0.5 - 0.1 * (i * 3 + j);
  w.requires_grad_();
  auto b = mg::tensor({0.3, -0.2, 0.1}, mg::requires_grad());
  auto z = mg::matmul(x, w) + b;
  auto loss = mg::nn::functional::binary_cross_entropy_with_logits(z, y);
  out << loss << "\n";
  out << "Gradient function for z = " << z.grad_fn() << "\n";
  out << "Gradient function for loss = " << loss.grad_fn() << "\n";
  loss.backward();
  out << w.grad() << "\n" << b.grad() << "\n";

  z = mg::matmul(x, w) + b;
  out << py(z.requires_grad()) << "\n";
  {
    mg::NoGradGuard no_grad;
    z = mg::matmul(x, w) + b;
  }
  out << py(z.requires_grad()) << "\n";
  z = mg::matmul(x, w) + b;
  auto z_det = z.detach();
  out << py(z_det.requires_grad()) << "\n";

  auto inp = mg::eye(5, mg::requires_grad());
  auto o = (inp + 1).pow(2);
  o.backward(mg::ones_like(inp), true);
  out << "First call\n " << inp.grad() << "\n";
  o.backward(mg::ones_like(inp), true);
  out << "\nSecond call\n " << inp.grad() << "\n";
  inp.mutable_grad().zero_();
  o.backward(mg::ones_like(inp), true);
  out << "\nCall after zeroing gradients\n " << inp.grad() << "\n";
}

}  // namespace seeds
