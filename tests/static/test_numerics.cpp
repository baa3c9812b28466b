// tests/static/test_numerics.cpp — static mode for numerics programs: vector
// parts (x[i], head, tail, segment), mg::scan, mg::jacobian / mg::hessian /
// mg::hvp, and static linear algebra; gradients against hand-written ones or
// central finite differences. (The table's rows: tests/rules/.)
#include <boost/test/unit_test.hpp>
#include <metagrad/static.hpp>

#include "reference/ops_r2.hpp"
#include "support/finite_difference.hpp"

#include <Eigen/Dense>
#include <cmath>
#include <thread>
#include <vector>


namespace mg = metagrad;
using namespace mg::literals;

namespace {
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;
constexpr auto h = mg::var<"h">;
constexpr auto e = mg::var<"e">;
constexpr auto p = mg::var<"p">;
constexpr auto m = mg::var<"m">;
constexpr auto S = mg::var<"S">;

Eigen::VectorXd vec(std::initializer_list<double> v) {
  Eigen::VectorXd r(static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double a : v) r[i++] = a;
  return r;
}
void check_close(double a, double b, double tol = 1e-10) {
  BOOST_CHECK_MESSAGE(std::abs(a - b) <= tol * (1 + std::abs(b)), "got " << a << ", expected " << b);
}
using check::central_difference;
}  // namespace

BOOST_AUTO_TEST_SUITE(static_indexing)

// (2048 and beyond: the fused pass runs in blocks of detail::sweep_block
// elements, adding the slices' adjoints after each; a row vector too)
BOOST_AUTO_TEST_CASE(rosenbrock_through_head_and_tail) {
  for (int n : {2, 5, 1000, 2048, 2049, 4109}) {
    Eigen::VectorXd v(n);
    for (int i = 0; i < n; ++i) v[i] = 1.2 * std::sin(0.7 * i + 0.3);
    const auto f = mg::sum(100_c * mg::pow(mg::tail(x, n - 1) - mg::pow(mg::head(x, n - 1), 2_c), 2_c) +
                           mg::pow(1_c - mg::head(x, n - 1), 2_c));
    auto g = mg::grad(f, x = v);
    double value = 0;
    for (int i = 0; i + 1 < n; ++i) value += 100 * std::pow(v[i + 1] - v[i] * v[i], 2) + std::pow(1 - v[i], 2);
    check_close(g.value, value, 1e-12);
    for (int i = 0; i < n; ++i) {
      double gi = 0;
      if (i < n - 1) gi += -400 * v[i] * (v[i + 1] - v[i] * v[i]) - 2 * (1 - v[i]);
      if (i > 0) gi += 200 * (v[i] - v[i - 1] * v[i - 1]);
      check_close(g[x][i], gi, 1e-12);
    }
    mg::grad_into(g, f, x = v);  // again into the same result
    check_close(g[x][n - 1], 200 * (v[n - 1] - v[n - 2] * v[n - 2]), 1e-12);
    const Eigen::RowVectorXd row = v.transpose();
    const auto gr = mg::grad(f, x = row);
    BOOST_REQUIRE_EQUAL(gr[x].rows(), 1);
    for (int i = 0; i < n; ++i) check_close(gr[x](0, i), g[x][i], 1e-14);
  }
}

BOOST_AUTO_TEST_CASE(elements_and_segments) {
  const Eigen::VectorXd v = vec({-1.2, 1.0, 0.5, 0.8, 1.1});
  const auto g = mg::grad(x[2] * x[3] + mg::sin(x[0]), x = v);
  check_close(g[x][3], v[2]);
  check_close(g[x][2], v[3]);
  check_close(g[x][0], std::cos(v[0]));
  check_close(g[x][1], 0);
  BOOST_CHECK_EQUAL(mg::to_string(x[2] * x[3]), "x[2] * x[3]");
  const auto s = mg::grad(mg::sum(mg::segment(x, 1, 3) * mg::segment(x, 2, 3)), x = v);
  const double want[] = {0, v[2], v[1] + v[3], v[2] + v[4], v[3]};
  for (int i = 0; i < 5; ++i) check_close(s[x][i], want[i]);
  // the symbolic derivative of a part is the part of the derivative
  BOOST_CHECK_EQUAL(mg::to_string(mg::d(x[2] * y, y)), "x[2]");
  check_close(mg::d(mg::sum(mg::head(x, 2) * y), y)(x = v, y = 3.0), v[0] + v[1]);
}

// Inside a sum, a slice of a bound vector is read in place and its adjoint
// added into the vector's gradient (no node of its own): every way a slice can
// meet its vector, checked against central differences of mg::eval.
BOOST_AUTO_TEST_CASE(slices_inside_fused_sums) {
  auto check = [](const auto& f, const auto& v, const char* what) {
    BOOST_TEST_CONTEXT(what) {
      auto g = mg::grad(f, x = v);
      check_close(g.value, mg::eval(f, x = v), 1e-12);
      for (int round = 0; round < 2; ++round) {  // mg::grad, then mg::grad_into
        for (Eigen::Index i = 0; i < v.size(); ++i) {
          Eigen::VectorXd w = v;
          check_close(g[x](i), central_difference([&](const Eigen::VectorXd& u) { return mg::eval(f, x = u); }, w, i), 1e-6);
        }
        mg::grad_into(g, f, x = v);
      }
    }
  };
  for (int n : {1, 3, 8, 9, 17, 40}) {
    Eigen::VectorXd v(n);
    for (int i = 0; i < n; ++i) v[i] = 0.8 * std::sin(0.9 * i + 0.2);
    const long k = n > 1 ? n - 1 : 1, s = n > 1 ? 1 : 0;
    // read directly and through slices in one pass
    check(mg::sum(mg::head(x, n) * x + mg::sin(mg::tail(x, n)) * x), v, "direct and slices");
    // two slices of one vector, one of them twice (distinct counts)
    check(mg::sum(mg::head(x, k) * mg::tail(x, k) + mg::exp(mg::head(x, k))), v, "head and tail");
    // a segment (a slice of a slice), and mean
    check(mg::mean(mg::pow(mg::segment(x, s, k) - 0.5, 2_c)), v, "segment, mean");
    // the vector also read elsewhere: the reduction's derivative is scaled
    check(mg::sum(mg::head(x, k) * mg::tail(x, k)) * mg::sum(mg::cos(x)) + x[0], v, "shared with other nodes");
  }
  // a slice of a vector bound with mg::data, and of a row vector
  const Eigen::VectorXd d = vec({1.0, 2.0, 3.0, 4.0});
  const Eigen::VectorXd v = vec({0.3, -0.7, 1.1, 0.4});
  const auto gd = mg::grad(mg::sum(mg::tail(y, 3) * mg::head(x, 3)), x = v, y = mg::data(d));
  for (int i = 0; i < 3; ++i) check_close(gd[x][i], d[i + 1]);
  check_close(gd[x][3], 0);
  Eigen::RowVectorXd r = v.transpose();
  const auto gr = mg::grad(mg::sum(mg::head(x, 3) * mg::tail(x, 3)), x = r);
  BOOST_CHECK_EQUAL(gr[x].rows(), 1);
  check_close(gr[x][0], v[1]);
  check_close(gr[x][3], v[2]);
  // a strided vector (copied once into contiguous memory) and float
  const Eigen::Map<const Eigen::VectorXd, 0, Eigen::InnerStride<2>> strided(d.data(), 2);
  const auto gs = mg::grad(mg::sum(mg::tail(x, 1) * mg::head(x, 1)), x = strided);
  check_close(gs[x][0], d[2]);
  check_close(gs[x][1], d[0]);
  const Eigen::VectorXf vf = v.cast<float>();
  const auto gf = mg::grad(mg::sum(mg::pow(mg::tail(x, 3) - mg::head(x, 3), 2_c)), x = vf);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(gf[x])>, Eigen::VectorXf>);
  BOOST_CHECK_CLOSE(gf[x][0], -2.0f * (vf[1] - vf[0]), 1e-4);
  // sizes change between calls of grad_into: the spans follow
  auto gi = mg::grad(mg::sum(mg::head(x, 2) * mg::tail(x, 2)), x = v);
  const Eigen::VectorXd v3 = vec({1.0, 2.0, 3.0});
  mg::grad_into(gi, mg::sum(mg::head(x, 2) * mg::tail(x, 2)), x = v3);
  BOOST_CHECK_EQUAL(gi[x].size(), 3);
  check_close(gi[x][0], 2.0);
  check_close(gi[x][1], 3.0 + 1.0);
  check_close(gi[x][2], 2.0);
}

