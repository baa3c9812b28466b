// tests/static/test_partial_packets.cpp — the last, partial packet of a fused
// pass (detail/tail_packet.hpp, static/packet_pass.hpp), at every length from
// 1 to 40: every remainder of packets of 2, 4, 8 and 16 lanes. Built with
// the build's flags (lane by lane, and mg::grad's one-lane pass), with
// -march=native where the compiler takes it (masked AVX-512 or AVX2
// instructions) and with -mavx2 -mfma where the machine runs them. The fused sweeps are checked against mg::grad of the same
// element on scalars (another engine: no packets at all), a hand-written
// Rosenbrock gradient (through mg::grad's slice pass and through the tape)
// and the op-by-op dynamic graph; and a subexpression that conditions read
// (the fused pass's adjoint bookkeeping at every length).
#define BOOST_TEST_MODULE metagrad_partial_packets
#include "support/check.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <metagrad/detail/tail_packet.hpp>

using namespace mg::literals;

namespace {
constexpr auto x = mg::var<"x">;
constexpr auto c = mg::var<"c">;
// One element of the sums below: transcendental and cheap nodes, a power.
constexpr auto body = mg::exp(x) * mg::sin(x) + mg::pow(x, 3_c) / (1_c + x * x) + mg::tanh(x * c);

template <class T>
Eigen::Matrix<T, Eigen::Dynamic, 1> sample(long n) {
  Eigen::Matrix<T, Eigen::Dynamic, 1> v(n);
  for (long i = 0; i < n; ++i) v[i] = static_cast<T>(1.3 * std::sin(0.7 * static_cast<double>(i) + 0.2));
  return v;
}
template <class T>
bool near(T got, T want, T tol) {
  if (std::isinf(want)) return got == want;
  return std::abs(got - want) <= tol * (1 + std::abs(want));
}
}  // namespace

BOOST_AUTO_TEST_CASE(tail_lanes_load_store_add) {
  auto run = []<class T>(std::type_identity<T>) {
    using Pk = Eigen::Array<T, mg::detail::lanes<T>, 1>;
    constexpr int P = Pk::SizeAtCompileTime;
    BOOST_TEST_MESSAGE("packets of " << P << (sizeof(T) == 4 ? " floats" : " doubles") << ": "
                                     << (mg::detail::native_tail<Pk> ? "masked instructions" : "lane by lane"));
    const T nan = std::numeric_limits<T>::quiet_NaN();
    for (int m = 1; m < P; ++m) {
      const mg::detail::TailLanes<Pk> tail(m);
      T mem[2 * P];
      for (int l = 0; l < 2 * P; ++l) mem[l] = l < m ? T(l + 1) : nan;  // (past m: never read)
      const Pk loaded = tail.load(mem);
      for (int l = 0; l < P; ++l) BOOST_CHECK_EQUAL(loaded[l], T(l < m ? l + 1 : m));
      T out[2 * P];
      for (int l = 0; l < 2 * P; ++l) out[l] = T(-7);
      Pk a;
      for (int l = 0; l < P; ++l) a[l] = T(10 + l);
      tail.store(out, a);
      for (int l = 0; l < 2 * P; ++l) BOOST_CHECK_EQUAL(out[l], l < m ? T(10 + l) : T(-7));
      Pk dead = a;
      for (int l = m; l < P; ++l) dead[l] = l % 2 ? nan : std::numeric_limits<T>::infinity();
      const Pk real = tail.real_only(dead);
      Pk acc;
      for (int l = 0; l < P; ++l) acc[l] = T(1);
      tail.add(acc, dead);
      for (int l = 0; l < P; ++l) {
        BOOST_CHECK_EQUAL(real[l], l < m ? T(10 + l) : T(0));
        BOOST_CHECK_EQUAL(acc[l], l < m ? T(11 + l) : T(1));
      }
    }
  };
  run(std::type_identity<float>{});
  run(std::type_identity<double>{});
}

BOOST_AUTO_TEST_CASE(sums_and_means_at_every_length_match_the_scalar_sweep) {
  auto run = []<class T>(std::type_identity<T>, T tol) {
    const T cv = T(0.7);
    for (long n = 1; n <= 40; ++n) {
      const auto xv = sample<T>(n);
      const auto s = mg::grad(mg::sum(body), x = xv, c = cv);
      const auto m = mg::grad(mg::mean(body), x = xv, c = cv);
      T value = 0, dc = 0;
      for (long i = 0; i < n; ++i) {
        const auto e = mg::grad(body, x = xv[i], c = cv);
        value += e.value;
        dc += e[c];
        BOOST_CHECK_MESSAGE(near(s[x][i], e[x], tol), "n = " << n << ", d/dx[" << i << "]: " << s[x][i] << " against " << e[x]);
        BOOST_CHECK_MESSAGE(near(m[x][i], e[x] / T(n), tol), "n = " << n << ", mean d/dx[" << i << "]");
      }
      BOOST_CHECK_MESSAGE(near(s.value, value, tol), "n = " << n << ", value " << s.value << " against " << value);
      BOOST_CHECK_MESSAGE(near(s[c], dc, tol), "n = " << n << ", d/dc " << s[c] << " against " << dc);
      BOOST_CHECK_MESSAGE(near(m[c], dc / T(n), tol), "n = " << n << ", mean d/dc");
    }
  };
  run(std::type_identity<double>{}, 1e-12);
  run(std::type_identity<float>{}, 2e-5f);
}

