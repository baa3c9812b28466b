// bench/peer_torch.cpp — the workloads of workloads.hpp in libtorch 1.13
// (Debian's libtorch-dev), double precision, one thread. Names:
// workload/torch/n.
#include <torch/torch.h>

#include "workloads.hpp"

using wl::Mat;
using wl::Result;
using wl::Vec;

namespace {
auto opts() { return torch::TensorOptions().dtype(torch::kFloat64); }

torch::Tensor to_torch(const Mat& m, bool grad = false) {
  // Eigen is column-major: read it as the transpose, then transpose back.
  auto t = torch::from_blob(const_cast<double*>(m.data()), {m.cols(), m.rows()}, opts()).t().contiguous().clone();
  return t.set_requires_grad(grad);
}
torch::Tensor to_torch(const Vec& v, bool grad = false) {
  auto t = torch::from_blob(const_cast<double*>(v.data()), {v.size()}, opts()).clone();
  return t.set_requires_grad(grad);
}
torch::Tensor scalar(double v, bool grad) { return torch::tensor(v, opts()).set_requires_grad(grad); }

void append(Result& r, const torch::Tensor& t) {
  auto c = t.contiguous();
  if (c.dim() <= 1) {
    wl::append(r, c.data_ptr<double>(), c.numel());
  } else {
    Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> m(c.data_ptr<double>(), c.size(0), c.size(1));
    wl::append(r, Mat(m));
  }
}

template <class F>
void reg(const std::string& name, long n, F f) {
  benchmark::RegisterBenchmark((name + "/torch/" + std::to_string(n)).c_str(), [=](benchmark::State& st) { f(st, n); });
}

/// Runs f() (a scalar), checks it once, then times f + backward with the
/// leaves' gradients reset to undefined each time (as metagrad's suite does).
template <class F>
void time_backward(benchmark::State& st, const std::string& w, long n, std::vector<torch::Tensor> leaves, F f,
                   double tol = 1e-9) {
  {
    auto y = f();
    y.backward();
    Result r{y.template item<double>(), {}};
    for (auto& l : leaves) {
      append(r, l.grad());
      l.mutable_grad().reset();
    }
    if (!wl::verify(st, w, n, r, tol)) return;
  }
  for (auto _ : st) {
    auto y = f();
    y.backward();
    benchmark::DoNotOptimize(leaves[0].grad().data_ptr());
    for (auto& l : leaves) l.mutable_grad().reset();
  }
}

void register_all() {
  torch::set_num_threads(1);
  for (long n : wl::kVectorSizes) {
    reg("sum", n, [](benchmark::State& st, long n) {
      auto x = to_torch(wl::data(n), true);
      time_backward(st, "sum", n, {x}, [&] { return x.sum(); });
    });
    reg("prod", n, [](benchmark::State& st, long n) {
      auto x = to_torch(wl::near_one(n), true);
      time_backward(st, "prod", n, {x}, [&] { return x.prod(); });
    });
    reg("lse", n, [](benchmark::State& st, long n) {
      auto x = to_torch(wl::data(n), true);
      time_backward(st, "lse", n, {x}, [&] { return x.exp().sum().log(); });
    });
    reg("normal", n, [](benchmark::State& st, long n) {
      auto x = to_torch(wl::data(n), true);
      auto mu = scalar(wl::kMu, true), s = scalar(wl::kSigma, true);
      time_backward(st, "normal", n, {x, mu, s}, [&] { return (-0.5 * ((x - mu) / s).pow(2) - s.log()).sum(); });
    });
  }
  for (long k : wl::kMatSizes) {
    reg("matprod", k, [](benchmark::State& st, long k) {
      auto a = to_torch(wl::matrix(k, k, 0.1), true), b = to_torch(wl::matrix(k, k, 0.5), true);
      auto w = to_torch(wl::matrix(k, k, 0.9));
      time_backward(st, "matprod", k, {a, b}, [&] { return (w * torch::matmul(a, b)).sum(); }, 1e-8);
    });
  }
  for (long n : wl::kLinRegSizes) {
    reg("linreg", n, [](benchmark::State& st, long n) {
      auto X = to_torch(wl::matrix(n, wl::kFeatures, 0.2)), y = to_torch(wl::data(n, 0.4));
      auto w = to_torch(Vec(wl::data(wl::kFeatures, 0.6) * 0.5), true);
      auto b = scalar(wl::kMu, true), s = scalar(wl::kSigma, true);
      time_backward(st, "linreg", n, {w, b, s},
                    [&] { return (-0.5 * ((y - torch::matmul(X, w) - b) / s).pow(2) - s.log()).sum(); });
    });
  }
  reg("chain", wl::kChainOps, [](benchmark::State& st, long n) {
    auto x = scalar(1.0, true);
    time_backward(st, "chain", n, {x}, [&] {
      auto y = x;
      for (int i = 0; i < wl::kChainOps; ++i) y = (i % 2) ? y * 1.0001 : y + 0.5;
      return y;
    });
  });
  reg("mlp", wl::kMlp, [](benchmark::State& st, long n) {
    wl::Mlp m;
    auto w1 = to_torch(m.W1, true), w2 = to_torch(m.W2, true), x = to_torch(m.x), t = to_torch(m.t);
    time_backward(st, "mlp", n, {w1, w2},
                  [&] { return torch::mse_loss(torch::matmul(w2, torch::tanh(torch::matmul(w1, x))), t); });
  });
  reg("sinchain", wl::kChainOps, [](benchmark::State& st, long n) {
    auto x = scalar(1.0, true);
    time_backward(st, "sinchain", n, {x}, [&] {
      auto y = x;
      for (int i = 0; i < wl::kChainOps; ++i) y = (i % 2) ? y * 1.0001 : torch::sin(y);
      return y;
    });
  });
  for (const long ops : {long{wl::kChainOps}, 10L * wl::kChainOps})
    reg("ttchain", ops, [](benchmark::State& st, long n) {
      auto x = scalar(1.0, true), w = scalar(wl::kW, true);
      time_backward(st, "ttchain", n, {x, w}, [&] {
        auto y = x;
        for (long i = 0; i < n; ++i) y = (i % 2) ? y * w : torch::sin(y);
        return y;
      });
    });
  reg("mixchain", wl::kChainOps, [](benchmark::State& st, long n) {
    auto x = scalar(1.0, true), w = scalar(wl::kMixW, true), b = scalar(wl::kMixB, true);
    time_backward(st, "mixchain", n, {x, w, b}, [&] {
      auto y = x;
      for (long i = 0; i < n; ++i) {
        switch (i % 5) {
          case 0: y = torch::tanh(y); break;
          case 1: y = y * w; break;
          case 2: y = torch::sigmoid(y); break;
          case 3: y = y / w; break;
          default: y = y + b;
        }
      }
      return y;
    });
  });
  reg("trans", wl::kTrans, [](benchmark::State& st, long n) {
    auto u = to_torch(wl::data(n, 0.2), true), v = to_torch(wl::data(n, 0.8), true);
    time_backward(st, "trans", n, {u, v}, [&] { return (torch::exp(u) * v + torch::sin(u * v)).sum(); });
  });
  reg("gelu", wl::kGeluRows * wl::kGeluCols, [](benchmark::State& st, long n) {
    auto x = to_torch(wl::Mat(wl::matrix(wl::kGeluRows, wl::kGeluCols, 0.3) * 3.0), true);
    time_backward(st, "gelu", n, {x}, [&] {
      return (0.5 * x * (1.0 + torch::tanh(wl::kGeluK * (x + wl::kGeluA * (x * x * x))))).sum();
    });
  });
  for (const long n : {10L, 1000L})
    reg("classify", n, [](benchmark::State& st, long n) {
      const wl::Classify c(n);
      auto x = to_torch(c.X), w = to_torch(c.W, true), b = to_torch(c.b, true);
      auto target = torch::tensor(std::vector<std::int64_t>(c.target.begin(), c.target.end()), torch::kLong);
      time_backward(st, "classify", n, {w, b},
                    [&] { return torch::nn::functional::cross_entropy(torch::matmul(x, w.t()) + b, target); });
    });
  const std::pair<const char*, torch::Tensor (*)(const torch::Tensor&)> unary[] = {
      {"tan", [](const torch::Tensor& t) { return torch::tan(t); }},
      {"atan", [](const torch::Tensor& t) { return torch::atan(t); }},
      {"sinh", [](const torch::Tensor& t) { return torch::sinh(t); }},
      {"cosh", [](const torch::Tensor& t) { return torch::cosh(t); }},
      {"softplus", [](const torch::Tensor& t) { return torch::nn::functional::softplus(t); }},
      {"erf", [](const torch::Tensor& t) { return torch::erf(t); }},
      {"pow", [](const torch::Tensor& t) { return torch::pow(t, 1.7); }}};
  for (const auto& [f, op] : unary)
    reg(std::string("unary_") + f, wl::kUnary, [f = std::string(f), op = op](benchmark::State& st, long n) {
      auto t = to_torch(wl::unary_data(f, n), true);
      time_backward(st, "unary_" + f, n, {t}, [&] { return op(t).sum(); });
    });
  reg("chain6", wl::kChain6, [](benchmark::State& st, long n) {
    auto u = to_torch(wl::positive(n, 0.2), true), v = to_torch(wl::positive(n, 0.8), true);
    time_backward(st, "chain6", n, {u, v}, [&] { return ((u * v + 1.0).sqrt() * u - v / (u + 2.0) + u * u).sum(); });
  });
}
}  // namespace

WL_BENCH_MAIN()