// A sum whose only frontiers are slices of bound vectors needs no tape
// (mg::grad's slice pass): a short one writes each sliced gradient whole, a
// long one adds block by block. Both against the tape (the same sum times a
// run-time 1.0, which is not a lone fused reduction) at every size around the
// thresholds, two variables sliced, one of them also read directly, and
// mg::grad_into going from long to short and back.
BOOST_AUTO_TEST_CASE(slice_pass_agrees_with_the_tape) {
  constexpr auto z = mg::var<"z">;
  const double one = 1.0;
  for (long n : {1L, 2L, 9L, 10L, 255L, 256L, 257L, 258L, 2048L, 2049L, 2050L, 5000L}) {
    BOOST_TEST_CONTEXT("n = " << n) {
      Eigen::VectorXd xv(n + 1), yv(n + 2), zv(n);
      for (long i = 0; i <= n + 1; ++i) {
        if (i <= n) xv[i] = 0.9 * std::sin(0.37 * i + 0.4);
        yv[i] = std::cos(0.23 * i);
        if (i < n) zv[i] = 0.5 + 0.1 * std::sin(1.3 * i);
      }
      const auto f = mg::sum(100_c * mg::pow(mg::tail(x, n) - mg::pow(mg::head(x, n), 2_c), 2_c) +
                             mg::segment(y, 1, n) * mg::head(x, n) * z + mg::exp(mg::tail(y, n)) * mg::head(y, n));
      const auto g = mg::grad(f, x = xv, y = yv, z = zv);
      const auto t = mg::grad(f * one, x = xv, y = yv, z = zv);
      check_close(g.value, t.value, 1e-14);
      for (long i = 0; i <= n; ++i) check_close(g[x][i], t[x][i], 1e-14);
      for (long i = 0; i <= n + 1; ++i) check_close(g[y][i], t[y][i], 1e-14);
      for (long i = 0; i < n; ++i) check_close(g[z][i], t[z][i], 1e-14);
      const auto gm = mg::grad(mg::mean(mg::head(x, n) * mg::tail(x, n)), x = xv);
      const auto tm = mg::grad(mg::mean(mg::head(x, n) * mg::tail(x, n)) * one, x = xv);
      for (long i = 0; i <= n; ++i) check_close(gm[x][i], tm[x][i], 1e-14);
    }
  }
  // a row vector's slices are rows: beside a row binding, on both paths (the
  // tape is taken when a frontier is not a slice: times a run-time 1.0)
  constexpr auto w = mg::var<"w">;
  const Eigen::RowVectorXd xr = (Eigen::RowVectorXd(4) << 0.3, -0.7, 1.1, 0.4).finished();
  const Eigen::RowVectorXd wr = (Eigen::RowVectorXd(3) << 2.0, -1.5, 0.25).finished();
  const auto f_row = mg::sum(mg::head(x, 3) * w + mg::tail(x, 3));
  const auto g_row = mg::grad(f_row, x = xr, w = wr);
  const auto t_row = mg::grad(f_row * one, x = xr, w = wr);
  for (const auto* r : {&g_row, &t_row}) {
    BOOST_REQUIRE_EQUAL((*r)[x].rows(), 1);
    BOOST_REQUIRE_EQUAL((*r)[x].cols(), 4);
    check_close(r->value, xr.head(3).dot(wr) + xr.tail(3).sum(), 1e-15);
    for (long i = 0; i < 4; ++i) check_close((*r)[x][i], (i < 3 ? wr[i] : 0.0) + (i > 0 ? 1.0 : 0.0), 1e-15);
    for (long i = 0; i < 3; ++i) check_close((*r)[w][i], xr[i], 1e-15);
  }
  // one result through sizes on both sides of the short-pass threshold
  const auto rosen = [](long n) {
    return mg::sum(100_c * mg::pow(mg::tail(x, n - 1) - mg::pow(mg::head(x, n - 1), 2_c), 2_c) +
                   mg::pow(1_c - mg::head(x, n - 1), 2_c));
  };
  const Eigen::VectorXd start = Eigen::VectorXd::Constant(300, 0.5);
  auto r = mg::grad(rosen(300), x = start);
  for (long n : {10L, 300L, 3L, 4000L, 12L}) {
    Eigen::VectorXd v(n);
    for (long i = 0; i < n; ++i) v[i] = 1.1 * std::cos(0.5 * i);
    mg::grad_into(r, rosen(n), x = v);
    const auto fresh = mg::grad(rosen(n) * one, x = v);
    BOOST_REQUIRE_EQUAL(r[x].size(), n);
    check_close(r.value, fresh.value, 1e-14);
    for (long i = 0; i < n; ++i) check_close(r[x][i], fresh[x][i], 1e-14);
  }
}

