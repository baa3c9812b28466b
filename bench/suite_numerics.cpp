// bench/suite_numerics.cpp — issue 17's numerics workloads in static mode,
// each next to its hand-written gradient (numerics_workloads.hpp): Rosenbrock
// through head/tail, stochastic volatility through scan, the multivariate
// normal through solve/logdet, gradient / hvp / hessian at n = 50,
// hvps of a chain of transcendental rows (hvpt), and two workloads of other
// shapes: a Black-Scholes price over five scalars (bs) and a sum of
// transcendental rows over a vector (tv).
// Names: workload/engine/n. Each engine's gradient is compared with the
// hand-written one before timing; a mismatch makes the run exit 1.
// Counters: `bytes` is what one timed call allocates (after the first call);
// `first_bytes` what the first mg::grad allocates (its result and kept tape):
// O(n) for scan, whose reverse loop re-runs each step instead of keeping it.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <metagrad/static.hpp>

#include "numerics_workloads.hpp"

namespace mg = metagrad;
using namespace mg::literals;
using nw::Mat;
using nw::Vec;

// Every allocation of the process is counted: operator new and malloc (Eigen
// allocates with malloc), through glibc's own entry points (one thread).
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}
namespace {
std::atomic<std::size_t> g_bytes{0};
void count(std::size_t n) { g_bytes.fetch_add(n, std::memory_order_relaxed); }
}  // namespace
extern "C" {
void* malloc(std::size_t n) { count(n); return __libc_malloc(n); }
void* calloc(std::size_t k, std::size_t n) { count(k * n); return __libc_calloc(k, n); }
void* realloc(void* p, std::size_t n) { count(n); return __libc_realloc(p, n); }
void* aligned_alloc(std::size_t a, std::size_t n) { count(n); return __libc_memalign(a, n); }
int posix_memalign(void** p, std::size_t a, std::size_t n) {
  count(n);
  *p = __libc_memalign(a, n);
  return *p ? 0 : 12;  // ENOMEM
}
void free(void* p) { __libc_free(p); }
}

