// tests/detail/test_vselect.cpp — the vectorised select (detail/vselect.hpp)
// behind math::select, keep_where, keep_where_not, sign and relu on float and
// double arrays: every comparison, number and array branches in each mix, at
// lengths with and without a partial last packet, against the same choice
// made one element at a time in C++ — NaN, zeros of both signs and
// infinities included (compared bit for bit). Built into test_vmath and
// test_vmath_native, so both the generic packet path (SSE2's pcmp/pselect)
// and AVX-512's k-mask path run. The expressions must keep Eigen's packet
// access: that is what vselect is for.
#include <boost/test/unit_test.hpp>

#include <metagrad/rules/select.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace {

namespace mm = metagrad::math;

template <class T>
bool same_bits(T a, T b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

/// x with the special values spread over it, y equal to x at some places.
template <class T>
std::pair<Eigen::Array<T, Eigen::Dynamic, 1>, Eigen::Array<T, Eigen::Dynamic, 1>> operands(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<T> u(-2, 2);
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const T special[] = {T(0), -T(0), inf, -inf, nan, T(1), T(-1)};
  Eigen::Array<T, Eigen::Dynamic, 1> x(n), y(n);
  for (int i = 0; i < n; ++i) {
    x[i] = (i % 3 == 0) ? special[(i / 3) % 7] : u(rng);
    y[i] = (i % 4 == 1) ? x[i] : (i % 5 == 2 ? special[i % 7] : u(rng));
  }
  return {x, y};
}

template <class E>
constexpr bool vectorised = (Eigen::internal::evaluator<E>::Flags & Eigen::PacketAccessBit) != 0;

/// Checks every mix of branches of select(x CMP y, ...) against `ref`.
template <class T, class MakeCond, class Ref>
void check_comparison(const char* what, MakeCond cond, Ref ref) {
  for (int n : {1, 3, 7, 8, 9, 16, 17, 31, 64, 67}) {
    const auto [x, y] = operands<T>(n, static_cast<unsigned>(n));
    const Eigen::Array<T, Eigen::Dynamic, 1> a = x * T(3) + T(1), b = y - T(2);
    const T ka = T(0.25), kb = T(-7);
    using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
    const auto c = cond(x, y);
    if constexpr (std::is_floating_point_v<T> && (Eigen::internal::packet_traits<T>::Vectorizable != 0)) {
      static_assert(vectorised<decltype(mm::select(c, a, b))>, "select of two arrays lost its packet path");
      static_assert(vectorised<decltype(mm::select(c, ka, b))>, "select of a number and an array lost its packet path");
      static_assert(vectorised<decltype(mm::keep_where(c, a * b))>, "keep_where lost its packet path");
    }
    const Arr r_aa = mm::select(c, a, b), r_na = mm::select(c, ka, b), r_an = mm::select(c, a, kb),
              r_nn = mm::select(c, ka, kb), r_kw = mm::keep_where(c, a), r_kwn = mm::keep_where_not(c, b);
    for (int i = 0; i < n; ++i) {
      const bool h = ref(x[i], y[i]);
      BOOST_TEST_CONTEXT(what << " n=" << n << " i=" << i << " x=" << x[i] << " y=" << y[i]) {
        BOOST_TEST(same_bits(r_aa[i], h ? a[i] : b[i]));
        BOOST_TEST(same_bits(r_na[i], h ? ka : b[i]));
        BOOST_TEST(same_bits(r_an[i], h ? a[i] : kb));
        BOOST_TEST(same_bits(r_nn[i], h ? ka : kb));
        BOOST_TEST(same_bits(r_kw[i], h ? a[i] : T(0)));
        BOOST_TEST(same_bits(r_kwn[i], h ? T(0) : b[i]));
      }
    }
  }
}

template <class T>
void check_all_comparisons() {
  using A = Eigen::Array<T, Eigen::Dynamic, 1>;
  check_comparison<T>("<", [](const A& x, const A& y) { return x < y; }, [](T a, T b) { return a < b; });
  check_comparison<T>("<=", [](const A& x, const A& y) { return x <= y; }, [](T a, T b) { return a <= b; });
  check_comparison<T>(">", [](const A& x, const A& y) { return x > y; }, [](T a, T b) { return a > b; });
  check_comparison<T>(">=", [](const A& x, const A& y) { return x >= y; }, [](T a, T b) { return a >= b; });
  check_comparison<T>("==", [](const A& x, const A& y) { return x == y; }, [](T a, T b) { return a == b; });
  check_comparison<T>("!=", [](const A& x, const A& y) { return x != y; }, [](T a, T b) { return a != b; });
  check_comparison<T>("x >= 0.5", [](const A& x, const A&) { return x >= T(0.5); }, [](T a, T) { return a >= T(0.5); });
  check_comparison<T>("-x < 0", [](const A& x, const A&) { return (-x) < T(0); }, [](T a, T) { return -a < T(0); });
}

template <class T>
void check_sign_relu() {
  for (int n : {1, 5, 8, 13, 32, 35}) {
    const auto x = operands<T>(n, 99u + static_cast<unsigned>(n)).first;
    const Eigen::Array<T, Eigen::Dynamic, 1> s = mm::sign(x), r = mm::relu(x);
    for (int i = 0; i < n; ++i) {
      BOOST_TEST_CONTEXT("n=" << n << " x=" << x[i]) {
        // torch.sign: 0 at NaN and at either zero; torch.relu keeps -0 and NaN
        BOOST_TEST(same_bits(s[i], x[i] > 0 ? T(1) : (x[i] < 0 ? T(-1) : T(0))));
        BOOST_TEST(same_bits(r[i], x[i] < 0 ? T(0) : x[i]));
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(vselect)

BOOST_AUTO_TEST_CASE(every_comparison_and_branch_mix_double) { check_all_comparisons<double>(); }
BOOST_AUTO_TEST_CASE(every_comparison_and_branch_mix_float) { check_all_comparisons<float>(); }
BOOST_AUTO_TEST_CASE(sign_and_relu_keep_torch_semantics) {
  check_sign_relu<double>();
  check_sign_relu<float>();
}
BOOST_AUTO_TEST_CASE(conditions_that_are_not_comparisons_still_select) {
  // a stored array of bools has no packet path: Eigen's own select
  const Eigen::Array<bool, Eigen::Dynamic, 1> c = (Eigen::ArrayXd::LinSpaced(9, -4, 4) > 0.0).eval();
  const Eigen::ArrayXd a = Eigen::ArrayXd::Constant(9, 2.0);
  const Eigen::ArrayXd r = mm::select(c, a, -1.0);
  for (int i = 0; i < 9; ++i) BOOST_TEST(r[i] == (i > 4 ? 2.0 : -1.0));
}

BOOST_AUTO_TEST_SUITE_END()