// A short sum of cheap nodes over slices (at most 16 elements: slices.hpp's
// scatter_max) runs one element at a time, each slice's adjoint added in place
// into its variable's gradient, which starts at zero (a ScatterPass). Against
// the tape at every length around the threshold: two variables sliced, one of
// them also read directly, a third read only directly, the mean; gradients
// around the longest one zeroed that way (64), where a short pass goes the
// blockwise way again; float; mg::grad_into from long to short and back; and
// hvp, whose dual numbers take the same pass.
BOOST_AUTO_TEST_CASE(short_slice_passes_add_in_place) {
  constexpr auto z = mg::var<"z">;
  constexpr auto w = mg::var<"w">;
  const double one = 1.0;
  auto close_all = [](const auto& a, const auto& b, double tol) {
    BOOST_REQUIRE_EQUAL(a.size(), b.size());
    for (Eigen::Index i = 0; i < a.size(); ++i) check_close(a[i], b[i], tol);
  };
  for (long n = 1; n <= 20; ++n) {
    BOOST_TEST_CONTEXT("n = " << n) {
      Eigen::VectorXd xv(n + 1), yv(n + 2), zv(n), wv(n);
      for (long i = 0; i <= n + 1; ++i) {
        if (i <= n) xv[i] = 0.9 * std::sin(0.37 * i + 0.4);
        yv[i] = std::cos(0.23 * i);
        if (i < n) zv[i] = 0.5 + 0.1 * std::sin(1.3 * i), wv[i] = -0.3 + 0.07 * i;
      }
      const auto f = mg::sum(100_c * mg::pow(mg::tail(x, n) - mg::pow(mg::head(x, n), 2_c), 2_c) +
                             mg::segment(y, 1, n) * mg::head(x, n) * z + mg::tail(y, n) * mg::head(y, n) +
                             mg::head(w, n) * w * z);
      auto g = mg::grad(f, x = xv, y = yv, z = zv, w = wv);
      const auto t = mg::grad(f * one, x = xv, y = yv, z = zv, w = wv);
      for (int round = 0; round < 2; ++round) {  // mg::grad, then mg::grad_into over the same result
        check_close(g.value, t.value, 1e-13);
        close_all(g[x], t[x], 1e-13);
        close_all(g[y], t[y], 1e-13);
        close_all(g[z], t[z], 1e-13);
        close_all(g[w], t[w], 1e-13);
        mg::grad_into(g, f, x = xv, y = yv, z = zv, w = wv);
      }
      const auto gm = mg::grad(mg::mean(mg::head(x, n) * mg::tail(x, n)), x = xv);
      const auto tm = mg::grad(mg::mean(mg::head(x, n) * mg::tail(x, n)) * one, x = xv);
      check_close(gm.value, tm.value, 1e-14);
      close_all(gm[x], tm[x], 1e-14);
      const Eigen::VectorXf xf = xv.cast<float>();
      const auto gf = mg::grad(mg::sum(mg::pow(mg::tail(x, n) - mg::head(x, n), 2_c)), x = xf);
      for (long i = 0; i <= n; ++i) {
        const float left = i > 0 ? 2 * (xf[i] - xf[i - 1]) : 0.0f, right = i < n ? -2 * (xf[i + 1] - xf[i]) : 0.0f;
        BOOST_CHECK_SMALL(gf[x][i] - (left + right), 1e-5f);
      }
      // hvp: H u against central differences of the gradient
      Eigen::VectorXd u(n + 1);
      for (long i = 0; i <= n; ++i) u[i] = 0.5 - 0.11 * i;
      const auto rosen = mg::sum(100_c * mg::pow(mg::tail(x, n) - mg::pow(mg::head(x, n), 2_c), 2_c) +
                                 mg::pow(1_c - mg::head(x, n), 2_c));
      const Eigen::VectorXd hv = mg::hvp(rosen, u, x = xv)[x];
      const double step = 1e-6;
      const Eigen::VectorXd up = mg::grad(rosen, x = Eigen::VectorXd(xv + step * u))[x];
      const Eigen::VectorXd down = mg::grad(rosen, x = Eigen::VectorXd(xv - step * u))[x];
      close_all(hv, Eigen::VectorXd((up - down) / (2 * step)), 1e-5);
    }
  }
  // a short pass over long gradients: zeroed in place up to 64 elements,
  // beyond that the blockwise way; the elements no slice reads stay zero
  for (long size : {4L, 62L, 63L, 64L, 65L, 66L, 200L}) {
    BOOST_TEST_CONTEXT("size = " << size) {
      Eigen::VectorXd xv(size);
      for (long i = 0; i < size; ++i) xv[i] = 1.0 + 0.01 * i;
      const auto f = mg::sum(mg::head(x, 3) * mg::tail(x, 3) + mg::segment(x, 1, 3));
      auto g = mg::grad(f, x = xv);
      for (int round = 0; round < 2; ++round) {
        Eigen::VectorXd want = Eigen::VectorXd::Zero(size);
        for (long i = 0; i < 3; ++i) {
          want[i] += xv[size - 3 + i];
          want[size - 3 + i] += xv[i];
          want[1 + i] += 1;
        }
        close_all(g[x], want, 1e-15);
        xv *= 1.5;
        mg::grad_into(g, f, x = xv);
      }
    }
  }
  // one result, long and short passes in turn
  const auto rosen = [](long n) {
    return mg::sum(100_c * mg::pow(mg::tail(x, n - 1) - mg::pow(mg::head(x, n - 1), 2_c), 2_c) +
                   mg::pow(1_c - mg::head(x, n - 1), 2_c));
  };
  const Eigen::VectorXd start = Eigen::VectorXd::Constant(40, 0.5);
  auto r = mg::grad(rosen(40), x = start);
  for (long n : {5L, 40L, 17L, 16L, 2L, 300L, 9L}) {
    Eigen::VectorXd v(n);
    for (long i = 0; i < n; ++i) v[i] = 1.1 * std::cos(0.5 * i);
    mg::grad_into(r, rosen(n), x = v);
    const auto fresh = mg::grad(rosen(n) * one, x = v);
    check_close(r.value, fresh.value, 1e-14);
    close_all(r[x], fresh[x], 1e-14);
  }
}