// The lanes past the last element repeat it, and their seed is zero: where
// that element overflows, 0 * inf is NaN there, which must not reach the
// sums (the value and d/dc are +inf, not NaN).
BOOST_AUTO_TEST_CASE(an_infinite_last_element_does_not_leak_from_the_dead_lanes) {
  for (long n = 1; n <= 40; ++n) {
    Eigen::VectorXd xv = sample<double>(n);
    xv[n - 1] = 800;  // exp(800) * sin(800) = -inf
    const auto s = mg::grad(mg::sum(mg::exp(x) * c), x = xv, c = 2.0);
    BOOST_CHECK_MESSAGE(std::isinf(s.value) && s.value > 0, "n = " << n << ": value " << s.value);
    BOOST_CHECK_MESSAGE(std::isinf(s[c]) && s[c] > 0, "n = " << n << ": d/dc " << s[c]);
    for (long i = 0; i + 1 < n; ++i) BOOST_CHECK_CLOSE(s[x][i], 2 * std::exp(xv[i]), 1e-12);
  }
}

BOOST_AUTO_TEST_CASE(rosenbrock_through_head_and_tail_at_every_length) {
  for (long n = 2; n <= 40; ++n) {
    const auto f = mg::sum(100_c * mg::pow(mg::tail(x, n - 1) - mg::pow(mg::head(x, n - 1), 2_c), 2_c) +
                           mg::pow(1_c - mg::head(x, n - 1), 2_c));
    const Eigen::VectorXd xv = sample<double>(n);
    Eigen::VectorXd want = Eigen::VectorXd::Zero(n);
    double value = 0;
    for (long i = 0; i + 1 < n; ++i) {
      const double a = xv[i + 1] - xv[i] * xv[i], b = 1 - xv[i];
      value += 100 * a * a + b * b;
      want[i] += -400 * a * xv[i] - 2 * b;
      want[i + 1] += 200 * a;
    }
    auto g = mg::grad(f, x = xv);
    mg::grad_into(g, f, x = xv);  // (again into the same result: slice-only gradients are rewritten whole)
    BOOST_CHECK_MESSAGE(near(g.value, value, 1e-13), "n = " << n << ": value " << g.value << " against " << value);
    for (long i = 0; i < n; ++i)
      BOOST_CHECK_MESSAGE(near(g[x][i], want[i], 1e-13), "n = " << n << ", d/dx[" << i << "]: " << g[x][i] << " against " << want[i]);
    // The same sum under a product goes through the tape, whose slice
    // adjoint buffers the partial packet writes whole.
    const double cv = 0.75;
    auto gt = mg::grad(c * f, x = xv, c = cv);
    mg::grad_into(gt, c * f, x = xv, c = cv);
    BOOST_CHECK_MESSAGE(near(gt.value, cv * value, 1e-13), "n = " << n << ", taped: value " << gt.value);
    BOOST_CHECK_MESSAGE(near(gt[c], value, 1e-13), "n = " << n << ", taped: d/dc " << gt[c] << " against " << value);
    for (long i = 0; i < n; ++i)
      BOOST_CHECK_MESSAGE(near(gt[x][i], cv * want[i], 1e-13),
                          "n = " << n << ", taped: d/dx[" << i << "]: " << gt[x][i] << " against " << cv * want[i]);
  }
}

// The bridge's passes (a static expression on tensors) end on the partial
// packet too: values, kept intermediates and per-element seeds.
BOOST_AUTO_TEST_CASE(bridge_at_every_length_matches_op_by_op) {
  constexpr auto u = mg::var<"u">;
  constexpr auto v = mg::var<"v">;
  constexpr auto f = mg::exp(u) * v + mg::sin(u * v) - mg::sigmoid(u) / (v * v + 1.0);
  for (std::int64_t n = 1; n <= 40; ++n) {
    auto tu = check::values({n}), tv = check::values({n}, 0.3, 1.2);
    mg::Tensor out = f(u = tu, v = tv);
    mg::Tensor ref = mg::exp(tu) * tv + mg::sin(tu * tv) - mg::sigmoid(tu) / (tv * tv + 1.0);
    check::close(out, ref, 1e-14);
    auto w = check::values({n}, -1, 1, false);
    auto g1 = mg::autograd::grad({out}, {tu, tv}, {w});
    auto g2 = mg::autograd::grad({ref}, {tu, tv}, {w});
    check::close(g1[0], g2[0], 1e-13);
    check::close(g1[1], g2[1], 1e-13);
  }
}

