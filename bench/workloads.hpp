// bench/workloads.hpp — the benchmark workloads shared by every engine: their
// data, their plain value, a hand-written gradient (the physical reference),
// and the cross-check every benchmark runs before timing (a wrong gradient
// makes the whole run fail). Engines live in suite_*.cpp / peer_*.cpp.
//
//   sum       f(x) = sum x_i                               x: n
//   prod      f(x) = prod x_i                              x: n (values near 1)
//   lse       f(x) = log sum exp x_i                       x: n
//   normal    f(x, mu, s) = sum -((x_i - mu)/s)^2/2 - log s
//   matprod   f(A, B) = sum_ij W_ij (A B)_ij               A, B, W: k x k
//   linreg    f(w, b, s) = sum_i -((y_i - X_i w - b)/s)^2/2 - log s   X: n x 8
//   chain     1000 scalar ops y = y * 1.0001 / y = y + 0.5 alternately
//   mlp       mean((W2 tanh(W1 x) - t)^2)                  W1, W2: 64 x 64
//   chain6    sum sqrt(u v + 1) u - v / (u + 2) + u^2       u, v: 1M
// Workloads users bring (issue 18), where the cheap ops above do not decide:
//   sinchain  1000 scalar ops y = y * 1.0001 / y = sin(y) alternately
//   ttchain   1000 and 10,000 ops y = y * w / y = sin(y), w a second leaf (tensor-tensor)
//   mixchain  1000 ops cycling tanh(y), y * w, sigmoid(y), y / w, y + b (w, b leaves)
//   trans     sum exp(u) v + sin(u v)                         u, v: 1M
//   gelu      sum gelu_tanh(X)                                X: 256 x 64
//   classify  cross_entropy(X W^T + b, t), a linear classifier over n classes
//             (softmax along rows of 256 x n logits)        X: 256 x 16, W: n x 16, b: n
//   huber     sum of the Huber loss of x_i - mu (delta 0.5): conditions —
//             where, abs, comparisons — in every engine          x: n
//   unary_f   sum f(x), f = tan, atan, sinh, cosh, softplus, erf: the functions
//             vectorised after the first set, each alone     x: 1M in [-1, 1]
//             and f = pow: x^1.7 (an exponent that is not a small integer or a
//             half: vmath_pow.hpp's kernel)                  x: 1M in [0.5, 2.5]
#pragma once
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace wl {

using Vec = Eigen::VectorXd;
using Mat = Eigen::MatrixXd;
inline constexpr int kFeatures = 8;
inline constexpr int kChainOps = 1000;
inline constexpr int kMlp = 64;
inline constexpr long kChain6 = 1 << 20;
inline constexpr long kTrans = 1 << 20;
inline constexpr long kUnary = 1 << 20;
/// sum f(x) and its gradient, one element at a time with <cmath> (the
/// function chosen once, outside the loop).
template <class F>
double unary_loop(const Vec& x, Vec& g, F f) {
  double s = 0;
  for (long i = 0; i < x.size(); ++i) s += f(x[i], g[i]);
  return s;
}
inline double unary_hand(const std::string& f, const Vec& x, Vec& g) {
  if (f == "tan")
    return unary_loop(x, g, [](double v, double& d) {
      const double t = std::tan(v);
      d = 1 + t * t;
      return t;
    });
  if (f == "atan") return unary_loop(x, g, [](double v, double& d) { return d = 1 / (1 + v * v), std::atan(v); });
  if (f == "sinh") return unary_loop(x, g, [](double v, double& d) { return d = std::cosh(v), std::sinh(v); });
  if (f == "cosh") return unary_loop(x, g, [](double v, double& d) { return d = std::sinh(v), std::cosh(v); });
  if (f == "erf")
    return unary_loop(x, g, [](double v, double& d) { return d = 1.1283791670955126 * std::exp(-v * v), std::erf(v); });
  if (f == "pow") return unary_loop(x, g, [](double v, double& d) { return d = 1.7 * std::pow(v, 0.7), std::pow(v, 1.7); });
  return unary_loop(x, g, [](double v, double& d) {  // softplus, threshold 20
    d = 1 / (1 + std::exp(-v));
    return v > 20 ? v : std::log1p(std::exp(v));
  });
}
inline constexpr long kGeluRows = 256, kGeluCols = 64;
inline constexpr double kW = 1.0001;
inline constexpr long kClassRows = 256, kClassFeatures = 16;

/// Deterministic data: smooth, no zeros, no overflow in prod/exp.
inline Vec data(long n, double phase = 0.0) {
  Vec v(n);
  for (long i = 0; i < n; ++i) v[i] = std::sin(0.37 * static_cast<double>(i) + phase);
  return v;
}
inline Vec near_one(long n) { return (1.0 + 0.01 * data(n).array()).matrix(); }
inline Vec positive(long n, double phase) { return (1.5 + data(n, phase).array()).matrix(); }
/// unary_f's input: in [-1, 1], or [0.5, 2.5] for pow (a real power of a
/// negative number is NaN).
inline Vec unary_data(const std::string& f, long n) { return f == "pow" ? positive(n, 0.2) : data(n, 0.2); }
inline Mat matrix(long r, long c, double phase) {
  Mat m(r, c);
  for (long i = 0; i < r * c; ++i) m.data()[i] = std::sin(0.13 * static_cast<double>(i) + phase);
  return m;
}
inline constexpr double kMu = 0.3, kSigma = 1.7;

/// A gradient as one flat list of numbers (inputs in the order of the table
/// above, matrices column-major) and the value.
struct Result {
  double value = 0;
  std::vector<double> grad;
};
inline void append(Result& r, const double* p, long n) { r.grad.insert(r.grad.end(), p, p + n); }
inline void append(Result& r, double v) { r.grad.push_back(v); }
inline void append(Result& r, const Eigen::Ref<const Mat>& m) {
  for (long c = 0; c < m.cols(); ++c)
    for (long i = 0; i < m.rows(); ++i) r.grad.push_back(m(i, c));
}

// ---------------------------------------------------------- hand-written
// Each is what a careful programmer writes with Eigen: vectorised array
// expressions, divisions by loop invariants hoisted, outputs preallocated.
inline Result sum_hand(const Vec& x, Vec& gx) {
  gx.setOnes();
  return {x.sum(), {}};
}
inline Result prod_hand(const Vec& x, Vec& gx) {
  const double p = x.prod();
  gx = p * x.array().inverse();
  return {p, {}};
}
inline Result lse_hand(const Vec& x, Vec& gx) {
  gx = x.array().exp();
  const double s = gx.sum();
  gx *= 1.0 / s;
  return {std::log(s), {}};
}
/// huber: sum of 0.5 r^2 where |r| <= delta, delta (|r| - delta / 2)
/// elsewhere, r = x - mu. With c = r clamped to [-delta, delta] the loss is
/// c (r - c / 2) and its gradient c: branch-free, vectorised.
inline constexpr double kDelta = 0.5;
inline Result huber_hand(const Vec& x, Vec& gx) {
  const auto r = x.array() - kMu;
  gx = r.max(-kDelta).min(kDelta).matrix();
  return {(gx.array() * (r - 0.5 * gx.array())).sum(), {}};
}
struct Normal { double value, gmu, gs; };
inline Normal normal_hand(const Vec& x, double mu, double s, Vec& gx) {
  const double r = 1.0 / s, n = static_cast<double>(x.size());
  const Eigen::ArrayXd z = (x.array() - mu) * r;
  const double sz = z.sum(), szz = z.square().sum();
  gx = -r * z;
  return {-0.5 * szz - n * std::log(s), sz * r, szz * r - n * r};
}
inline double matprod_hand(const Mat& A, const Mat& B, const Mat& W, Mat& C, Mat& gA, Mat& gB) {
  C.noalias() = A * B;
  gA.noalias() = W * B.transpose();
  gB.noalias() = A.transpose() * W;
  return (W.array() * C.array()).sum();
}
struct LinReg { double value, gb, gs; };
inline LinReg linreg_hand(const Mat& X, const Vec& y, const Vec& w, double b, double s, Vec& gw) {
  const double r = 1.0 / s, ls = std::log(s);
  const Vec z = ((y - X * w).array() - b) * r;
  gw.noalias() = X.transpose() * z * r;
  const double n = static_cast<double>(y.size());
  return {-0.5 * z.squaredNorm() - n * ls, z.sum() * r, z.squaredNorm() * r - n * r};
}
inline double chain_value(double x) {
  for (int i = 0; i < kChainOps; ++i) x = (i % 2) ? x * 1.0001 : x + 0.5;
  return x;
}
inline double chain_hand(double x, double& gx) {
  double d = 1;
  for (int i = 0; i < kChainOps; ++i) {
    if (i % 2) x *= 1.0001, d *= 1.0001;
    else x += 0.5;
  }
  gx = d;
  return x;
}
struct Mlp {
  Mat W1 = matrix(kMlp, kMlp, 0.1) * 0.2, W2 = matrix(kMlp, kMlp, 0.7) * 0.2;
  Vec x = data(kMlp, 0.3), t = data(kMlp, 1.1);
};
inline double mlp_hand(const Mlp& m, Mat& g1, Mat& g2) {
  const Vec h = (m.W1 * m.x).array().tanh().matrix();
  const Vec e = m.W2 * h - m.t;
  const double n = static_cast<double>(e.size());
  const Vec gy = (2.0 / n) * e;
  g2.noalias() = gy * h.transpose();
  const Vec gh = ((m.W2.transpose() * gy).array() * (1.0 - h.array().square())).matrix();
  g1.noalias() = gh * m.x.transpose();
  return e.squaredNorm() / n;
}
inline double chain6_hand(const Vec& u, const Vec& v, Vec& gu, Vec& gv) {
  const auto a = u.array(), b = v.array();
  const Eigen::ArrayXd q = (a * b + 1.0).sqrt(), r = (a + 2.0).inverse(), h = 0.5 / q;
  gu = (q + a * b * h + b * r.square() + 2.0 * a).matrix();
  gv = (a * a * h - r).matrix();
  return (q * a - b * r + a.square()).sum();
}

/// sinchain: x, then (i odd) x * 1.0001 or (i even) sin(x); d/dx by the
/// chain rule along the way.
inline double sinchain_value(double x) {
  for (int i = 0; i < kChainOps; ++i) x = (i % 2) ? x * 1.0001 : std::sin(x);
  return x;
}
inline double sinchain_hand(double x, double& gx) {
  double d = 1;
  for (int i = 0; i < kChainOps; ++i) {
    if (i % 2) x *= 1.0001, d *= 1.0001;
    else d *= std::cos(x), x = std::sin(x);
  }
  gx = d;
  return x;
}
/// ttchain: y = y * w (i odd) or sin(y) (i even); gradients for x and w.
/// Reverse: the adjoint a of y runs backwards; each y * w step adds
/// a * y_before to d/dw. The forward values are kept (one buffer).
inline double ttchain_hand(double x, double w, long n, std::vector<double>& ys, double& gx, double& gw) {
  ys.resize(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    ys[i] = x;
    x = (i % 2) ? x * w : std::sin(x);
  }
  double a = 1, dw = 0;
  for (long i = n - 1; i >= 0; --i) {
    if (i % 2) dw += a * ys[i], a *= w;
    else a *= std::cos(ys[i]);
  }
  gx = a, gw = dw;
  return x;
}
/// mixchain: op i % 5 of tanh, * w, sigmoid, / w, + b; gradients for x, w
/// and b, the forward values kept (one buffer).
inline constexpr double kMixW = 1.3, kMixB = 0.2;
inline double mixchain_hand(double x, long n, std::vector<double>& ys, double& gx, double& gw, double& gb) {
  const double w = kMixW, b = kMixB;
  ys.resize(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    ys[i] = x;
    switch (i % 5) {
      case 0: x = std::tanh(x); break;
      case 1: x = x * w; break;
      case 2: x = 1 / (1 + std::exp(-x)); break;
      case 3: x = x / w; break;
      default: x = x + b;
    }
  }
  double a = 1, dw = 0, db = 0;
  for (long i = n - 1; i >= 0; --i) {
    const double y = ys[i];
    switch (i % 5) {
      case 0: { const double t = std::tanh(y); a *= 1 - t * t; break; }
      case 1: dw += a * y, a *= w; break;
      case 2: { const double s = 1 / (1 + std::exp(-y)); a *= s * (1 - s); break; }
      case 3: dw -= a * y / (w * w), a /= w; break;
      default: db += a;
    }
  }
  gx = a, gw = dw, gb = db;
  return x;
}
/// trans: one loop over u, v (std::exp, std::sin, std::cos per element).
inline double trans_hand(const Vec& u, const Vec& v, Vec& gu, Vec& gv) {
  double s = 0;
  for (Eigen::Index i = 0; i < u.size(); ++i) {
    const double e = std::exp(u[i]), p = u[i] * v[i], c = std::cos(p);
    s += e * v[i] + std::sin(p);
    gu[i] = e * v[i] + c * v[i];
    gv[i] = e + c * u[i];
  }
  return s;
}
/// gelu (tanh form): y = x (1 + tanh(k (x + 0.044715 x^3))) / 2, k = sqrt(2/pi);
/// dy/dx = (1 + t) / 2 + x (1 - t^2) k (1 + 3 0.044715 x^2) / 2.
inline constexpr double kGeluK = 0.7978845608028654, kGeluA = 0.044715;
inline double gelu_hand(const Mat& X, Mat& g) {
  double s = 0;
  for (Eigen::Index i = 0; i < X.size(); ++i) {
    const double x = X.data()[i], t = std::tanh(kGeluK * (x + kGeluA * x * x * x));
    s += 0.5 * x * (1 + t);
    g.data()[i] = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * kGeluK * (1 + 3 * kGeluA * x * x);
  }
  return s;
}

/// classify: a batch X, weights W (n classes) and bias b, target class of
/// row i (7 i) mod n.
struct Classify {
  Mat X, W;
  Vec b;
  std::vector<long> target;
  explicit Classify(long n)
      : X(matrix(kClassRows, kClassFeatures, 0.4)), W(matrix(n, kClassFeatures, 1.3) * 0.5), b(data(n, 0.9) * 0.1),
        target(static_cast<std::size_t>(kClassRows)) {
    for (long i = 0; i < kClassRows; ++i) target[static_cast<std::size_t>(i)] = (7 * i) % n;
  }
};
/// Mean over rows of logsumexp(z_i) - z_i,t_i with z = X W^T + b; the
/// logits' gradient is (softmax(z) - onehot(t)) / rows.
inline double classify_hand(const Classify& c, Mat& gW, Vec& gb) {
  const double rows = static_cast<double>(kClassRows);
  Mat Zt = (c.W * c.X.transpose()).colwise() + c.b;  // one column of logits per row of X
  double loss = 0;
  for (long i = 0; i < kClassRows; ++i) {
    auto z = Zt.col(i).array();
    const long t = c.target[static_cast<std::size_t>(i)];
    const double m = z.maxCoeff(), zt = z(t);
    z = (z - m).exp();
    const double sum = z.sum();
    loss += std::log(sum) + m - zt;
    z /= sum * rows;
    z(t) -= 1.0 / rows;
  }
  gW.noalias() = Zt * c.X;
  gb = Zt.rowwise().sum();
  return loss / rows;
}

// ------------------------------------------------------------ references
/// The hand-written gradient of each workload at size n, flattened.
inline Result reference(const std::string& w, long n) {
  Result r;
  if (w == "huber") {
    const Vec x = data(n);
    Vec g(n);
    r.value = huber_hand(x, g).value;
    append(r, g.data(), n);
  } else if (w == "sum" || w == "prod" || w == "lse") {
    const Vec x = w == "prod" ? near_one(n) : data(n);
    Vec g(n);
    r.value = (w == "sum" ? sum_hand(x, g) : w == "prod" ? prod_hand(x, g) : lse_hand(x, g)).value;
    append(r, g.data(), n);
  } else if (w == "normal") {
    const Vec x = data(n);
    Vec g(n);
    const auto o = normal_hand(x, kMu, kSigma, g);
    r.value = o.value;
    append(r, g.data(), n);
    append(r, o.gmu);
    append(r, o.gs);
  } else if (w == "matprod") {
    const Mat A = matrix(n, n, 0.1), B = matrix(n, n, 0.5), W = matrix(n, n, 0.9);
    Mat C(n, n), gA(n, n), gB(n, n);
    r.value = matprod_hand(A, B, W, C, gA, gB);
    append(r, gA);
    append(r, gB);
  } else if (w == "linreg") {
    const Mat X = matrix(n, kFeatures, 0.2);
    const Vec y = data(n, 0.4), wv = data(kFeatures, 0.6) * 0.5;
    Vec gw(kFeatures);
    const auto o = linreg_hand(X, y, wv, kMu, kSigma, gw);
    r.value = o.value;
    append(r, gw.data(), kFeatures);
    append(r, o.gb);
    append(r, o.gs);
  } else if (w == "chain") {
    double g;
    r.value = chain_hand(1.0, g);
    append(r, g);
  } else if (w == "mlp") {
    Mlp m;
    Mat g1(kMlp, kMlp), g2(kMlp, kMlp);
    r.value = mlp_hand(m, g1, g2);
    append(r, g1);
    append(r, g2);
  } else if (w == "sinchain") {
    double g;
    r.value = sinchain_hand(1.0, g);
    append(r, g);
  } else if (w == "ttchain") {
    std::vector<double> ys;
    double gx, gw;
    r.value = ttchain_hand(1.0, kW, n, ys, gx, gw);
    append(r, gx);
    append(r, gw);
  } else if (w == "mixchain") {
    std::vector<double> ys;
    double gx, gw, gb;
    r.value = mixchain_hand(1.0, n, ys, gx, gw, gb);
    append(r, gx);
    append(r, gw);
    append(r, gb);
  } else if (w == "trans") {
    const Vec u = data(n, 0.2), v = data(n, 0.8);
    Vec gu(n), gv(n);
    r.value = trans_hand(u, v, gu, gv);
    append(r, gu.data(), n);
    append(r, gv.data(), n);
  } else if (w == "gelu") {
    const Mat X = matrix(kGeluRows, kGeluCols, 0.3) * 3.0;
    Mat g(kGeluRows, kGeluCols);
    r.value = gelu_hand(X, g);
    append(r, g);
  } else if (w == "classify") {
    const Classify c(n);
    Mat gW(n, kClassFeatures);
    Vec gb(n);
    r.value = classify_hand(c, gW, gb);
    append(r, gW);
    append(r, gb.data(), n);
  } else if (w.rfind("unary_", 0) == 0) {
    const Vec x = unary_data(w.substr(6), n);
    Vec g(n);
    r.value = unary_hand(w.substr(6), x, g);
    append(r, g.data(), n);
  } else if (w == "chain6") {
    const Vec u = positive(n, 0.2), v = positive(n, 0.8);
    Vec gu(n), gv(n);
    r.value = chain6_hand(u, v, gu, gv);
    append(r, gu.data(), n);
    append(r, gv.data(), n);
  }
  return r;
}

inline bool& failed() {
  static bool f = false;
  return f;
}

/// Compares an engine's result with the reference before timing; on a
/// mismatch the benchmark is marked failed and the run's exit code is 1.
inline bool verify(benchmark::State& st, const std::string& w, long n, const Result& got, double tol = 1e-9) {
  const Result want = reference(w, n);
  auto bad = [&](const std::string& what, double a, double b) {
    char msg[256];
    std::snprintf(msg, sizeof msg, "WRONG GRADIENT: %s n=%ld %s: got %.17g, expected %.17g", w.c_str(), n, what.c_str(), a, b);
    std::fprintf(stderr, "%s\n", msg);
    st.SkipWithError(msg);
    failed() = true;
    return false;
  };
  auto close = [&](double a, double b) { return std::abs(a - b) <= tol * (1 + std::abs(b)); };
  if (!close(got.value, want.value)) return bad("value", got.value, want.value);
  if (got.grad.size() != want.grad.size())
    return bad("gradient size", static_cast<double>(got.grad.size()), static_cast<double>(want.grad.size()));
  for (std::size_t i = 0; i < want.grad.size(); ++i)
    if (!close(got.grad[i], want.grad[i])) return bad("d/d input " + std::to_string(i), got.grad[i], want.grad[i]);
  return true;
}

/// Sizes per workload.
inline const std::vector<long> kVectorSizes = {1, 16, 256, 4096, 16384};
inline const std::vector<long> kMatSizes = {2, 8, 32, 128, 256, 1024};
inline const std::vector<long> kLinRegSizes = {16, 256, 4096, 16384};

}  // namespace wl

/// main(): runs the benchmarks; exits 1 if any cross-check failed.
#define WL_BENCH_MAIN()                                           \
  int main(int argc, char** argv) {                               \
    benchmark::Initialize(&argc, argv);                           \
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1; \
    register_all();                                               \
    benchmark::RunSpecifiedBenchmarks();                          \
    benchmark::Shutdown();                                        \
    return wl::failed() ? 1 : 0;                                  \
  }