namespace {
constexpr auto x = mg::var<"x">;
constexpr auto h = mg::var<"h">;
constexpr auto e = mg::var<"e">;
constexpr auto z = mg::var<"z">;
constexpr auto y = mg::var<"y">;
constexpr auto mu = mg::var<"mu">;
constexpr auto phi = mg::var<"phi">;
constexpr auto sigma = mg::var<"sigma">;
constexpr auto m = mg::var<"m">;
constexpr auto S = mg::var<"S">;

bool g_failed = false;
void fail(benchmark::State& st) {
  g_failed = true;
  st.SkipWithError("WRONG GRADIENT (see stderr)");
}
template <class F>
void reg(const std::string& name, long n, F f) {
  benchmark::RegisterBenchmark((name + "/" + std::to_string(n)).c_str(), [=](benchmark::State& st) { f(st, n); });
}
/// Bytes allocated by one call of f.
template <class F>
double bytes_of(F&& f) {
  const std::size_t before = g_bytes.load(std::memory_order_relaxed);
  f();
  return static_cast<double>(g_bytes.load(std::memory_order_relaxed) - before);
}

// ------------------------------------------------------------- rosen
// n-dimensional Rosenbrock, as SPEC writes it (n - 1 is a run-time size).
auto rosen_expr(long n) {
  return mg::sum(100_c * mg::pow(mg::tail(x, n - 1) - mg::pow(mg::head(x, n - 1), 2_c), 2_c) +
                 mg::pow(1_c - mg::head(x, n - 1), 2_c));
}

/// A workload over one vector binding x at each size: the hand-written
/// gradient hand(x, g) and the static expression expr(n), cross-checked,
/// then timed; `bytes` / `first_bytes` count what grad_into / grad allocate.
template <class Hand, class Expr>
void vector_workload(const std::string& name, std::initializer_list<long> sizes, double phase, double scale, Hand hand,
                     Expr expr) {
  for (long n : sizes) {
    reg(name + "/hand", n, [=](benchmark::State& st, long n) {
      const Vec xv = nw::data(n, phase, scale);
      Vec g(n);
      for (auto _ : st) {
        double f = hand(xv, g);
        benchmark::DoNotOptimize(f);
        benchmark::DoNotOptimize(g.data());
      }
    });
    reg(name + "/static", n, [=](benchmark::State& st, long n) {
      const Vec xv = nw::data(n, phase, scale);
      Vec want(n);
      const double fv = hand(xv, want);
      const auto f = expr(n);
      double first = 0;
      auto g = [&] {
        const std::size_t b = g_bytes;
        auto r = mg::grad(f, x = xv);
        first = static_cast<double>(g_bytes - b);
        return r;
      }();
      if (!nw::close_all(name + " value", &g.value, &fv, 1) || !nw::close_all(name + " d/dx", g[x].data(), want.data(), n))
        return fail(st);
      st.counters["first_bytes"] = first;
      st.counters["bytes"] = bytes_of([&] { mg::grad_into(g, f, x = xv); });
      for (auto _ : st) {
        mg::grad_into(g, f, x = xv);
        benchmark::DoNotOptimize(g.value);
        benchmark::ClobberMemory();
      }
    });
  }
}

void rosen_workload() { vector_workload("rosen", {3, 9, 10, 13, 17, 33, 1000, 100000}, 0.4, 1.2, nw::rosen_hand, rosen_expr); }

// The 2-d Rosenbrock over two scalar bindings (issue 18's fixed-cost row).
constexpr auto rosen2 = 100_c * mg::pow(y - mg::pow(x, 2_c), 2_c) + mg::pow(1_c - x, 2_c);

void rosen2_workload() {
  reg("rosen2/hand", 2, [](benchmark::State& st, long) {
    double xv = -1.2, yv = 1.0;
    for (auto _ : st) {
      benchmark::DoNotOptimize(xv);
      benchmark::DoNotOptimize(yv);
      const double a = yv - xv * xv, b = 1.0 - xv;
      double f = 100.0 * a * a + b * b, gx = -400.0 * a * xv - 2.0 * b, gy = 200.0 * a;
      benchmark::DoNotOptimize(f);
      benchmark::DoNotOptimize(gx);
      benchmark::DoNotOptimize(gy);
    }
  });
  reg("rosen2/static", 2, [](benchmark::State& st, long) {
    double xv = -1.2, yv = 1.0;
    auto g = mg::grad(rosen2, x = xv, y = yv);
    const double a = yv - xv * xv, b = 1.0 - xv;
    const double want[3] = {100.0 * a * a + b * b, -400.0 * a * xv - 2.0 * b, 200.0 * a};
    const double got[3] = {g.value, g[x], g[y]};
    if (!nw::close_all("rosen2", got, want, 3)) return fail(st);
    for (auto _ : st) {
      benchmark::DoNotOptimize(xv);
      benchmark::DoNotOptimize(yv);
      mg::grad_into(g, rosen2, x = xv, y = yv);
      benchmark::DoNotOptimize(g);
    }
  });
}

// ---------------------------------------------------------------- sv
const auto sv_latent = mg::scan(mu + phi * (h - mu) + sigma * e, h, mu, e, z);
const auto sv_logp = mg::sum(-0.5 * mg::pow(z, 2_c)) + mg::sum(-0.5 * sv_latent - 0.5 * mg::pow(y, 2_c) * mg::exp(-sv_latent));

void sv_workload() {
  for (long n = 16; n <= 16384; n *= 4) {
    reg("sv/hand", n, [](benchmark::State& st, long n) {
      const nw::Sv s(n);
      nw::SvGrad g;
      nw::sv_hand(s, g);
      st.counters["bytes"] = bytes_of([&] { nw::sv_hand(s, g); });
      for (auto _ : st) {
        nw::sv_hand(s, g);
        benchmark::DoNotOptimize(g.value);
        benchmark::DoNotOptimize(g.z.data());
      }
    });
    reg("sv/static", n, [](benchmark::State& st, long n) {
      const nw::Sv s(n);
      nw::SvGrad want;
      nw::sv_hand(s, want);
      const std::size_t b0 = g_bytes;
      auto g = mg::grad(sv_logp, z = s.z, y = mg::data(s.y), mu = s.mu, phi = s.phi, sigma = s.sigma);
      st.counters["first_bytes"] = static_cast<double>(g_bytes - b0);
      const double got[4] = {g.value, g[mu], g[phi], g[sigma]};
      const double exp4[4] = {want.value, want.mu, want.phi, want.sigma};
      if (!nw::close_all("sv value/mu/phi/sigma", got, exp4, 4) || !nw::close_all("sv d/dz", g[z].data(), want.z.data(), n))
        return fail(st);
      auto call = [&] { mg::grad_into(g, sv_logp, z = s.z, y = mg::data(s.y), mu = s.mu, phi = s.phi, sigma = s.sigma); };
      st.counters["bytes"] = bytes_of(call);
      for (auto _ : st) {
        call();
        benchmark::DoNotOptimize(g.value);
        benchmark::ClobberMemory();
      }
    });
  }
}

// --------------------------------------------------------------- mvn
constexpr auto mvn = -0.5 * (mg::dot(x - m, mg::linalg::solve(S, x - m)) + mg::logdet(S));

// Each iteration alternates between two covariance matrices (the second S
// scaled by 1.5), as an optimiser's steps would change S: a factorisation kept
// from the previous call (rules/linalg.hpp keeps the last LU per thread) must
// not be what the benchmark measures, since the hand-written code factorises
// every call.
void mvn_workload() {
  for (long k : {8L, 32L, 128L}) {
    reg("mvn/hand", k, [](benchmark::State& st, long k) {
      nw::Mvn p[2] = {nw::Mvn(k), nw::Mvn(k)};
      p[1].S *= 1.5;
      nw::MvnGrad g;
      nw::mvn_hand(p[0], g);
      int i = 0;
      for (auto _ : st) {
        nw::mvn_hand(p[i ^= 1], g);
        benchmark::DoNotOptimize(g.value);
        benchmark::DoNotOptimize(g.S.data());
      }
    });
    reg("mvn/hand_loops", k, [](benchmark::State& st, long k) {
      nw::Mvn p[2] = {nw::Mvn(k), nw::Mvn(k)};
      p[1].S *= 1.5;
      nw::MvnGrad g, want;
      for (int j = 1; j >= 0; --j) {
        nw::mvn_hand(p[j], want);
        nw::mvn_hand_loops(p[j], g);
        if (!nw::close_all("mvn loops value", &g.value, &want.value, 1, 1e-8) ||
            !nw::close_all("mvn loops d/dm", g.m.data(), want.m.data(), k, 1e-8) ||
            !nw::close_all("mvn loops d/dS", g.S.data(), want.S.data(), k * k, 1e-8))
          return fail(st);
      }
      int i = 0;
      for (auto _ : st) {
        nw::mvn_hand_loops(p[i ^= 1], g);
        benchmark::DoNotOptimize(g.value);
        benchmark::DoNotOptimize(g.S.data());
      }
    });
    reg("mvn/static", k, [](benchmark::State& st, long k) {
      nw::Mvn p[2] = {nw::Mvn(k), nw::Mvn(k)};
      p[1].S *= 1.5;
      nw::MvnGrad want;
      auto g = mg::grad(mvn, x = mg::data(p[0].x), m = p[0].m, S = p[0].S);
      for (int j = 1; j >= 0; --j) {
        nw::mvn_hand(p[j], want);
        mg::grad_into(g, mvn, x = mg::data(p[j].x), m = p[j].m, S = p[j].S);
        if (!nw::close_all("mvn value", &g.value, &want.value, 1, 1e-8) ||
            !nw::close_all("mvn d/dm", g[m].data(), want.m.data(), k, 1e-8) ||
            !nw::close_all("mvn d/dS", g[S].data(), want.S.data(), k * k, 1e-8))
          return fail(st);
      }
      int i = 0;
      auto call = [&] {
        i ^= 1;
        mg::grad_into(g, mvn, x = mg::data(p[i].x), m = p[i].m, S = p[i].S);
      };
      st.counters["bytes"] = bytes_of(call);
      for (auto _ : st) {
        call();
        benchmark::DoNotOptimize(g.value);
        benchmark::ClobberMemory();
      }
    });
  }
}

// -------------------------------------------------------------- hess
// f(x) = rosen(x) + log sum exp(x) at n = 50: one gradient, one hvp, 50 hvps
// (the columns of the Hessian one by one) and mg::hessian.
constexpr long kHess = 50;
const auto hess_f = rosen_expr(kHess) + mg::log(mg::sum(mg::exp(x)));

void hess_workload() {
  const long n = kHess;
  reg("hess/hand", n, [](benchmark::State& st, long n) {
    const Vec xv = nw::data(n, 0.4, 1.2);
    Vec g(n);
    for (auto _ : st) {
      double f = nw::rosen_hand(xv, g);
      const Eigen::ArrayXd ex = xv.array().exp();
      const double s = ex.sum();
      g.array() += ex / s;
      f += std::log(s);
      benchmark::DoNotOptimize(f);
      benchmark::DoNotOptimize(g.data());
    }
  });
  reg("hess/grad", n, [](benchmark::State& st, long n) {
    const Vec xv = nw::data(n, 0.4, 1.2);
    Vec want(n);
    double fv = nw::rosen_hand(xv, want);
    const Eigen::ArrayXd ex = xv.array().exp();
    want.array() += ex / ex.sum();
    fv += std::log(ex.sum());
    auto g = mg::grad(hess_f, x = xv);
    if (!nw::close_all("hess value", &g.value, &fv, 1) || !nw::close_all("hess d/dx", g[x].data(), want.data(), n))
      return fail(st);
    for (auto _ : st) {
      mg::grad_into(g, hess_f, x = xv);
      benchmark::DoNotOptimize(g.value);
      benchmark::ClobberMemory();
    }
  });
  // The Hessian's columns from hvps must equal mg::hessian's (which is
  // symmetrised); both against central differences of the gradient.
  auto check_hessian = [](benchmark::State& st, const Vec& xv, const Mat& H) {
    const long n = xv.size();
    Mat fd(n, n);
    for (long j = 0; j < n; ++j) {
      Vec a = xv, b = xv;
      const double step = 1e-5;
      a[j] += step, b[j] -= step;
      fd.col(j) = (mg::grad(hess_f, x = a)[x] - mg::grad(hess_f, x = b)[x]) / (2 * step);
    }
    if (!nw::close_all("hess H (central differences)", H.data(), fd.data(), n * n, 1e-5)) return fail(st), false;
    if ((H - H.transpose()).norm() != 0) return fail(st), false;
    return true;
  };
  reg("hess/hvp", n, [=](benchmark::State& st, long n) {
    const Vec xv = nw::data(n, 0.4, 1.2);
    Vec u = Vec::Zero(n);
    Mat H(n, n);
    for (long j = 0; j < n; ++j) {
      u[j] = 1;
      H.col(j) = mg::hvp(hess_f, u, x = xv)[x];
      u[j] = 0;
    }
    const Mat sym = (H + H.transpose()) / 2;
    if (!check_hessian(st, xv, sym)) return;
    const Vec dir = nw::data(n, 2.0);
    for (auto _ : st) {
      auto r = mg::hvp(hess_f, dir, x = xv);
      benchmark::DoNotOptimize(r.value);
      benchmark::DoNotOptimize(r[x].data());
    }
  });
  reg("hess/hessian", n, [=](benchmark::State& st, long n) {
    const Vec xv = nw::data(n, 0.4, 1.2);
    const Mat H = mg::hessian(hess_f, x = xv)[x];
    if (H.rows() != n || !check_hessian(st, xv, H)) return;
    for (auto _ : st) {
      auto r = mg::hessian(hess_f, x = xv);
      benchmark::DoNotOptimize(r.value);
      benchmark::DoNotOptimize(r[x].data());
    }
  });
}

// ------------------------------------------------------------- hvpt
// Hessian-vector products beyond hess's Rosenbrock + log-sum-exp: a chain of
// transcendental rows, f(x) = sum(tanh(x) sin(x) + log1p(exp(-x^2))), at
// n = 50 and 1000; separable, so the hand-written f' and f'' check both.
const auto hvpt_f = mg::sum(mg::tanh(x) * mg::sin(x) + mg::log1p(mg::exp(-mg::pow(x, 2_c))));
/// f'(v) and f''(v) of one element of hvpt_f.
inline void hvpt_derivatives(double v, double& d1, double& d2) {
  const double t = std::tanh(v), s = std::sin(v), c = std::cos(v), q = 1 / (1 + std::exp(v * v));  // q = e / (1 + e)
  d1 = (1 - t * t) * s + t * c - 2 * v * q;
  d2 = -2 * t * (1 - t * t) * s + 2 * (1 - t * t) * c - t * s - 2 * q + 4 * v * v * q * (1 - q);
}
void hvpt_workload() {
  for (long n : {50L, 1000L}) {
    reg("hvpt/hand", n, [](benchmark::State& st, long n) {
      const Vec xv = nw::data(n, 0.4, 1.2);
      Vec g(n);
      for (auto _ : st) {
        double f = 0;
        for (long i = 0; i < n; ++i) {
          const double v = xv[i], t = std::tanh(v), s = std::sin(v), e = std::exp(-v * v);
          f += t * s + std::log1p(e);
          g[i] = (1 - t * t) * s + t * std::cos(v) - 2 * v * e / (1 + e);
        }
        benchmark::DoNotOptimize(f);
        benchmark::DoNotOptimize(g.data());
      }
    });
    reg("hvpt/grad", n, [](benchmark::State& st, long n) {
      const Vec xv = nw::data(n, 0.4, 1.2);
      Vec want(n);
      for (long i = 0; i < n; ++i) {
        double d2;
        hvpt_derivatives(xv[i], want[i], d2);
      }
      auto g = mg::grad(hvpt_f, x = xv);
      if (!nw::close_all("hvpt d/dx", g[x].data(), want.data(), n)) return fail(st);
      for (auto _ : st) {
        mg::grad_into(g, hvpt_f, x = xv);
        benchmark::DoNotOptimize(g.value);
        benchmark::ClobberMemory();
      }
    });
    reg("hvpt/hvp", n, [](benchmark::State& st, long n) {
      const Vec xv = nw::data(n, 0.4, 1.2), dir = nw::data(n, 2.0);
      Vec want(n);
      for (long i = 0; i < n; ++i) {
        double d1, d2;
        hvpt_derivatives(xv[i], d1, d2);
        want[i] = d2 * dir[i];
      }
      const Vec got = mg::hvp(hvpt_f, dir, x = xv)[x];
      if (!nw::close_all("hvpt H u", got.data(), want.data(), n)) return fail(st);
      for (auto _ : st) {
        auto r = mg::hvp(hvpt_f, dir, x = xv);
        benchmark::DoNotOptimize(r.value);
        benchmark::DoNotOptimize(r[x].data());
      }
    });
  }
}

// ------------------------------------------------------------------ bs
// Black-Scholes over five scalar bindings: a user's formula with log, sqrt,
// erf and exp (bench/numerics_workloads.hpp).
constexpr auto spot = mg::var<"spot">;
constexpr auto strike = mg::var<"strike">;
constexpr auto vol = mg::var<"vol">;
constexpr auto mat = mg::var<"mat">;
constexpr auto rate = mg::var<"rate">;
constexpr auto normal_cdf(auto q) { return 0.5 * (1_c + mg::erf(q * 0.70710678118654752)); }
constexpr auto bs_d1 = (mg::log(spot / strike) + (rate + 0.5 * vol * vol) * mat) / (vol * mg::sqrt(mat));
constexpr auto bs_d2 = bs_d1 - vol * mg::sqrt(mat);
constexpr auto bs = spot * normal_cdf(bs_d1) - strike * mg::exp(-rate * mat) * normal_cdf(bs_d2);

void bs_workload() {
  reg("bs/hand", 5, [](benchmark::State& st, long) {
    double sv = 100, kv = 95, vv = 0.2, tv = 0.5, rv = 0.03, g[5];
    for (auto _ : st) {
      benchmark::DoNotOptimize(sv);
      double f = nw::bs_hand(sv, kv, vv, tv, rv, g);
      benchmark::DoNotOptimize(f);
      benchmark::DoNotOptimize(g);
    }
  });
  reg("bs/static", 5, [](benchmark::State& st, long) {
    double sv = 100, kv = 95, vv = 0.2, tv = 0.5, rv = 0.03, want[5];
    const double fv = nw::bs_hand(sv, kv, vv, tv, rv, want);
    const auto r = mg::grad(bs, spot = sv, strike = kv, vol = vv, mat = tv, rate = rv);
    const double got[5] = {r[spot], r[strike], r[vol], r[mat], r[rate]};
    if (!nw::close_all("bs value", &r.value, &fv, 1) || !nw::close_all("bs gradient", got, want, 5)) return fail(st);
    for (auto _ : st) {
      benchmark::DoNotOptimize(sv);
      auto q = mg::grad(bs, spot = sv, strike = kv, vol = vv, mat = tv, rate = rv);
      benchmark::DoNotOptimize(q.value);
      benchmark::DoNotOptimize(q.grads);
    }
  });
}

// ------------------------------------------------------------------ tv
const auto tv = mg::sum(mg::tanh(x) * mg::exp(-x * x) + mg::log1p(x * x) + mg::sigmoid(x) * mg::cos(x));

void tv_workload() {
  vector_workload("tv", {16, 1000, 100000}, 0.2, 2.0, nw::tv_hand, [](long) { return tv; });
}

void register_all() {
  rosen_workload();
  rosen2_workload();
  sv_workload();
  mvn_workload();
  hess_workload();
  hvpt_workload();
  bs_workload();
  tv_workload();
}
}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return g_failed ? 1 : 0;
}