BOOST_AUTO_TEST_CASE(parts_out_of_range_throw) {
  const Eigen::VectorXd v = vec({1, 2, 3});
  auto expect = [](auto&& fn, const char* phrase) {
    try {
      fn();
      BOOST_ERROR("no exception");
    } catch (const mg::Error& err) {
      BOOST_CHECK_MESSAGE(std::string(err.what()).find(phrase) != std::string::npos, err.what());
    }
  };
  expect([&] { (void)mg::grad(mg::sum(mg::head(x, 4)), x = v); }, "head: 4 elements asked of a vector of size 3 (variable x)");
  expect([&] { (void)mg::grad(x[3], x = v); }, "index 3 is out of bounds for dimension 0 with size 3 (index) (variable x)");
  expect([&] { (void)mg::eval(x[5] + 1.0, x = v); }, "index 5 is out of bounds for dimension 0 with size 3 (index) (variable x)");
  expect([&] { (void)mg::eval(mg::sum(mg::tail(x, -1)), x = v); }, "tail");
  // inside a fused sum (slices read in place)
  expect([&] { (void)mg::grad(mg::sum(mg::head(x, 4) * 2.0), x = v); },
         "head: 4 elements asked of a vector of size 3 (variable x)");
  expect([&] { (void)mg::grad(mg::sum(mg::segment(x, 1, 3) * 2.0), x = v); },
         "head: 3 elements asked of a vector of size 2 (variable x)");
  expect([&] { (void)mg::grad(mg::sum(mg::head(x, 2) * mg::tail(x, 1)), x = v); },
         "elementwise operands of different shapes (2x1 and 1x1)");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(static_scan)

BOOST_AUTO_TEST_CASE(ar1_recurrence_gradients) {
  const Eigen::VectorXd v = vec({-1.2, 1.0, 0.5, 0.8, 1.1});
  const int n = 5;
  const auto f = mg::sum(mg::pow(mg::scan(0.9 * h + e, h, 0.5, e, x), 2_c));
  const auto g = mg::grad(f, x = v);
  std::vector<double> c(n + 1, 0.5);
  double value = 0;
  for (int t = 1; t <= n; ++t) c[t] = 0.9 * c[t - 1] + v[t - 1], value += c[t] * c[t];
  check_close(g.value, value);
  check_close(f(x = v), value);
  for (int t = 1; t <= n; ++t) {
    double want = 0, w = 1;
    for (int s = t; s <= n; ++s, w *= 0.9) want += 2 * c[s] * w;
    check_close(g[x][t - 1], want);
  }
  BOOST_CHECK_EQUAL(mg::to_string(mg::scan(0.9 * h + e, h, 0.5, e, x)), "scan(0.9 * h + e, h, 0.5, e, x)");
}

BOOST_AUTO_TEST_CASE(outer_variables_and_init_get_gradients) {
  const Eigen::VectorXd v = vec({0.3, -0.7, 1.1, 0.2});
  const auto f = mg::sum(mg::scan(p * mg::tanh(h) + e * e, h, 2_c * p, e, x) * x);
  const auto g = mg::grad(f, x = v, p = 0.7);
  const double step = 1e-6;
  check_close(g[p], (f(x = v, p = 0.7 + step) - f(x = v, p = 0.7 - step)) / (2 * step), 1e-7);
  for (int i = 0; i < 4; ++i) check_close(g[x][i], central_difference([&](const Eigen::VectorXd& w) { return f(x = w, p = 0.7); }, v, i), 1e-7);
}

BOOST_AUTO_TEST_CASE(empty_and_long_series) {
  const Eigen::VectorXd none(0);
  BOOST_CHECK_EQUAL(mg::scan(h + e, h, 1.0, e, x)(x = none).size(), 0);
  BOOST_CHECK_EQUAL(mg::grad(mg::sum(mg::scan(h + e, h, 1.0, e, x)), x = none).value, 0.0);
  const Eigen::VectorXd big = Eigen::VectorXd::Constant(1000000, 1e-3);
  const auto g = mg::grad(mg::sum(mg::scan(0.5 * h + e, h, 0.0, e, x)), x = big);
  check_close(g[x][999999], 1.0);
  check_close(g[x][0], 2.0, 1e-9);  // sum of 0.5^k
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(static_second_order)

BOOST_AUTO_TEST_CASE(jacobian_blocks) {
  const Eigen::VectorXd v = vec({-1.2, 1.0, 0.5, 0.8, 1.1});
  const auto J = mg::jacobian(mg::sin(x) * y, x = v, y = 2.0);
  BOOST_CHECK_EQUAL(J[x].rows(), 5);
  BOOST_CHECK_EQUAL(J[x].cols(), 5);
  BOOST_CHECK_EQUAL(J[y].cols(), 1);
  for (int i = 0; i < 5; ++i) {
    check_close(J.value[i], 2 * std::sin(v[i]));
    check_close(J[y](i, 0), std::sin(v[i]));
    for (int j = 0; j < 5; ++j) check_close(J[x](i, j), i == j ? 2 * std::cos(v[i]) : 0.0);
  }
  // reductions inside a vector expression: x * sum(exp(x))
  const auto K = mg::jacobian(x * mg::sum(mg::exp(x)), x = v);
  const double s = v.array().exp().sum();
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) check_close(K[x](i, j), (i == j ? s : 0.0) + v[i] * std::exp(v[j]));
}

BOOST_AUTO_TEST_CASE(hessian_blocks_and_hvp) {
  const Eigen::VectorXd v = vec({-1.2, 1.0, 0.5, 0.8, 1.1});
  const auto f = mg::sum(mg::pow(x, 3_c)) * y + mg::sin(y) * x[0];
  const auto H = mg::hessian(f, x = v, y = 2.0);
  for (int i = 0; i < 5; ++i) {
    check_close(H[x](i, i), 12 * v[i]);
    check_close(H(x, y)(i, 0), 3 * v[i] * v[i] + (i == 0 ? std::cos(2.0) : 0.0));
    check_close(H(y, x)(0, i), H(x, y)(i, 0));
  }
  check_close(H[y](0, 0), -std::sin(2.0) * v[0]);
  check_close(H[x](1, 2), 0);
  check_close(H.value, f(x = v, y = 2.0));
  const Eigen::VectorXd dir = vec({1, -1, 0.5, 2, 0});
  const auto hv = mg::hvp(f, dir, x = v, y = 2.0);
  for (int i = 0; i < 5; ++i) check_close(hv[x][i], 12 * v[i] * dir[i]);
  check_close(hv[y], (H(y, x) * dir)(0, 0));
  check_close(hv.value, H.value);
  check_close(std::get<0>(hv.gradient)[1], 6 * v[1] * v[1]);
}

BOOST_AUTO_TEST_CASE(hessian_of_a_50_dimensional_function_is_symmetric_and_matches_hvps) {
  Eigen::VectorXd v(50);
  for (int i = 0; i < 50; ++i) v[i] = 0.8 * std::cos(0.37 * i);
  const auto f = mg::sum(100_c * mg::pow(mg::tail(x, 49) - mg::pow(mg::head(x, 49), 2_c), 2_c) +
                         mg::pow(1_c - mg::head(x, 49), 2_c)) + mg::sum(mg::exp(0.1 * x) * mg::sin(x));
  const auto H = mg::hessian(f, x = v);
  BOOST_CHECK_EQUAL((H[x] - H[x].transpose()).norm(), 0.0);
  auto grad_at = [&](const Eigen::VectorXd& w) { return Eigen::VectorXd(mg::grad(f, x = w)[x]); };
  for (int k : {0, 17, 49}) {
    const Eigen::VectorXd unit = Eigen::VectorXd::Unit(50, k);
    const Eigen::VectorXd hv = mg::hvp(f, unit, x = v)[x];
    const double step = 1e-6;
    const Eigen::VectorXd column = (grad_at(v + step * unit) - grad_at(v - step * unit)) / (2 * step);
    for (int i = 0; i < 50; ++i) {
      check_close(H[x](i, k), hv[i], 1e-12);
      check_close(H[x](i, k), column[i], 1e-6);
    }
  }
}

// pow with a constant exponent runs in dual packets too (detail/dual_packet.hpp):
// f = sum(x^2.5 y + x^11), (H u)_x = (3.75 x^0.5 y + 110 x^9) u, (H u)_y = 2.5 x^1.5 u.
BOOST_AUTO_TEST_CASE(hvp_through_pow_with_a_constant_exponent) {
  for (int n : {19, 1, 8}) {
    Eigen::VectorXd v(n), w(n), u(n);
    for (int i = 0; i < n; ++i) v[i] = 0.6 + 0.05 * i, w[i] = 1.2 - 0.03 * i, u[i] = 0.4 + 0.1 * i;
    const auto f = mg::sum(mg::pow(x, 2.5) * y + mg::pow(x, 11_c));
    const auto hv = mg::hvp(f, u, x = v, y = w);
    const auto hf = mg::hvp(f, u.cast<float>().eval(), x = v.cast<float>().eval(), y = w.cast<float>().eval());
    for (int i = 0; i < n; ++i) {
      const double hx = (3.75 * std::sqrt(v[i]) * w[i] + 110 * std::pow(v[i], 9)) * u[i];
      check_close(hv[x][i], hx, 1e-13);
      check_close(hf[x][i], hx, 2e-5);
      check_close(hv[y][i], 2.5 * std::pow(v[i], 1.5) * u[i], 1e-13);
      check_close(std::get<0>(hv.gradient)[i], 2.5 * std::pow(v[i], 1.5) * w[i] + 11 * std::pow(v[i], 10), 1e-13);
    }
  }
}

// Dual sweeps keep their buffers per thread and expression type
// (static/hessian.hpp): results handed out earlier stay intact, bindings may
// change size between calls, and each thread has its own state.
BOOST_AUTO_TEST_CASE(repeated_hvps_of_changing_sizes_and_threads) {
  const auto f = mg::sum(mg::exp(x) * y);
  auto expected = [](const Eigen::VectorXd& v, double w, const Eigen::VectorXd& u) {
    return Eigen::VectorXd((v.array().exp() * w * u.array()).matrix());
  };
  std::vector<Eigen::VectorXd> kept;
  for (int n : {5, 3, 19, 1, 8}) {
    Eigen::VectorXd v(n), u(n);
    for (int i = 0; i < n; ++i) v[i] = 0.1 * i - 0.3, u[i] = 1.0 - 0.2 * i;
    const auto hv = mg::hvp(f, u, x = v, y = 1.5);
    BOOST_REQUIRE_EQUAL(hv[x].size(), n);
    const Eigen::VectorXd want = expected(v, 1.5, u);
    for (int i = 0; i < n; ++i) check_close(hv[x][i], want[i], 1e-14);
    check_close(hv[y], (v.array().exp() * u.array()).sum(), 1e-14);
    kept.push_back(hv[x]);
  }
  check_close(kept[0][4], std::exp(0.1) * 1.5 * 0.2, 1e-14);
  // A sweep that throws part-way (a slice beyond its vector) leaves the kept
  // state usable: the next call of the same types is right.
  const auto g = mg::sum(mg::exp(mg::head(x, 3)) * y);
  const Eigen::VectorXd two = Eigen::VectorXd::Constant(2, 0.5), four = Eigen::VectorXd::Constant(4, 0.5);
  BOOST_CHECK_THROW(mg::hvp(g, two, x = two, y = 1.5), mg::Error);
  const auto after = mg::hvp(g, four, x = four, y = 1.5);
  for (int i = 0; i < 4; ++i) check_close(after[x][i], i < 3 ? std::exp(0.5) * 1.5 * 0.5 : 0.0, 1e-14);
  std::vector<double> from_threads(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      double acc = 0;
      for (int k = 0; k < 200; ++k) {
        Eigen::VectorXd v = Eigen::VectorXd::Constant(7 + t, 0.25), u = Eigen::VectorXd::Ones(7 + t);
        acc += mg::hvp(f, u, x = v, y = 2.0)[x].sum();
      }
      from_threads[t] = acc;
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 2; ++t) check_close(from_threads[t], 200 * (7 + t) * std::exp(0.25) * 2.0, 1e-12);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(static_linalg)

BOOST_AUTO_TEST_CASE(multivariate_normal_log_density) {
  // (16 and 17: either side of the factorisation's own small Cholesky loops)
  for (int k : {2, 5, 16, 17}) {
    Eigen::MatrixXd A(k, k);
    for (int i = 0; i < k; ++i)
      for (int j = 0; j < k; ++j) A(i, j) = std::sin(1.3 * i + 0.7 * j);
    const Eigen::MatrixXd Sv = A * A.transpose() + Eigen::MatrixXd::Identity(k, k);
    Eigen::VectorXd xv(k), mv(k);
    for (int i = 0; i < k; ++i) xv[i] = std::cos(i + 0.5), mv[i] = 0.1 * i;
    const auto lp = -0.5 * (mg::dot(x - m, mg::linalg::solve(S, x - m)) + mg::logdet(S));
    const auto g = mg::grad(lp, x = mg::data(xv), m = mv, S = Sv);
    const Eigen::VectorXd a = Sv.ldlt().solve(xv - mv);
    check_close(g.value, -0.5 * ((xv - mv).dot(a) + std::log(Sv.determinant())));
    const Eigen::MatrixXd gS = 0.5 * (a * a.transpose() - Sv.inverse());
    for (int i = 0; i < k; ++i) {
      check_close(g[m][i], a[i]);
      for (int j = 0; j < k; ++j) check_close(g[S](i, j), gS(i, j));
    }
  }
}

/// The static sweep writes the backward formulas of solve, logdet and det
/// straight into a gradient or adjoint buffer (the rules' vjp_*_into): the
/// first contribution assigned, later ones added, in either order; dA and
/// dB of a solve from one solve with A^T; a matrix right-hand side; a
/// node's adjoint (S * 2) as well as a variable's gradient; a fixed-size
/// binding. Against central differences on a small SPD matrix (the
/// factorisation's own Cholesky loops), a non-symmetric one (LU) and a
/// 60 x 60 SPD one (Eigen's LLT).
BOOST_AUTO_TEST_CASE(linalg_backward_written_into_buffers) {
  constexpr auto B = mg::var<"B">;
  for (int k : {4, 60}) {
    for (bool spd : {true, false}) {
      Eigen::MatrixXd A(k, k), Bv(k, 2);
      for (int i = 0; i < k; ++i)
        for (int j = 0; j < k; ++j) A(i, j) = std::sin(1.3 * i + 0.7 * j + 0.2);
      const Eigen::MatrixXd Sv = spd ? Eigen::MatrixXd(A * A.transpose() / k + Eigen::MatrixXd::Identity(k, k))
                                     : Eigen::MatrixXd(A + 3.0 * Eigen::MatrixXd::Identity(k, k));
      Eigen::VectorXd xv(k), yv(k);
      for (int i = 0; i < k; ++i) {
        xv[i] = std::cos(i + 0.5), yv[i] = 0.3 - 0.1 * i;
        Bv(i, 0) = std::sin(0.9 * i), Bv(i, 1) = 0.2 * i - 1.0;
      }
      // d value_at / d at, every element (a sample of them at k = 60), against grad.
      auto fd_check = [&](const char* what, auto value_at, const Eigen::MatrixXd& at, const Eigen::MatrixXd& grad) {
        const Eigen::VectorXd flat = Eigen::Map<const Eigen::VectorXd>(at.data(), at.size());
        auto f = [&](const Eigen::VectorXd& v) {
          return value_at(Eigen::MatrixXd(Eigen::Map<const Eigen::MatrixXd>(v.data(), at.rows(), at.cols())));
        };
        for (Eigen::Index i = 0; i < at.size(); i += (k > 10 ? 37 : 1)) {
          const double fd = central_difference(f, flat, i);
          BOOST_CHECK_MESSAGE(std::abs(grad.data()[i] - fd) <= 1e-6 * (1 + std::abs(fd)),
                              what << " k=" << k << (spd ? " spd" : " lu") << " element " << i << ": got "
                                   << grad.data()[i] << ", expected " << fd);
        }
      };
      const auto f1 = mg::logdet(S) + mg::dot(y, mg::linalg::solve(S, x));
      const auto f2 = mg::dot(y, mg::linalg::solve(S, x)) + mg::logdet(S);
      const auto g1 = mg::grad(f1, S = Sv, x = xv, y = mg::data(yv));
      const auto g2 = mg::grad(f2, S = Sv, x = xv, y = mg::data(yv));
      fd_check("logdet + solve, dS", [&](const Eigen::MatrixXd& M) { return mg::eval(f1, S = M, x = xv, y = yv); }, Sv,
               g1[S]);
      fd_check("logdet + solve, dx", [&](const Eigen::MatrixXd& v) { return mg::eval(f1, S = Sv, x = Eigen::VectorXd(v), y = yv); },
               xv, g1[x]);
      BOOST_CHECK((Eigen::MatrixXd(g1[S]) - Eigen::MatrixXd(g2[S])).cwiseAbs().maxCoeff() <= 1e-12);
      BOOST_CHECK((Eigen::VectorXd(g1[x]) - Eigen::VectorXd(g2[x])).cwiseAbs().maxCoeff() <= 1e-12);
      // x as data: dA alone, from the solve's vjp_a_into
      const auto f7 = mg::dot(y, mg::linalg::solve(S, x));
      const auto g7 = mg::grad(f7, S = Sv, x = mg::data(xv), y = mg::data(yv));
      fd_check("solve, dS only", [&](const Eigen::MatrixXd& M) { return mg::eval(f7, S = M, x = xv, y = yv); }, Sv, g7[S]);
      // a node's adjoint buffer (S * 2), then S's gradient
      const auto f4 = mg::logdet(S * 2.0) + mg::logdet(S);
      fd_check("logdet(2S) + logdet(S)", [&](const Eigen::MatrixXd& M) { return mg::eval(f4, S = M); }, Sv,
               mg::grad(f4, S = Sv)[S]);
      // a matrix right-hand side, B read twice; then B alone
      const auto f5 = mg::sum(mg::linalg::solve(S, B) * B);
      const auto g5 = mg::grad(f5, S = Sv, B = Bv);
      fd_check("solve(S, B) * B, dS", [&](const Eigen::MatrixXd& M) { return mg::eval(f5, S = M, B = Bv); }, Sv, g5[S]);
      fd_check("solve(S, B) * B, dB", [&](const Eigen::MatrixXd& M) { return mg::eval(f5, S = Sv, B = M); }, Bv, g5[B]);
      const auto f8 = mg::logdet(S) + mg::sum(mg::linalg::solve(S, B) * B);  // dA added, in either order
      const auto f9 = mg::sum(mg::linalg::solve(S, B) * B) + mg::logdet(S);
      const auto g8 = mg::grad(f8, S = Sv, B = Bv);
      fd_check("logdet + solve(S, B) * B, dS", [&](const Eigen::MatrixXd& M) { return mg::eval(f8, S = M, B = Bv); }, Sv,
               g8[S]);
      BOOST_CHECK((Eigen::MatrixXd(g8[S]) - Eigen::MatrixXd(mg::grad(f9, S = Sv, B = Bv)[S])).cwiseAbs().maxCoeff() <= 1e-12);
      const auto f6 = mg::sum(mg::linalg::solve(S, B));
      fd_check("solve(S, B), dB only", [&](const Eigen::MatrixXd& M) { return mg::eval(f6, S = Sv, B = M); }, Bv,
               mg::grad(f6, S = mg::data(Sv), B = Bv)[B]);
      // inverse: S's only reader, then read twice (one contribution added)
      const auto f10 = mg::sum(mg::inverse(S) * mg::inverse(S));
      fd_check("inverse", [&](const Eigen::MatrixXd& M) { return mg::eval(f10, S = M); }, Sv, mg::grad(f10, S = Sv)[S]);
      const auto f11 = mg::sum(mg::inverse(S) * S) + mg::logdet(S);
      fd_check("inverse * S + logdet", [&](const Eigen::MatrixXd& M) { return mg::eval(f11, S = M); }, Sv,
               mg::grad(f11, S = Sv)[S]);
      if (k == 4) {
        const auto f3 = 0.5 * mg::det(S) + mg::logdet(S);
        fd_check("det + logdet", [&](const Eigen::MatrixXd& M) { return mg::eval(f3, S = M); }, Sv, mg::grad(f3, S = Sv)[S]);
        const Eigen::Matrix4d S4 = Sv;  // a fixed-size gradient slot
        const auto g4 = mg::grad(f1, S = S4, x = xv, y = mg::data(yv));
        BOOST_CHECK((Eigen::MatrixXd(g4[S]) - Eigen::MatrixXd(g1[S])).cwiseAbs().maxCoeff() <= 1e-12);
      }
    }
  }
}

/// solve, logdet and their backward formulas share one LU factorisation per
/// matrix (detail/factorisation.hpp, cached_lu): a changed matrix, a transposed solve
/// of a non-symmetric one, and dual tangents (hvp) must never see a stale one.
BOOST_AUTO_TEST_CASE(shared_factorisation_is_never_stale) {
  const int k = 4;
  Eigen::MatrixXd Av(k, k);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) Av(i, j) = std::sin(1.1 * i - 0.4 * j) + (i == j ? 3.0 : 0.0);  // not symmetric
  const Eigen::VectorXd bv = vec({1.0, -2.0, 0.5, 3.0}), wv = vec({0.3, 1.0, -0.7, 2.0});
  const auto f = mg::dot(y, mg::linalg::solve(S, x)) + mg::logdet(S);
  for (int round = 0; round < 3; ++round) {
    Eigen::MatrixXd A = Av;
    A(1, 2) += 0.25 * round;  // a different matrix each round, then the first again
    if (round == 2) A = Av;
    const auto g = mg::grad(f, S = A, x = bv, y = mg::data(wv));
    const Eigen::VectorXd X = A.lu().solve(bv), lam = A.transpose().lu().solve(wv);
    check_close(g.value, wv.dot(X) + std::log(A.determinant()));
    const Eigen::MatrixXd gS = -lam * X.transpose() + A.inverse().transpose();
    for (int i = 0; i < k; ++i) {
      check_close(g[x][i], lam[i]);
      for (int j = 0; j < k; ++j) check_close(g[S](i, j), gS(i, j));
    }
  }
  // Hessian-vector product through solve (dual tangents): against central
  // differences of the gradient.
  const auto hv = mg::hvp(f, wv, x = bv, S = Av, y = mg::data(wv));
  auto gx_at = [&](double t) { return Eigen::VectorXd(mg::grad(f, x = Eigen::VectorXd(bv + t * wv), S = Av, y = mg::data(wv))[x]); };
  const Eigen::VectorXd fd_hv = (gx_at(1e-5) - gx_at(-1e-5)) / 2e-5;
  for (int i = 0; i < k; ++i) check_close(hv[x][i], fd_hv[i], 1e-6);
  auto gS_at = [&](double t) { return Eigen::MatrixXd(mg::grad(f, x = Eigen::VectorXd(bv + t * wv), S = Av, y = mg::data(wv))[S]); };
  const Eigen::MatrixXd fd_hS = (gS_at(1e-5) - gS_at(-1e-5)) / 2e-5;
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) check_close(hv[S](i, j), fd_hS(i, j), 1e-6);
}