// A node read by conditions receives no gradient from them. The fused pass
// assigned a node's first contribution and added the others, counting the
// conditions among the senders: a subexpression shared by a condition and a
// branch (the Huber loss's |r|) was added to an adjoint never written, and
// one read only by a condition sent its unwritten adjoint on — wrong or
// uninitialised gradients, at every length with 4- or 8-lane packets.
BOOST_AUTO_TEST_CASE(subexpressions_shared_with_conditions) {
  const double d = 0.5, m = 0.3;
  constexpr auto y = mg::var<"y">;
  auto expect = [&](const char* name, const auto& e, auto want) {
    for (int n = 1; n <= 40; ++n) {
      Eigen::VectorXd xw(n), yw(n);
      for (int i = 0; i < n; ++i) xw[i] = std::sin(0.37 * i), yw[i] = std::cos(0.21 * i);
      const Eigen::VectorXd& xv = xw;
      const Eigen::VectorXd& yv = yw;
      auto g = mg::grad(e, x = xv, y = yv);
      for (int pass = 0; pass < 2; ++pass) {  // mg::grad, then grad_into over another point's result
        for (int i = 0; i < n; ++i) {
          const auto [gx, gy] = want(xv[i], yv[i]);
          BOOST_TEST_CONTEXT(name << " n=" << n << " i=" << i << " pass " << pass) {
            BOOST_TEST(g[x][i] == gx, boost::test_tools::tolerance(1e-12));
            BOOST_TEST(g[y][i] == gy, boost::test_tools::tolerance(1e-12));
          }
        }
        const Eigen::VectorXd ox = (3.0 - 2.0 * xv.array()).matrix(), oy = 2.0 * yv;
        g = mg::grad(e, x = ox, y = oy);
        mg::grad_into(g, e, x = xv, y = yv);
      }
    }
  };
  using P = std::pair<double, double>;
  const auto r = x - m;
  expect("huber", mg::sum(mg::where(mg::abs(r) <= d, 0.5 * mg::pow(r, 2_c), d * (mg::abs(r) - 0.5 * d)) + y),
        [&](double a, double) { return P{std::clamp(a - m, -d, d), 1.0}; });
  expect("shared branch", mg::sum(mg::where(mg::abs(r) <= d, x * y, 0.5 * mg::abs(r))), [&](double a, double b) {
    return std::abs(a - m) <= d ? P{b, a} : P{a > m ? 0.5 : -0.5, 0.0};
  });
  expect("read by the condition only", mg::sum(mg::where(mg::abs(r) <= d, y * y, 3.0 * y)), [&](double a, double b) {
    return P{0.0, std::abs(a - m) <= d ? 2 * b : 3.0};
  });
  expect("a variable only in the condition", mg::sum(mg::where(x <= d, y, 2.0 * y)),
        [&](double a, double) { return P{0.0, a <= d ? 1.0 : 2.0}; });
}

// The bridge with a number (a 0-d tensor that requires grad) read only by the
// condition: run-time uniform, so it receives its zero once after the loop,
// never a packet store into its one-element buffer (ASan in the native build).
BOOST_AUTO_TEST_CASE(bridge_with_a_number_read_only_by_a_condition) {
  constexpr auto t = mg::var<"t">;
  constexpr auto w = mg::var<"w">;
  constexpr auto f = mg::where(x > t, x * w, 2.0 * w);
  for (long n = 1; n <= 40; ++n) {
    BOOST_TEST_CONTEXT("n=" << n) {
      auto tx = mg::from_eigen(sample<double>(n), mg::requires_grad());
      auto tw = mg::from_eigen(Eigen::VectorXd(sample<double>(n).array() * 0.5 + 1.0), mg::requires_grad());
      auto tt = mg::tensor(0.1, mg::requires_grad());
      mg::Tensor(f(x = tx, t = tt, w = tw)).sum().backward();
      const auto gx = tx.grad().clone(), gw = tw.grad().clone();
      const bool t_zero = !tt.grad().defined() || tt.grad().item() == 0.0;
      BOOST_TEST(t_zero);
      tx.mutable_grad() = mg::Tensor();
      tw.mutable_grad() = mg::Tensor();
      mg::where(tx > tt, tx * tw, 2.0 * tw).sum().backward();
      check::close(gx, tx.grad(), 1e-14);
      check::close(gw, tw.grad(), 1e-14);
    }
  }
}
