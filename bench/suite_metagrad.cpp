// bench/suite_metagrad.cpp — every workload of workloads.hpp in metagrad's
// three modes (static `mg::grad_into`, dynamic `mg::Tensor`, the bridge), next to
// the plain value and the hand-written gradient. Names: workload/engine/n.
#include <metagrad/metagrad.hpp>

#include "workloads.hpp"

namespace mg = metagrad;
using namespace mg::literals;
using wl::Mat;
using wl::Result;
using wl::Vec;

namespace {
constexpr auto x = mg::var<"x">;
constexpr auto mu = mg::var<"mu">;
constexpr auto s = mg::var<"s">;
constexpr auto A = mg::var<"A">;
constexpr auto B = mg::var<"B">;
constexpr auto W = mg::var<"W">;
constexpr auto X = mg::var<"X">;
constexpr auto Y = mg::var<"Y">;
constexpr auto w = mg::var<"w">;
constexpr auto b = mg::var<"b">;
constexpr auto W1 = mg::var<"W1">;
constexpr auto W2 = mg::var<"W2">;
constexpr auto T = mg::var<"T">;
constexpr auto u = mg::var<"u">;
constexpr auto v = mg::var<"v">;

constexpr auto normal_inner = -0.5 * mg::pow((x - mu) / s, 2_c) - mg::log(s);
/// The Huber loss as a user writes it: a condition and two branches.
constexpr auto huber_inner = mg::where(mg::abs(x - wl::kMu) <= wl::kDelta, 0.5 * mg::pow(x - wl::kMu, 2_c),
                                       wl::kDelta * (mg::abs(x - wl::kMu) - 0.5 * wl::kDelta));
constexpr auto lse = mg::log(mg::sum(mg::exp(x)));
constexpr auto matprod = mg::sum(W * mg::matmul(A, B));
constexpr auto linreg = mg::sum(-0.5 * mg::pow((Y - mg::matmul(X, w) - b) / s, 2_c) - mg::log(s));
constexpr auto mlp = mg::mean(mg::pow(mg::matmul(W2, mg::tanh(mg::matmul(W1, X))) - T, 2_c));
constexpr auto chain6 = mg::sqrt(u * v + 1.0) * u - v / (u + 2.0) + u * u;
constexpr auto trans = mg::exp(u) * v + mg::sin(u * v);
constexpr auto gelu = 0.5 * X * (1.0 + mg::tanh(wl::kGeluK * (X + wl::kGeluA * (X * X * X))));

void append(Result& r, const mg::Tensor& t) {
  if (t.dim() == 0) wl::append(r, t.item());
  else wl::append(r, t.to_eigen());
}

/// Dynamic mode: runs f() (a 0-d tensor) and backward once, checks value and
/// the leaves' gradients, then times f + backward, resetting the gradients to
/// undefined each time (as the libtorch peer does).
template <class F>
void time_backward(benchmark::State& st, const std::string& wk, long n, const std::vector<mg::Tensor>& leaves, F f,
                   double tol = 1e-9) {
  auto reset = [&] {
    for (const auto& l : leaves) l.mutable_grad() = mg::Tensor();
  };
  {
    auto y = f();
    y.backward();
    Result r{y.item(), {}};
    for (const auto& l : leaves) append(r, l.grad());
    reset();
    if (!wl::verify(st, wk, n, r, tol)) return;
  }
  for (auto _ : st) {
    auto y = f();
    y.backward();
    benchmark::DoNotOptimize(leaves[0].grad().data_ptr());
    reset();
  }
}

/// Static mode: mg::grad once (its value and gradients checked), then
/// mg::grad_into the same result timed — its arrays reused, as the
/// hand-written gradient reuses its own. bind() makes the bindings.
template <class E, class Bind, class Collect>
void time_static(benchmark::State& st, const std::string& wk, long n, const E& e, Bind bind, Collect collect) {
  const auto bs = bind();
  auto g = std::apply([&](const auto&... b) { return mg::grad(e, b...); }, bs);
  {
    Result r{g.value, {}};
    collect(r, g);
    if (!wl::verify(st, wk, n, r)) return;
  }
  for (auto _ : st) {
    std::apply([&](const auto&... b) { mg::grad_into(g, e, b...); }, bs);
    benchmark::DoNotOptimize(g.value);
    benchmark::ClobberMemory();
  }
}

template <class F>
void reg(const std::string& name, long n, F f) {
  benchmark::RegisterBenchmark((name + "/" + std::to_string(n)).c_str(), [=](benchmark::State& st) { f(st, n); });
}

/// Registers wk/dynamic (ops(leaves), op by op) and wk/bridge (fused(leaves),
/// one StaticExprBackward0 node), both summed and timed with backward.
template <class Leaves, class Fused, class Ops>
void dynamic_and_bridge(const std::string& wk, long n, Leaves leaves_of, Fused fused, Ops ops) {
  for (const bool bridge : {false, true}) {
    reg(wk + (bridge ? "/bridge" : "/dynamic"), n, [=](benchmark::State& st, long n) {
      const std::vector<mg::Tensor> l = leaves_of(n);
      time_backward(st, wk, n, l, [&] { return bridge ? mg::Tensor(fused(l)).sum() : ops(l).sum(); });
    });
  }
}

Vec input(const std::string& wk, long n) { return wk == "prod" ? wl::near_one(n) : wl::data(n); }

// ------------------------------------------------------- sum, prod, lse
template <class E>
void vector_workload(const std::string& wk, const E& e) {
  for (long n : wl::kVectorSizes) {
    reg(wk + "/value", n, [wk](benchmark::State& st, long n) {
      const Vec xv = input(wk, n);
      for (auto _ : st) {
        double r = wk == "sum" ? xv.sum() : wk == "prod" ? xv.prod() : std::log(xv.array().exp().sum());
        benchmark::DoNotOptimize(r);
      }
    });
    reg(wk + "/hand", n, [wk](benchmark::State& st, long n) {
      const Vec xv = input(wk, n);
      Vec g(n);
      for (auto _ : st) {
        auto r = wk == "sum" ? wl::sum_hand(xv, g) : wk == "prod" ? wl::prod_hand(xv, g) : wl::lse_hand(xv, g);
        benchmark::DoNotOptimize(r.value);
        benchmark::DoNotOptimize(g.data());
      }
    });
    reg(wk + "/static", n, [wk, e](benchmark::State& st, long n) {
      const Vec xv = input(wk, n);
      time_static(st, wk, n, e, [&] { return std::make_tuple(x = xv); },
                  [&](Result& r, const auto& g) { wl::append(r, g[x].data(), n); });
    });
    reg(wk + "/dynamic", n, [wk](benchmark::State& st, long n) {
      auto xt = mg::from_eigen(input(wk, n), mg::requires_grad());
      time_backward(st, wk, n, {xt}, [&] {
        return wk == "sum" ? xt.sum() : wk == "prod" ? mg::prod(xt) : mg::log(mg::sum(mg::exp(xt)));
      });
    });
  }
}

// --------------------------------------------------------------- normal
void normal_workload() {
  for (long n : wl::kVectorSizes) {
    reg("normal/value", n, [](benchmark::State& st, long n) {
      const Vec xv = wl::data(n);
      for (auto _ : st) {
        double r = (-0.5 * ((xv.array() - wl::kMu) / wl::kSigma).square() - std::log(wl::kSigma)).sum();
        benchmark::DoNotOptimize(r);
      }
    });
    reg("normal/hand", n, [](benchmark::State& st, long n) {
      const Vec xv = wl::data(n);
      Vec g(n);
      for (auto _ : st) {
        auto r = wl::normal_hand(xv, wl::kMu, wl::kSigma, g);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(g.data());
      }
    });
    reg("normal/static", n, [](benchmark::State& st, long n) {
      const Vec xv = wl::data(n);
      time_static(st, "normal", n, mg::sum(normal_inner), [&] { return std::make_tuple(x = xv, mu = wl::kMu, s = wl::kSigma); },
                  [&](Result& r, const auto& g) {
                    wl::append(r, g[x].data(), n);
                    wl::append(r, g[mu]);
                    wl::append(r, g[s]);
                  });
    });
    dynamic_and_bridge(
        "normal", n,
        [](long n) {
          return std::vector<mg::Tensor>{mg::from_eigen(wl::data(n), mg::requires_grad()),
                                         mg::tensor(wl::kMu, mg::requires_grad()), mg::tensor(wl::kSigma, mg::requires_grad())};
        },
        [](const auto& l) { return normal_inner(x = l[0], mu = l[1], s = l[2]); },
        [](const auto& l) { return -0.5 * mg::pow((l[0] - l[1]) / l[2], 2) - mg::log(l[2]); });
  }
}

// ---------------------------------------------------------------- huber
void huber_workload() {
  for (long n : wl::kVectorSizes) {
    reg("huber/value", n, [](benchmark::State& st, long n) {
      const Vec xv = wl::data(n);
      for (auto _ : st) {
        const auto r = xv.array() - wl::kMu;
        const auto c = r.max(-wl::kDelta).min(wl::kDelta);
        double val = (c * (r - 0.5 * c)).sum();
        benchmark::DoNotOptimize(val);
      }
    });
    reg("huber/hand", n, [](benchmark::State& st, long n) {
      const Vec xv = wl::data(n);
      Vec g(n);
      for (auto _ : st) {
        auto r = wl::huber_hand(xv, g);
        benchmark::DoNotOptimize(r.value);
        benchmark::DoNotOptimize(g.data());
      }
    });
    reg("huber/static", n, [](benchmark::State& st, long n) {
      const Vec xv = wl::data(n);
      time_static(st, "huber", n, mg::sum(huber_inner), [&] { return std::make_tuple(x = xv); },
                  [&](Result& r, const auto& g) { wl::append(r, g[x].data(), n); });
    });
    dynamic_and_bridge(
        "huber", n, [](long n) { return std::vector<mg::Tensor>{mg::from_eigen(wl::data(n), mg::requires_grad())}; },
        [](const auto& l) { return huber_inner(x = l[0]); },
        [](const auto& l) {
          const auto r = l[0] - wl::kMu;
          return mg::where(mg::abs(r) <= wl::kDelta, 0.5 * mg::pow(r, 2), wl::kDelta * (mg::abs(r) - 0.5 * wl::kDelta));
        });
  }
}

// -------------------------------------------------------------- matprod
void matprod_workload() {
  for (long k : wl::kMatSizes) {
    reg("matprod/value", k, [](benchmark::State& st, long k) {
      const Mat a = wl::matrix(k, k, 0.1), bm = wl::matrix(k, k, 0.5), wm = wl::matrix(k, k, 0.9);
      Mat c(k, k);
      for (auto _ : st) {
        c.noalias() = a * bm;
        double r = (wm.array() * c.array()).sum();
        benchmark::DoNotOptimize(r);
      }
    });
    reg("matprod/hand", k, [](benchmark::State& st, long k) {
      const Mat a = wl::matrix(k, k, 0.1), bm = wl::matrix(k, k, 0.5), wm = wl::matrix(k, k, 0.9);
      Mat c(k, k), ga(k, k), gb(k, k);
      for (auto _ : st) {
        double r = wl::matprod_hand(a, bm, wm, c, ga, gb);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(ga.data());
      }
    });
    reg("matprod/static", k, [](benchmark::State& st, long k) {
      const Mat a = wl::matrix(k, k, 0.1), bm = wl::matrix(k, k, 0.5), wm = wl::matrix(k, k, 0.9);
      time_static(st, "matprod", k, matprod, [&] { return std::make_tuple(A = a, B = bm, W = mg::data(wm)); },
                  [&](Result& r, const auto& g) {
                    wl::append(r, g[A]);
                    wl::append(r, g[B]);
                  });
    });
    reg("matprod/dynamic", k, [](benchmark::State& st, long k) {
      auto a = mg::from_eigen(wl::matrix(k, k, 0.1), mg::requires_grad());
      auto bm = mg::from_eigen(wl::matrix(k, k, 0.5), mg::requires_grad());
      auto wm = mg::from_eigen(wl::matrix(k, k, 0.9));
      time_backward(st, "matprod", k, {a, bm}, [&] { return (wm * mg::matmul(a, bm)).sum(); }, 1e-8);
    });
  }
}

// --------------------------------------------------------------- linreg
void linreg_workload() {
  for (long n : wl::kLinRegSizes) {
    reg("linreg/value", n, [](benchmark::State& st, long n) {
      const Mat Xm = wl::matrix(n, wl::kFeatures, 0.2);
      const Vec y = wl::data(n, 0.4), wv = wl::data(wl::kFeatures, 0.6) * 0.5;
      for (auto _ : st) {
        const double r = 1.0 / wl::kSigma;
        double val = -0.5 * (((y - Xm * wv).array() - wl::kMu) * r).square().sum() - n * std::log(wl::kSigma);
        benchmark::DoNotOptimize(val);
      }
    });
    reg("linreg/hand", n, [](benchmark::State& st, long n) {
      const Mat Xm = wl::matrix(n, wl::kFeatures, 0.2);
      const Vec y = wl::data(n, 0.4), wv = wl::data(wl::kFeatures, 0.6) * 0.5;
      Vec gw(wl::kFeatures);
      for (auto _ : st) {
        auto r = wl::linreg_hand(Xm, y, wv, wl::kMu, wl::kSigma, gw);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(gw.data());
      }
    });
    reg("linreg/static", n, [](benchmark::State& st, long n) {
      const Mat Xm = wl::matrix(n, wl::kFeatures, 0.2);
      const Vec y = wl::data(n, 0.4), wv = wl::data(wl::kFeatures, 0.6) * 0.5;
      time_static(st, "linreg", n, linreg,
                  [&] { return std::make_tuple(X = mg::data(Xm), Y = mg::data(y), w = wv, b = wl::kMu, s = wl::kSigma); },
                  [&](Result& r, const auto& g) {
                    wl::append(r, g[w].data(), wl::kFeatures);
                    wl::append(r, g[b]);
                    wl::append(r, g[s]);
                  });
    });
    reg("linreg/dynamic", n, [](benchmark::State& st, long n) {
      auto Xm = mg::from_eigen(wl::matrix(n, wl::kFeatures, 0.2));
      auto y = mg::from_eigen(wl::data(n, 0.4));
      auto wv = mg::from_eigen(Vec(wl::data(wl::kFeatures, 0.6) * 0.5), mg::requires_grad());
      auto bt = mg::tensor(wl::kMu, mg::requires_grad()), stt = mg::tensor(wl::kSigma, mg::requires_grad());
      time_backward(st, "linreg", n, {wv, bt, stt},
                    [&] { return (-0.5 * mg::pow((y - mg::matmul(Xm, wv) - bt) / stt, 2) - mg::log(stt)).sum(); });
    });
  }
}

// ---------------------------------------------------- chain (1000 ops)
void chain_workload() {
  const long n = wl::kChainOps;
  reg("chain/value", n, [](benchmark::State& st, long) {
    double x0 = 1.0;
    for (auto _ : st) {
      benchmark::DoNotOptimize(x0);
      double r = wl::chain_value(x0);
      benchmark::DoNotOptimize(r);
    }
  });
  reg("chain/hand", n, [](benchmark::State& st, long) {
    double x0 = 1.0, g;
    for (auto _ : st) {
      benchmark::DoNotOptimize(x0);
      double r = wl::chain_hand(x0, g);
      benchmark::DoNotOptimize(r);
      benchmark::DoNotOptimize(g);
    }
  });
  reg("chain/dynamic", n, [](benchmark::State& st, long n) {
    auto xt = mg::tensor(1.0, mg::requires_grad());
    time_backward(st, "chain", n, {xt}, [&] {
      auto y = xt;
      for (int i = 0; i < wl::kChainOps; ++i) y = (i % 2) ? y * 1.0001 : y + 0.5;
      return y;
    });
  });
  reg("chain/dynamic_nograd", n, [](benchmark::State& st, long) {
    auto xt = mg::tensor(1.0);
    mg::NoGradGuard ng;
    for (auto _ : st) {
      auto y = xt;
      for (int i = 0; i < wl::kChainOps; ++i) y = (i % 2) ? y * 1.0001 : y + 0.5;
      benchmark::DoNotOptimize(y.data_ptr());
    }
  });
}

// ------------------------------------------------------------------ mlp
void mlp_workload() {
  const long n = wl::kMlp;
  reg("mlp/hand", n, [](benchmark::State& st, long) {
    wl::Mlp m;
    Mat g1(wl::kMlp, wl::kMlp), g2(wl::kMlp, wl::kMlp);
    for (auto _ : st) {
      double r = wl::mlp_hand(m, g1, g2);
      benchmark::DoNotOptimize(r);
      benchmark::DoNotOptimize(g1.data());
    }
  });
  reg("mlp/static", n, [](benchmark::State& st, long n) {
    wl::Mlp m;
    time_static(st, "mlp", n, mlp, [&] { return std::make_tuple(W1 = m.W1, W2 = m.W2, X = mg::data(m.x), T = mg::data(m.t)); },
                [&](Result& r, const auto& g) {
                  wl::append(r, g[W1]);
                  wl::append(r, g[W2]);
                });
  });
  reg("mlp/dynamic", n, [](benchmark::State& st, long n) {
    wl::Mlp m;
    auto w1 = mg::from_eigen(m.W1, mg::requires_grad()), w2 = mg::from_eigen(m.W2, mg::requires_grad());
    auto xt = mg::from_eigen(m.x), tt = mg::from_eigen(m.t);
    time_backward(st, "mlp", n, {w1, w2},
                  [&] { return mg::nn::functional::mse_loss(mg::matmul(w2, mg::tanh(mg::matmul(w1, xt))), tt); });
  });
}

// ------------------------------------------------- chain6 at 1M elements
void chain6_workload() {
  const long n = wl::kChain6;
  reg("chain6/value", n, [](benchmark::State& st, long n) {
    const Vec a = wl::positive(n, 0.2), bv = wl::positive(n, 0.8);
    for (auto _ : st) {
      double r = ((a.array() * bv.array() + 1.0).sqrt() * a.array() - bv.array() / (a.array() + 2.0) + a.array().square()).sum();
      benchmark::DoNotOptimize(r);
    }
  });
  reg("chain6/hand", n, [](benchmark::State& st, long n) {
    const Vec a = wl::positive(n, 0.2), bv = wl::positive(n, 0.8);
    Vec ga(n), gb(n);
    for (auto _ : st) {
      double r = wl::chain6_hand(a, bv, ga, gb);
      benchmark::DoNotOptimize(r);
      benchmark::DoNotOptimize(ga.data());
    }
  });
  reg("chain6/static", n, [](benchmark::State& st, long n) {
    const Vec a = wl::positive(n, 0.2), bv = wl::positive(n, 0.8);
    time_static(st, "chain6", n, mg::sum(chain6), [&] { return std::make_tuple(u = a, v = bv); },
                [&](Result& r, const auto& g) {
                  wl::append(r, g[u].data(), n);
                  wl::append(r, g[v].data(), n);
                });
  });
  dynamic_and_bridge(
      "chain6", n,
      [](long n) {
        return std::vector<mg::Tensor>{mg::from_eigen(wl::positive(n, 0.2), mg::requires_grad()),
                                       mg::from_eigen(wl::positive(n, 0.8), mg::requires_grad())};
      },
      [](const auto& l) { return chain6(u = l[0], v = l[1]); },
      [](const auto& l) { return mg::sqrt(l[0] * l[1] + 1.0) * l[0] - l[1] / (l[0] + 2.0) + l[0] * l[0]; });
}

// ------------------------------------ workloads users bring (issue 18)
// 1000 scalar ops with a transcendental every other op, and the same chain
// with a second leaf (tensor-tensor products): the graph's cost per op.
void chains_workload() {
  const long n = wl::kChainOps;
  reg("sinchain/value", n, [](benchmark::State& st, long) {
    double x0 = 1.0;
    for (auto _ : st) {
      benchmark::DoNotOptimize(x0);
      double r = wl::sinchain_value(x0);
      benchmark::DoNotOptimize(r);
    }
  });
  reg("sinchain/hand", n, [](benchmark::State& st, long) {
    double x0 = 1.0, g;
    for (auto _ : st) {
      benchmark::DoNotOptimize(x0);
      double r = wl::sinchain_hand(x0, g);
      benchmark::DoNotOptimize(r);
      benchmark::DoNotOptimize(g);
    }
  });
  auto sinchain = [](const mg::Tensor& x) {
    auto y = x;
    for (int i = 0; i < wl::kChainOps; ++i) y = (i % 2) ? y * 1.0001 : mg::sin(y);
    return y;
  };
  reg("sinchain/dynamic", n, [=](benchmark::State& st, long n) {
    auto xt = mg::tensor(1.0, mg::requires_grad());
    time_backward(st, "sinchain", n, {xt}, [&] { return sinchain(xt); });
  });
  reg("sinchain/dynamic_nograd", n, [=](benchmark::State& st, long) {
    auto xt = mg::tensor(1.0);
    mg::NoGradGuard ng;
    for (auto _ : st) benchmark::DoNotOptimize(sinchain(xt).data_ptr());
  });
  // ttchain also at 10,000 ops: a graph whose objects outgrow the caches and
  // the pool's free lists (a user's long loop), not only one that fits
  auto ttchain = [](const mg::Tensor& x, const mg::Tensor& w, long ops) {
    auto y = x;
    for (long i = 0; i < ops; ++i) y = (i % 2) ? y * w : mg::sin(y);
    return y;
  };
  for (const long ops : {n, 10 * n}) {
    reg("ttchain/hand", ops, [](benchmark::State& st, long ops) {
      double x0 = 1.0, gx, gw;
      std::vector<double> ys;
      for (auto _ : st) {
        benchmark::DoNotOptimize(x0);
        double r = wl::ttchain_hand(x0, wl::kW, ops, ys, gx, gw);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(gw);
      }
    });
    reg("ttchain/dynamic", ops, [=](benchmark::State& st, long ops) {
      auto xt = mg::tensor(1.0, mg::requires_grad()), wt = mg::tensor(wl::kW, mg::requires_grad());
      time_backward(st, "ttchain", ops, {xt, wt}, [&] { return ttchain(xt, wt, ops); });
    });
    reg("ttchain/dynamic_nograd", ops, [=](benchmark::State& st, long ops) {
      auto xt = mg::tensor(1.0), wt = mg::tensor(wl::kW);
      mg::NoGradGuard ng;
      for (auto _ : st) benchmark::DoNotOptimize(ttchain(xt, wt, ops).data_ptr());
    });
  }
}

// Five op kinds in turn (tanh, y * w, sigmoid, y / w, y + b), two leaves:
// products, quotients and outputs saved for backward, not only sin's input.
void mixchain_workload() {
  const long n = wl::kChainOps;
  auto mixchain = [](const mg::Tensor& x, const mg::Tensor& w, const mg::Tensor& b, long ops) {
    auto y = x;
    for (long i = 0; i < ops; ++i) {
      switch (i % 5) {
        case 0: y = mg::tanh(y); break;
        case 1: y = y * w; break;
        case 2: y = mg::sigmoid(y); break;
        case 3: y = y / w; break;
        default: y = y + b;
      }
    }
    return y;
  };
  reg("mixchain/hand", n, [](benchmark::State& st, long ops) {
    double x0 = 1.0, gx, gw, gb;
    std::vector<double> ys;
    for (auto _ : st) {
      benchmark::DoNotOptimize(x0);
      double r = wl::mixchain_hand(x0, ops, ys, gx, gw, gb);
      benchmark::DoNotOptimize(r);
      benchmark::DoNotOptimize(gb);
    }
  });
  reg("mixchain/dynamic", n, [=](benchmark::State& st, long ops) {
    auto xt = mg::tensor(1.0, mg::requires_grad()), wt = mg::tensor(wl::kMixW, mg::requires_grad()),
         bt = mg::tensor(wl::kMixB, mg::requires_grad());
    time_backward(st, "mixchain", ops, {xt, wt, bt}, [&] { return mixchain(xt, wt, bt, ops); });
  });
  reg("mixchain/dynamic_nograd", n, [=](benchmark::State& st, long ops) {
    auto xt = mg::tensor(1.0), wt = mg::tensor(wl::kMixW), bt = mg::tensor(wl::kMixB);
    mg::NoGradGuard ng;
    for (auto _ : st) benchmark::DoNotOptimize(mixchain(xt, wt, bt, ops).data_ptr());
  });
}

// A transcendental elementwise chain at 1M elements, and GELU (tanh form)
// on a 256 x 64 batch: where the fused pass's transcendentals decide.
void transcendental_workloads() {
  const long n = wl::kTrans;
  reg("trans/value", n, [](benchmark::State& st, long n) {
    const Vec a = wl::data(n, 0.2), bv = wl::data(n, 0.8);
    for (auto _ : st) {
      double r = (a.array().exp() * bv.array() + (a.array() * bv.array()).sin()).sum();
      benchmark::DoNotOptimize(r);
    }
  });
  reg("trans/hand", n, [](benchmark::State& st, long n) {
    const Vec a = wl::data(n, 0.2), bv = wl::data(n, 0.8);
    Vec ga(n), gb(n);
    for (auto _ : st) {
      double r = wl::trans_hand(a, bv, ga, gb);
      benchmark::DoNotOptimize(r);
      benchmark::DoNotOptimize(ga.data());
    }
  });
  reg("trans/static", n, [](benchmark::State& st, long n) {
    const Vec a = wl::data(n, 0.2), bv = wl::data(n, 0.8);
    time_static(st, "trans", n, mg::sum(trans), [&] { return std::make_tuple(u = a, v = bv); },
                [&](Result& r, const auto& g) {
                  wl::append(r, g[u].data(), n);
                  wl::append(r, g[v].data(), n);
                });
  });
  dynamic_and_bridge(
      "trans", n,
      [](long n) {
        return std::vector<mg::Tensor>{mg::from_eigen(wl::data(n, 0.2), mg::requires_grad()),
                                       mg::from_eigen(wl::data(n, 0.8), mg::requires_grad())};
      },
      [](const auto& l) { return trans(u = l[0], v = l[1]); },
      [](const auto& l) { return mg::exp(l[0]) * l[1] + mg::sin(l[0] * l[1]); });
  const long g = wl::kGeluRows * wl::kGeluCols;
  auto batch = [] { return Mat(wl::matrix(wl::kGeluRows, wl::kGeluCols, 0.3) * 3.0); };
  reg("gelu/hand", g, [=](benchmark::State& st, long) {
    const Mat Xv = batch();
    Mat gx(Xv.rows(), Xv.cols());
    for (auto _ : st) {
      double r = wl::gelu_hand(Xv, gx);
      benchmark::DoNotOptimize(r);
      benchmark::DoNotOptimize(gx.data());
    }
  });
  reg("gelu/static", g, [=](benchmark::State& st, long n) {
    const Mat Xv = batch();
    time_static(st, "gelu", n, mg::sum(gelu), [&] { return std::make_tuple(X = Xv); },
                [&](Result& r, const auto& gr) { wl::append(r, gr[X]); });
  });
  dynamic_and_bridge(
      "gelu", g, [=](long) { return std::vector<mg::Tensor>{mg::from_eigen(batch(), mg::requires_grad())}; },
      [](const auto& l) { return gelu(X = l[0]); },
      [](const auto& l) {
        const auto& v = l[0];
        return 0.5 * v * (1.0 + mg::tanh(wl::kGeluK * (v + wl::kGeluA * (v * v * v))));
      });
}

// The functions vectorised after the first set, each alone at 1M elements:
// sum f(x) and its gradient, f = tan, atan, sinh, cosh, softplus, erf, and
// x^1.7 (their rows in the derivative table; detail/vmath.hpp's,
// vmath_erf.hpp's and vmath_pow.hpp's kernels in every engine).
template <class Static, class Ops>
void unary_workload(const std::string& f, Static fused, Ops ops) {
  const std::string wk = "unary_" + f;
  reg(wk + "/hand", wl::kUnary, [f](benchmark::State& st, long n) {
    const Vec xv = wl::unary_data(f, n);
    Vec g(n);
    for (auto _ : st) {
      double r = wl::unary_hand(f, xv, g);
      benchmark::DoNotOptimize(r);
      benchmark::DoNotOptimize(g.data());
    }
  });
  dynamic_and_bridge(
      wk, wl::kUnary, [f](long n) { return std::vector<mg::Tensor>{mg::from_eigen(wl::unary_data(f, n), mg::requires_grad())}; },
      [fused](const auto& l) { return fused(x = l[0]); }, [ops](const auto& l) { return ops(l[0]); });
}
void unary_workloads() {
  unary_workload("tan", mg::tan(x), [](const mg::Tensor& t) { return mg::tan(t); });
  unary_workload("atan", mg::atan(x), [](const mg::Tensor& t) { return mg::atan(t); });
  unary_workload("sinh", mg::sinh(x), [](const mg::Tensor& t) { return mg::sinh(t); });
  unary_workload("cosh", mg::cosh(x), [](const mg::Tensor& t) { return mg::cosh(t); });
  unary_workload("softplus", mg::softplus(x), [](const mg::Tensor& t) { return mg::softplus(t); });
  unary_workload("erf", mg::erf(x), [](const mg::Tensor& t) { return mg::erf(t); });
  unary_workload("pow", mg::pow(x, 1.7), [](const mg::Tensor& t) { return mg::pow(t, 1.7); });
}

// A linear classifier's loss over a batch: softmax along rows of 256 x n
// logits, its cross-entropy, the gradient reaching W and b through a matmul.
void classify_workload() {
  for (const long n : {10L, 1000L}) {
    reg("classify/hand", n, [](benchmark::State& st, long n) {
      const wl::Classify c(n);
      Mat gW(n, wl::kClassFeatures);
      Vec gb(n);
      for (auto _ : st) {
        double r = wl::classify_hand(c, gW, gb);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(gW.data());
      }
    });
    reg("classify/dynamic", n, [](benchmark::State& st, long n) {
      const wl::Classify c(n);
      auto xt = mg::from_eigen(c.X), wt = mg::from_eigen(c.W, mg::requires_grad()),
           bt = mg::from_eigen(c.b, mg::requires_grad());
      auto target = mg::zeros<std::int64_t>({wl::kClassRows});
      std::copy(c.target.begin(), c.target.end(), target.data_ptr());
      time_backward(st, "classify", n, {wt, bt},
                    [&] { return mg::nn::functional::cross_entropy(mg::matmul(xt, wt.t()) + bt, target); });
    });
  }
}

void register_all() {
  vector_workload("sum", mg::sum(x));
  vector_workload("prod", mg::prod(x));
  vector_workload("lse", lse);
  normal_workload();
  huber_workload();
  matprod_workload();
  linreg_workload();
  chain_workload();
  mlp_workload();
  chain6_workload();
  chains_workload();
  mixchain_workload();
  transcendental_workloads();
  unary_workloads();
  classify_workload();
}
}  // namespace

WL_BENCH_MAIN()