/// detail/factorisation.hpp factorises a symmetric positive-definite matrix
/// (to 8 ulps of its largest element, as B B^T comes out) by Cholesky,
/// anything else by LU; both answer solve, the solve with A^T, the inverse,
/// det and log det alike. Up to kSmallCholesky rows Cholesky runs its own
/// loops, above it Eigen's LLT: sizes on both sides of the boundary, results
/// as Matrix and as Array. log det comes from the factors' diagonals: no overflow.
BOOST_AUTO_TEST_CASE(factorisation_is_cholesky_for_spd_and_lu_otherwise) {
  using M = Eigen::MatrixXd;
  constexpr int small = static_cast<int>(mg::math::kSmallCholesky);
  for (const int k : {1, 2, 6, small - 1, small, small + 1, 2 * small + 3}) {
    BOOST_TEST_CONTEXT("k = " << k) {
      M B(k, k);
      for (int i = 0; i < k; ++i)
        for (int j = 0; j < k; ++j) B(i, j) = std::sin(0.9 * i + 0.4 * j + 0.1);
      const M spd = B * B.transpose() / k + M::Identity(k, k);
      M nonsymmetric = spd;
      nonsymmetric(0, k - 1) += 0.1;
      const M indefinite = spd - 2.0 * M::Identity(k, k);
      Eigen::VectorXd b(k);
      for (int i = 0; i < k; ++i) b[i] = std::cos(1.3 * i) * (i % 3 - 1.0) + 0.25;
      const M rhs = B.leftCols(std::min(k, 2));
      struct Case { const M* a; bool cholesky; };
      std::vector<Case> cases{{&spd, true}, {&indefinite, false}};
      if (k > 1) cases.push_back({&nonsymmetric, false});
      for (const Case c : cases) {
        const M& A = *c.a;
        mg::math::Factorisation<M> f;
        f.compute(A);
        BOOST_CHECK_EQUAL(f.is_cholesky(), c.cholesky);
        const Eigen::PartialPivLU<M> lu(A), lut(M(A.transpose()));
        const Eigen::VectorXd xs = f.solve(b), xt = f.solve_t(b), want_s = lu.solve(b), want_t = lut.solve(b);
        for (int i = 0; i < k; ++i) check_close(xs[i], want_s[i], 1e-12), check_close(xt[i], want_t[i], 1e-12);
        const M X = f.solve(rhs), want_X = lu.solve(rhs), inv = f.inverse(), want_inv = lu.inverse();
        const Eigen::ArrayXXd inv_a = f.template inverse<Eigen::ArrayXXd>();
        const Eigen::ArrayXd xs_a = f.template solve<Eigen::ArrayXd>(b), xt_a = f.template solve_t<Eigen::ArrayXd>(b);
        for (int i = 0; i < k; ++i) {
          BOOST_CHECK_EQUAL(xs_a[i], xs[i]);
          BOOST_CHECK_EQUAL(xt_a[i], xt[i]);
          for (int j = 0; j < rhs.cols(); ++j) check_close(X(i, j), want_X(i, j), 1e-12);
          for (int j = 0; j < k; ++j) {
            check_close(inv(i, j), want_inv(i, j), 1e-12);
            BOOST_CHECK_EQUAL(inv_a(i, j), inv(i, j));
            if (c.cholesky && k <= small) BOOST_CHECK_EQUAL(inv(i, j), inv(j, i));  // mirrored: exactly symmetric
          }
        }
        const double det = lu.determinant();
        check_close(f.determinant(), det, 1e-12);
        if (det > 0) check_close(f.log_determinant(), std::log(det), 1e-12);
        else BOOST_CHECK(std::isnan(f.log_determinant()));
        BOOST_CHECK_EQUAL(f.zero_pivot(), -1);
      }
    }
  }
  // log det of 10 I (400 x 400) and of an upper-triangular matrix with that
  // diagonal: 400 ln 10, where det itself overflows to inf
  M big = 10.0 * M::Identity(400, 400), upper = big;
  upper.diagonal(1).setConstant(1.0);
  for (const M* a : {&big, &upper}) {
    mg::math::Factorisation<M> f;
    f.compute(*a);
    BOOST_CHECK_EQUAL(f.is_cholesky(), a == &big);
    BOOST_CHECK(std::isinf(f.determinant()));
    check_close(f.log_determinant(), 400 * std::log(10.0), 1e-13);
    check_close(mg::eval(mg::logdet(S), S = *a), 400 * std::log(10.0), 1e-13);
  }
  M singular = M::Zero(3, 3);
  singular(0, 0) = 1;
  mg::math::Factorisation<M> f;
  f.compute(singular);
  BOOST_CHECK(!f.is_cholesky());
  BOOST_CHECK_EQUAL(f.zero_pivot(), 1);
  BOOST_CHECK(std::isinf(f.log_determinant()) && f.log_determinant() < 0);
}

