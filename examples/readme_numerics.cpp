// README "Numerics cookbook": Newton with mg::hessian, Gauss-Newton with
// mg::jacobian, a stochastic-volatility log-density with mg::scan, and a
// multivariate normal log-density with mg::linalg::solve and mg::logdet.
#include <metagrad/static.hpp>
#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
namespace mg = metagrad;
using namespace mg::literals;

constexpr auto x = mg::var<"x">;
constexpr auto a = mg::var<"a">;
constexpr auto b = mg::var<"b">;
constexpr auto t = mg::var<"t">;
constexpr auto y = mg::var<"y">;
constexpr auto h = mg::var<"h">;
constexpr auto e = mg::var<"e">;
constexpr auto z = mg::var<"z">;
constexpr auto mu = mg::var<"mu">;
constexpr auto phi = mg::var<"phi">;
constexpr auto sigma = mg::var<"sigma">;
constexpr auto m = mg::var<"m">;
constexpr auto S = mg::var<"S">;

int main() {
  // Newton on the Rosenbrock function: x <- x - H^-1 g.
  Eigen::VectorXd v(2);
  v << -1.2, 1.0;
  const auto rosen = mg::sum(100_c * mg::pow(mg::tail(x, 1) - mg::pow(mg::head(x, 1), 2_c), 2_c) +
                             mg::pow(1_c - mg::head(x, 1), 2_c));
  for (int it = 0; it < 20 && mg::grad(rosen, x = v)[x].norm() > 1e-12; ++it)
    v -= mg::hessian(rosen, x = v)[x].ldlt().solve(mg::grad(rosen, x = v)[x]);
  std::printf("Newton: x = (%.6f, %.6f)\n", v[0], v[1]);

  // Gauss-Newton: fit y = a exp(b t) to data; J is the Jacobian of the residuals.
  Eigen::VectorXd tv(20), yv(20);
  for (int i = 0; i < 20; ++i) tv[i] = 0.1 * i, yv[i] = 2.0 * std::exp(-1.3 * tv[i]);
  const auto residual = a * mg::exp(b * t) - y;
  double av = 1.0, bv = 0.0;
  for (int it = 0; it < 20; ++it) {
    const auto J = mg::jacobian(residual, a = av, b = bv, t = mg::data(tv), y = mg::data(yv));
    Eigen::MatrixXd Jm(20, 2);
    Jm << J[a], J[b];
    const Eigen::VectorXd step = (Jm.transpose() * Jm).ldlt().solve(Jm.transpose() * J.value);
    av -= step[0], bv -= step[1];
  }
  std::printf("Gauss-Newton: a = %.6f, b = %.6f\n", av, bv);

  // Stochastic volatility: latent h_t = mu + phi (h_(t-1) - mu) + sigma z_t
  // (a recurrence: mg::scan), observations y_t ~ N(0, exp(h_t)).
  const int n = 100;
  Eigen::VectorXd zv(n), obs(n);
  for (int i = 0; i < n; ++i) zv[i] = 0.5 * std::sin(0.3 * i), obs[i] = 0.8 * std::cos(0.7 * i);
  const auto hs = mg::scan(mu + phi * (h - mu) + sigma * e, h, mu, e, z);
  const auto logp = mg::sum(-0.5 * mg::pow(z, 2_c)) + mg::sum(-0.5 * hs - 0.5 * mg::pow(y, 2_c) * mg::exp(-hs));
  const auto g = mg::grad(logp, z = zv, y = mg::data(obs), mu = -0.5, phi = 0.9, sigma = 0.3);
  std::printf("SV: log p = %.6f, d/dphi = %.6f, |d/dz| = %.6f\n", g.value, g[phi], g[z].norm());

  // Multivariate normal: -0.5 ((x - m)' S^-1 (x - m) + log det S).
  Eigen::MatrixXd Sv(2, 2);
  Sv << 2.0, 0.3, 0.3, 1.0;
  Eigen::VectorXd xv(2), mv(2);
  xv << 1.0, -0.5;
  mv << 0.2, 0.1;
  const auto lp = -0.5 * (mg::dot(x - m, mg::linalg::solve(S, x - m)) + mg::logdet(S));
  const auto gm = mg::grad(lp, x = mg::data(xv), m = mv, S = Sv);
  std::printf("MVN: log p = %.6f, d/dm = (%.6f, %.6f)\n", gm.value, gm[m][0], gm[m][1]);

  const bool ok = std::abs(v[0] - 1) < 1e-9 && std::abs(av - 2) < 1e-9 && std::abs(bv + 1.3) < 1e-9;
  return ok ? 0 : 1;
}
