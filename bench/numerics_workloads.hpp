// bench/numerics_workloads.hpp — issue 17's numerics workloads: their data and
// a hand-written gradient each (what a careful programmer writes: one loop or
// Eigen expressions, outputs and scratch preallocated), which is both the
// speed reference and the cross-check every engine passes before timing.
//
//   rosen   f(x) = sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2      x: n
//   sv      stochastic volatility (FastAD's suite): h_0 = mu,
//           h_t = mu + phi (h_{t-1} - mu) + sigma z_t,
//           f = sum -z_t^2/2 + sum -h_t/2 - y_t^2 exp(-h_t)/2     z: n; mu, phi, sigma
//   mvn     f(m, S) = -((x - m)' S^-1 (x - m) + log det S)/2       m: k, S: k x k
//   hess    f(x) = rosen(x) + log sum exp(x), n = 50: gradient, one Hessian-vector
//           product and the full Hessian
// Workloads of other shapes (transcendental-heavy, a user's formula):
//   bs      Black-Scholes call price C = S N(d1) - K e^(-rT) N(d2), gradient in
//           S, K, sigma, T, r (five scalar bindings; N through erf)
//   tv      f(x) = sum tanh(x) e^(-x^2) + log1p(x^2) + sigmoid(x) cos(x)     x: n
#pragma once
#include <Eigen/Dense>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <new>
#include <string>
#include <vector>

