// bench/scalar_workloads.hpp — the workloads of workloads.hpp written once
// over a generic scalar type T, the way a user of an operator-overloading AD
// tool (ADOL-C, Sacado, Eigen AutoDiff, Ceres Jet) writes them. Inputs come
// as one flat vector in the reference order (matrices column-major), and
// `inputs(w, n)` gives those numbers.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "workloads.hpp"

namespace sw {

/// The flat input vector of workload w at size n (the differentiated ones).
inline std::vector<double> inputs(const std::string& w, long n) {
  auto flat = [](const auto& m) { return std::vector<double>(m.data(), m.data() + m.size()); };
  if (w == "sum" || w == "lse") return flat(wl::data(n));
  if (w == "prod") return flat(wl::near_one(n));
  if (w == "normal") {
    auto v = flat(wl::data(n));
    v.push_back(wl::kMu);
    v.push_back(wl::kSigma);
    return v;
  }
  if (w == "matprod") {
    auto v = flat(wl::matrix(n, n, 0.1));
    auto b = flat(wl::matrix(n, n, 0.5));
    v.insert(v.end(), b.begin(), b.end());
    return v;
  }
  if (w == "linreg") {
    auto v = flat(wl::Vec(wl::data(wl::kFeatures, 0.6) * 0.5));
    v.push_back(wl::kMu);
    v.push_back(wl::kSigma);
    return v;
  }
  if (w == "chain") return {1.0};
  if (w == "mlp") {
    wl::Mlp m;
    auto v = flat(m.W1);
    auto b = flat(m.W2);
    v.insert(v.end(), b.begin(), b.end());
    return v;
  }
  return {};
}

/// Constant data some workloads read (not differentiated).
struct Data {
  wl::Mat W, X;
  wl::Vec y;
  wl::Mlp mlp;
  Data(const std::string& w, long n) {
    if (w == "matprod") W = wl::matrix(n, n, 0.9);
    if (w == "linreg") X = wl::matrix(n, wl::kFeatures, 0.2), y = wl::data(n, 0.4);
  }
};

/// f(x) for workload w at size n over scalar type T.
template <class T>
T eval(const std::string& w, long n, const T* x, const Data& d) {
  using std::exp;
  using std::log;
  using std::sqrt;
  using std::tanh;
  if (w == "sum") {
    T s = x[0];
    for (long i = 1; i < n; ++i) s += x[i];
    return s;
  }
  if (w == "prod") {
    T p = x[0];
    for (long i = 1; i < n; ++i) p *= x[i];
    return p;
  }
  if (w == "lse") {
    T s = exp(x[0]);
    for (long i = 1; i < n; ++i) s += exp(x[i]);
    return log(s);
  }
  if (w == "normal") {
    const T& mu = x[n];
    const T& s = x[n + 1];
    const T ls = log(s);
    T v(0.0);
    for (long i = 0; i < n; ++i) {
      const T z = (x[i] - mu) / s;
      v += -0.5 * z * z - ls;
    }
    return v;
  }
  if (w == "matprod") {  // A = x[0..k^2), B = x[k^2..2k^2), column-major
    const T* A = x;
    const T* B = x + n * n;
    T v(0.0);
    for (long j = 0; j < n; ++j)
      for (long i = 0; i < n; ++i) {
        T c = A[i] * B[j * n];
        for (long l = 1; l < n; ++l) c += A[l * n + i] * B[j * n + l];
        v += d.W(i, j) * c;
      }
    return v;
  }
  if (w == "linreg") {
    const T& b = x[wl::kFeatures];
    const T& s = x[wl::kFeatures + 1];
    const T ls = log(s);
    T v(0.0);
    for (long i = 0; i < n; ++i) {
      T p = b;
      for (int k = 0; k < wl::kFeatures; ++k) p += d.X(i, k) * x[k];
      const T z = (d.y[i] - p) / s;
      v += -0.5 * z * z - ls;
    }
    return v;
  }
  if (w == "chain") {
    T y = x[0];
    for (int i = 0; i < wl::kChainOps; ++i) y = (i % 2) ? T(y * 1.0001) : T(y + 0.5);
    return y;
  }
  if (w == "mlp") {
    const long m = wl::kMlp;
    const T* W1 = x;
    const T* W2 = x + m * m;
    std::vector<T> h(m);
    for (long i = 0; i < m; ++i) {
      T a = W1[i] * d.mlp.x[0];
      for (long j = 1; j < m; ++j) a += W1[j * m + i] * d.mlp.x[j];
      h[i] = tanh(a);
    }
    T loss(0.0);
    for (long i = 0; i < m; ++i) {
      T a = W2[i] * h[0];
      for (long j = 1; j < m; ++j) a += W2[j * m + i] * h[j];
      const T e = a - d.mlp.t[i];
      loss += e * e;
    }
    return loss / static_cast<double>(m);
  }
  return T(0.0);
}

/// Where each scalar peer runs (forward mode pays one pass per input).
inline std::vector<std::pair<std::string, long>> cases(bool forward_mode) {
  std::vector<std::pair<std::string, long>> c;
  const long vmax = forward_mode ? 256 : 16384;
  for (const char* w : {"sum", "prod", "lse", "normal"})
    for (long n : wl::kVectorSizes)
      if (n <= vmax) c.emplace_back(w, n);
  for (long k : wl::kMatSizes)
    if (k <= (forward_mode ? 8 : 32)) c.emplace_back("matprod", k);
  for (long n : wl::kLinRegSizes) c.emplace_back("linreg", n);
  c.emplace_back("chain", wl::kChainOps);
  if (!forward_mode) c.emplace_back("mlp", wl::kMlp);
  return c;
}

}  // namespace sw