BOOST_AUTO_TEST_CASE(inverse_and_det) {
  Eigen::MatrixXd Av(2, 2);
  Av << 4, 1, 0.5, 3;
  const auto gi = mg::grad(mg::sum(mg::inverse(S)), S = Av);
  const Eigen::MatrixXd Y = Av.inverse();
  const Eigen::MatrixXd want = -(Y.transpose() * Eigen::MatrixXd::Ones(2, 2) * Y.transpose());
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) check_close(gi[S](i, j), want(i, j));
  const auto gd = mg::grad(mg::det(S), S = Av);
  check_close(gd.value, Av.determinant());
  check_close(gd[S](0, 1), -0.5);  // d det / d a01 = -a10
  Eigen::MatrixXd singular(2, 2);
  singular << 1, 2, 2, 4;
  BOOST_CHECK_EXCEPTION((void)mg::grad(mg::sum(mg::inverse(S)), S = singular), mg::Error, [](const mg::Error& err) {
    return std::string(err.what()).find("linalg.inv: The diagonal element 2 is zero") != std::string::npos;
  });
  BOOST_CHECK_EXCEPTION((void)mg::eval(mg::sum(mg::linalg::solve(S, x)), S = singular, x = vec({1, 2})), mg::Error,
                        [](const mg::Error& err) { return std::string(err.what()).find("linalg.solve") != std::string::npos; });
}