namespace nw {

using Vec = Eigen::VectorXd;
using Mat = Eigen::MatrixXd;

inline Vec data(long n, double phase = 0.0, double scale = 1.0) {
  Vec v(n);
  for (long i = 0; i < n; ++i) v[i] = scale * std::sin(0.37 * static_cast<double>(i) + phase);
  return v;
}

// ------------------------------------------------------------- rosen
inline double rosen_hand(const Vec& x, Vec& g) {
  const long n = x.size();
  double f = 0;
  g.setZero();
  for (long i = 0; i + 1 < n; ++i) {
    const double a = x[i + 1] - x[i] * x[i], b = 1.0 - x[i];
    f += 100.0 * a * a + b * b;
    g[i] += -400.0 * a * x[i] - 2.0 * b;
    g[i + 1] += 200.0 * a;
  }
  return f;
}

// ---------------------------------------------------------------- sv
struct Sv {
  double mu = -0.5, phi = 0.9, sigma = 0.3;
  Vec z, y;
  explicit Sv(long n) : z(data(n, 0.0, 0.5)), y(data(n, 1.3, 0.8)) {}
};
struct SvGrad {
  double value = 0, mu = 0, phi = 0, sigma = 0;
  Vec z;
  Vec h, w;  // scratch: h_t and y_t^2 exp(-h_t), kept between calls
};
/// Forward loop keeping h_t; reverse loop with the carry's adjoint a_t.
inline void sv_hand(const Sv& s, SvGrad& g) {
  const long n = s.z.size();
  g.z.resize(n), g.h.resize(n), g.w.resize(n);
  double h = s.mu, f = 0;
  for (long t = 0; t < n; ++t) {
    h = s.mu + s.phi * (h - s.mu) + s.sigma * s.z[t];
    g.h[t] = h;
    g.w[t] = s.y[t] * s.y[t] * std::exp(-h);
    f += -0.5 * s.z[t] * s.z[t] - 0.5 * h - 0.5 * g.w[t];
  }
  double a = 0, gmu = 0, gphi = 0, gsig = 0;
  for (long t = n - 1; t >= 0; --t) {
    a = a * s.phi - 0.5 + 0.5 * g.w[t];  // d f / d h_t
    const double prev = t > 0 ? g.h[t - 1] : s.mu;
    g.z[t] = -s.z[t] + s.sigma * a;
    gsig += a * s.z[t];
    gphi += a * (prev - s.mu);
    gmu += a * (1.0 - s.phi);
  }
  gmu += a * s.phi;  // h_0 = mu feeds h_1 through phi
  g.value = f, g.mu = gmu, g.phi = gphi, g.sigma = gsig;
}

// --------------------------------------------------------------- mvn
struct Mvn {
  Vec x, m;
  Mat S;
  explicit Mvn(long k) : x(data(k, 0.2)), m(data(k, 1.1, 0.3)) {
    const Mat A = Eigen::Map<const Mat>(data(k * k, 0.5).data(), k, k);
    S = A * A.transpose() / static_cast<double>(k) + Mat::Identity(k, k);
  }
};
struct MvnGrad {
  double value = 0;
  Vec m;
  Mat S;
  Eigen::LLT<Mat> llt;  // kept: its storage is reused
  Vec a;
  Mat llt_loops, w_loops;  // mvn_hand_loops' L and L^-1, kept likewise
};
/// Cholesky S = L L': a = S^-1 r, log det S = 2 sum log L_ii,
/// df/dm = a, df/dS = (a a' - S^-1) / 2.
inline void mvn_hand(const Mvn& p, MvnGrad& g) {
  const long k = p.x.size();
  g.llt.compute(p.S);
  g.a = g.llt.solve(p.x - p.m);
  double logdet = 0;
  for (long i = 0; i < k; ++i) logdet += std::log(g.llt.matrixLLT()(i, i));
  g.value = -0.5 * ((p.x - p.m).dot(g.a) + 2.0 * logdet);
  g.m = g.a;
  g.S.setIdentity(k, k);
  g.llt.solveInPlace(g.S);
  g.S = 0.5 * (g.a * g.a.transpose() - g.S);
}

/// The same gradient as mvn_hand, written as plain loops with no Eigen
/// decomposition, the way a hand-tuned small-k code would be (a stricter
/// baseline at small k, where Eigen's LLT solves carry a fixed cost of
/// packing and blocking): Cholesky row by row (Cholesky–Banachiewicz),
/// a = L^-T L^-1 r by substitution, W = L^-1 row by row, S^-1 = W^T W.
inline void mvn_hand_loops(const Mvn& p, MvnGrad& g) {
  const long k = p.x.size();
  Mat& L = g.llt_loops;
  L.setZero(k, k);
  double logdet = 0;
  for (long i = 0; i < k; ++i) {
    for (long j = 0; j <= i; ++j) {
      double s = p.S(i, j);
      for (long q = 0; q < j; ++q) s -= L(i, q) * L(j, q);
      L(i, j) = i == j ? std::sqrt(s) : s / L(j, j);
    }
    logdet += std::log(L(i, i));
  }
  g.a.resize(k);
  for (long i = 0; i < k; ++i) {  // L y = r
    double s = p.x[i] - p.m[i];
    for (long q = 0; q < i; ++q) s -= L(i, q) * g.a[q];
    g.a[i] = s / L(i, i);
  }
  double quad = 0;
  for (long i = 0; i < k; ++i) quad += g.a[i] * g.a[i];  // r' S^-1 r = |y|^2
  for (long i = k - 1; i >= 0; --i) {  // L' a = y
    double s = g.a[i];
    for (long q = i + 1; q < k; ++q) s -= L(q, i) * g.a[q];
    g.a[i] = s / L(i, i);
  }
  g.value = -0.5 * (quad + 2.0 * logdet);
  g.m = g.a;
  Mat& W = g.w_loops;
  W.setZero(k, k);
  for (long i = 0; i < k; ++i) {
    W(i, i) = 1.0 / L(i, i);
    for (long j = 0; j < i; ++j) {
      double s = 0;
      for (long q = j; q < i; ++q) s -= L(i, q) * W(q, j);
      W(i, j) = s / L(i, i);
    }
  }
  g.S.resize(k, k);
  for (long j = 0; j < k; ++j)
    for (long i = j; i < k; ++i) {
      double s = 0;
      for (long q = i; q < k; ++q) s += W(q, i) * W(q, j);
      g.S(i, j) = g.S(j, i) = 0.5 * (g.a[i] * g.a[j] - s);
    }
}

// ---------------------------------------------------------------- bs
/// The price and its five partials (delta, dC/dK, vega, dC/dT, rho), each
/// written out: N' (d1) S = N' (d2) K e^-rT leaves one density to compute.
inline double bs_hand(double S, double K, double s, double T, double r, double* g) {
  const double sT = std::sqrt(T), d1 = (std::log(S / K) + (r + 0.5 * s * s) * T) / (s * sT), d2 = d1 - s * sT;
  const double N1 = 0.5 * (1 + std::erf(d1 * 0.70710678118654752)), N2 = 0.5 * (1 + std::erf(d2 * 0.70710678118654752));
  const double disc = std::exp(-r * T), pdf1 = std::exp(-0.5 * d1 * d1) * 0.39894228040143268;
  g[0] = N1;
  g[1] = -disc * N2;
  g[2] = S * pdf1 * sT;
  g[3] = S * pdf1 * s / (2 * sT) + r * K * disc * N2;
  g[4] = K * T * disc * N2;
  return S * N1 - K * disc * N2;
}

// ---------------------------------------------------------------- tv
/// One loop of <cmath> calls: f and df/dx per element.
inline double tv_hand(const Vec& x, Vec& g) {
  double f = 0;
  for (long i = 0; i < x.size(); ++i) {
    const double xi = x[i], t = std::tanh(xi), e = std::exp(-xi * xi), s = 1 / (1 + std::exp(-xi));
    const double c = std::cos(xi), sn = std::sin(xi);
    f += t * e + std::log1p(xi * xi) + s * c;
    g[i] = (1 - t * t) * e - 2 * xi * t * e + 2 * xi / (1 + xi * xi) + s * (1 - s) * c - s * sn;
  }
  return f;
}

/// Relative comparison of two gradients; prints the first mismatch.
inline bool close_all(const std::string& what, const double* got, const double* want, long n, double tol = 1e-9) {
  for (long i = 0; i < n; ++i)
    if (!(std::abs(got[i] - want[i]) <= tol * (1 + std::abs(want[i])))) {
      std::fprintf(stderr, "WRONG GRADIENT: %s element %ld: got %.17g, expected %.17g\n", what.c_str(), i, got[i], want[i]);
      return false;
    }
  return true;
}

}  // namespace nw