BOOST_AUTO_TEST_CASE(cholesky_equals_pytorch) {
  // The same rule as dynamic mode (rules::Cholesky): value and gradient of
  // sum(W * cholesky(S)) against PyTorch's.
  Eigen::MatrixXd Sv(3, 3), Wv(3, 3);
  Sv << 4, 1, 0.5, 1, 3, -0.2, 0.5, -0.2, 2;
  Wv << 1, 0, 0, 2, -1, 0, 0.5, 3, 1.5;
  const auto g = mg::grad(mg::sum(mg::linalg::cholesky(S) * y), S = Sv, y = mg::data(Wv));
  double want = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) want += Wv(i, j) * reference::cholesky_L[i * 3 + j];
  check_close(g.value, want);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) check_close(g[S](i, j), reference::cholesky_gP[i * 3 + j]);
  Eigen::MatrixXd indefinite(2, 2);
  indefinite << 1, 2, 2, 1;
  BOOST_CHECK_EXCEPTION((void)mg::grad(mg::sum(mg::linalg::cholesky(S)), S = indefinite), mg::Error, [](const mg::Error& err) {
    return std::string(err.what()).find("linalg.cholesky: The factorization could not be completed because the input is "
                                        "not positive-definite (the leading minor of order 2 is not positive-definite).") !=
           std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(slogdet_and_outer_equal_pytorch) {
  // A has a negative determinant: logdet(A) is NaN, slogdet's log|det A| is not.
  Eigen::MatrixXd Av(3, 3);
  Av << 2.0, 1.0, 0.5, -1.0, -3.0, 0.25, 0.5, 0.7, 1.5;
  const auto [sign, logabsdet] = mg::linalg::slogdet(S);
  BOOST_CHECK_EQUAL(mg::to_string(logabsdet), "logabsdet(S)");
  BOOST_CHECK_EQUAL(sign(S = Av), -1.0);
  BOOST_CHECK(std::isnan(mg::logdet(S)(S = Av)));
  // value and gradient of 2 log|det A| + sign det A, and two Hessian entries
  // of log|det A| (column-major positions): python3-torch 1.13
  const auto g = mg::grad(2.0 * logabsdet + sign, S = Av);
  check_close(g.value, 2 * 1.9912931549031312 - 1.0);
  const double want[3][3] = {{1.2764505119453924, -0.44368600682593856, -0.2184300341296928},
                             {0.31399317406143346, -0.7508532423208191, 0.2457337883959044},
                             {-0.477815699658703, 0.27303754266211605, 1.36518771331058}};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) check_close(g[S](i, j), want[i][j]);
  const auto H = mg::hessian(logabsdet, S = Av);
  check_close(H[S](0, 0), -0.40733147736141356);
  check_close(H[S](1, 4), 0.05894069820265816);
  Eigen::MatrixXd singular(2, 2);
  singular << 1, 2, 2, 4;
  BOOST_CHECK_EQUAL(sign(S = singular), 0.0);  // (0, -inf), as PyTorch
  BOOST_CHECK_EQUAL(logabsdet(S = singular), -std::numeric_limits<double>::infinity());
  BOOST_CHECK_EXCEPTION((void)logabsdet(S = Eigen::MatrixXd::Ones(2, 3).eval()), mg::Error, [](const mg::Error& err) {
    return std::string(err.what()).find("linalg.slogdet") != std::string::npos;
  });
  // outer(a, b) = a b^T: sum(W * outer(u, v)) and its gradients, python3-torch 1.13
  Eigen::MatrixXd Wv(3, 2);
  Wv << 0.1, 0.2, 0.3, 0.4, 0.5, 0.6;
  const auto go = mg::grad(mg::sum(mg::outer(x, m) * y), x = vec({1, 2, 3}), m = vec({-1, 0.5}), y = mg::data(Wv));
  check_close(go.value, -0.8);
  for (int i = 0; i < 3; ++i) check_close(go[x](i), std::vector<double>{0.0, -0.1, -0.2}[i]);
  check_close(go[m](0), 2.2);
  check_close(go[m](1), 2.8);
}

BOOST_AUTO_TEST_SUITE_END()
