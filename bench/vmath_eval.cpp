// bench/vmath_eval.cpp — the evaluation behind detail/vmath.hpp (issue 18):
// speed (ns per element, 4096 elements in cache, best of 200 runs) and
// accuracy (the largest distance in ulp from <cmath> over 2^20 inputs) of
// each vectorised elementary function against <cmath> one element at a time,
// Eigen 3.4's own array functions, SLEEF 3.5 (libsleef-dev, 1.0-ulp
// functions) and Highway 1.0's contrib/math (libhwy-dev), where they are
// installed. Two input sets per function: the range ML programs live in, and
// a wide one (the whole domain, log-uniform, both signs). Prints a markdown
// table (bench/run.sh writes it to bench/results/vmath.md). The functions of
// two operands have rows with a constant second one: x^1.7 (the derivative
// table's array^number), atan2(x, 1.3), hypot(x, 1.3).
#include <metagrad/detail/vmath.hpp>
#include <metagrad/detail/vmath_erf.hpp>
#include <metagrad/detail/vmath_inverse_hyperbolic.hpp>
#include <metagrad/detail/vmath_inverse_trig.hpp>
#include <metagrad/detail/vmath_atan2_hypot.hpp>
#include <metagrad/detail/vmath_pow.hpp>
#include <unsupported/Eigen/SpecialFunctions>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#ifdef METAGRAD_EVAL_SLEEF
#include <sleef.h>
#endif
#ifdef METAGRAD_EVAL_HWY
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>
namespace hn = hwy::HWY_NAMESPACE;
#endif

namespace vm = metagrad::vmath;

namespace {

template <class T>
double ulp_distance(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : 1e30;
  if (a == b) return 0;
  using I = std::conditional_t<sizeof(T) == 8, std::int64_t, std::int32_t>;
  auto ordered = [](T v) {
    I i;
    std::memcpy(&i, &v, sizeof v);
    return i < 0 ? static_cast<long double>(std::numeric_limits<I>::min()) - static_cast<long double>(i) : static_cast<long double>(i);
  };
  return static_cast<double>(std::fabs(ordered(a) - ordered(b)));
}

/// A candidate: fills y[0..n) with f(x[0..n)); n is a multiple of 16.
template <class T>
using Kernel = std::function<void(const T*, T*, int)>;

template <class T>
struct Candidate {
  std::string name;
  Kernel<T> run;
};

template <class T>
std::vector<T> sample(double lo, double hi, bool wide, int n, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<T> x(n);
  for (int i = 0; i < n; ++i) {
    double v = wide ? std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * u(gen)) : lo + (hi - lo) * u(gen);
    if (wide && lo > 0 && (i & 1) && hi > 0 && seed % 2) v = -v;  // both signs where the domain allows
    x[i] = static_cast<T>(v);
  }
  return x;
}

template <class T>
double ns_per_element(const Kernel<T>& k, const std::vector<T>& x) {
  std::vector<T> y(x.size());
  double best = 1e300;
  for (int rep = 0; rep < 200; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    k(x.data(), y.data(), static_cast<int>(x.size()));
    const auto t1 = std::chrono::steady_clock::now();
    asm volatile("" : : "r"(y.data()) : "memory");
    best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(x.size()));
  }
  return best;
}

template <class T>
double max_ulp(const Kernel<T>& k, T (*ref)(T), const std::vector<T>& x) {
  std::vector<T> y(x.size());
  k(x.data(), y.data(), static_cast<int>(x.size()));
  double m = 0;
  for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, ulp_distance(y[i], ref(x[i])));
  return m;
}

template <class T, class Op>
Kernel<T> eigen_expr(Op op) {
  return [op](const T* x, T* y, int n) {
    Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(y, n) = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(x, n).unaryExpr(op);
  };
}

template <class T>
void row(const char* fn, T (*ref)(T), double lo, double hi, double wlo, double whi, bool wide_signed,
         const std::vector<Candidate<T>>& cands) {
  const auto typical = sample<T>(lo, hi, false, 1 << 20, 1), hot = sample<T>(lo, hi, false, 4096, 3);
  const auto wide = sample<T>(wlo, whi, true, 1 << 20, wide_signed ? 5 : 4);
  for (const auto& c : cands) {
    if (!c.run) continue;
    std::printf("| %s | %s | %s | %.2f | %.0f | %.0f |\n", fn, sizeof(T) == 8 ? "double" : "float", c.name.c_str(),
                ns_per_element(c.run, hot), max_ulp(c.run, ref, typical), max_ulp(c.run, ref, wide));
  }
}

template <class T>
Kernel<T> loop(T (*f)(T)) {
  return [f](const T* x, T* y, int n) {
    for (int i = 0; i < n; ++i) y[i] = f(x[i]);
  };
}

#ifdef METAGRAD_EVAL_SLEEF
// the widest SLEEF entry points this build can run
#if defined(__AVX512F__)
#define SLEEF_D(fn) [](const double* x, double* y, int n) { for (int i = 0; i < n; i += 8) _mm512_storeu_pd(y + i, Sleef_##fn##d8_u10(_mm512_loadu_pd(x + i))); }
#define SLEEF_F(fn) [](const float* x, float* y, int n) { for (int i = 0; i < n; i += 16) _mm512_storeu_ps(y + i, Sleef_##fn##f16_u10(_mm512_loadu_ps(x + i))); }
#define SLEEF_D2(fn, u, c) [](const double* x, double* y, int n) { for (int i = 0; i < n; i += 8) _mm512_storeu_pd(y + i, Sleef_##fn##d8_##u(_mm512_loadu_pd(x + i), _mm512_set1_pd(c))); }
#define SLEEF_F2(fn, u, c) [](const float* x, float* y, int n) { for (int i = 0; i < n; i += 16) _mm512_storeu_ps(y + i, Sleef_##fn##f16_##u(_mm512_loadu_ps(x + i), _mm512_set1_ps(c))); }
#elif defined(__AVX2__)
#define SLEEF_D(fn) [](const double* x, double* y, int n) { for (int i = 0; i < n; i += 4) _mm256_storeu_pd(y + i, Sleef_##fn##d4_u10(_mm256_loadu_pd(x + i))); }
#define SLEEF_F(fn) [](const float* x, float* y, int n) { for (int i = 0; i < n; i += 8) _mm256_storeu_ps(y + i, Sleef_##fn##f8_u10(_mm256_loadu_ps(x + i))); }
#define SLEEF_D2(fn, u, c) [](const double* x, double* y, int n) { for (int i = 0; i < n; i += 4) _mm256_storeu_pd(y + i, Sleef_##fn##d4_##u(_mm256_loadu_pd(x + i), _mm256_set1_pd(c))); }
#define SLEEF_F2(fn, u, c) [](const float* x, float* y, int n) { for (int i = 0; i < n; i += 8) _mm256_storeu_ps(y + i, Sleef_##fn##f8_##u(_mm256_loadu_ps(x + i), _mm256_set1_ps(c))); }
#else
#define SLEEF_D(fn) [](const double* x, double* y, int n) { for (int i = 0; i < n; i += 2) _mm_storeu_pd(y + i, Sleef_##fn##d2_u10(_mm_loadu_pd(x + i))); }
#define SLEEF_F(fn) [](const float* x, float* y, int n) { for (int i = 0; i < n; i += 4) _mm_storeu_ps(y + i, Sleef_##fn##f4_u10(_mm_loadu_ps(x + i))); }
#define SLEEF_D2(fn, u, c) [](const double* x, double* y, int n) { for (int i = 0; i < n; i += 2) _mm_storeu_pd(y + i, Sleef_##fn##d2_##u(_mm_loadu_pd(x + i), _mm_set1_pd(c))); }
#define SLEEF_F2(fn, u, c) [](const float* x, float* y, int n) { for (int i = 0; i < n; i += 4) _mm_storeu_ps(y + i, Sleef_##fn##f4_##u(_mm_loadu_ps(x + i), _mm_set1_ps(c))); }
#endif
#endif

#ifdef METAGRAD_EVAL_HWY
#define HWY_K(T, Fn) [](const T* x, T* y, int n) { const hn::ScalableTag<T> d; for (int i = 0; i < n; i += static_cast<int>(hn::Lanes(d))) hn::StoreU(hn::Fn(d, hn::LoadU(d, x + i)), d, y + i); }
#endif

template <class T>
void functions() {
  using A = Eigen::Array<T, Eigen::Dynamic, 1>;
  auto eig = [](auto member) -> Kernel<T> {
    return [member](const T* x, T* y, int n) {
      Eigen::Map<A>(y, n) = member(Eigen::Map<const A>(x, n));
    };
  };
  auto cand = [](std::string name, Kernel<T> k) { return Candidate<T>{std::move(name), std::move(k)}; };
  constexpr bool d = sizeof(T) == 8;
  const double tiny = static_cast<double>(std::numeric_limits<T>::denorm_min()), big = static_cast<double>(std::numeric_limits<T>::max());
  const double exp_hi = d ? 709.0 : 88.0, exp_lo = d ? 745.0 : 103.0;
  Kernel<T> none;
  (void)none;
#ifdef METAGRAD_EVAL_SLEEF
#define S_(fn) (d ? Kernel<T>(reinterpret_cast<void (*)(const T*, T*, int)>(+SLEEF_D(fn))) : Kernel<T>(reinterpret_cast<void (*)(const T*, T*, int)>(+SLEEF_F(fn))))
#else
#define S_(fn) none
#endif
#ifdef METAGRAD_EVAL_HWY
#define H_(Fn) Kernel<T>(HWY_K(T, Fn))
#else
#define H_(Fn) none
#endif
  row<T>("exp", +[](T v) { return std::exp(v); }, -10, 10, 1e-3, exp_lo, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::exp(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.exp(); })),
          cand("metagrad", eigen_expr<T>(vm::exp_op<T>{})), cand("SLEEF u10", S_(exp)), cand("Highway", H_(Exp))});
  row<T>("log", +[](T v) { return std::log(v); }, 1e-3, 10, tiny, big, false,
         {cand("<cmath>", loop<T>(+[](T v) { return std::log(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.log(); })),
          cand("metagrad", eigen_expr<T>(vm::log_op<T>{})), cand("SLEEF u10", S_(log)), cand("Highway", H_(Log))});
  row<T>("sin", +[](T v) { return std::sin(v); }, -10, 10, 1e-3, 1e5, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::sin(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.sin(); })),
          cand("metagrad", eigen_expr<T>(vm::sin_op<T>{})), cand("SLEEF u10", S_(sin)), cand("Highway", H_(Sin))});
  row<T>("cos", +[](T v) { return std::cos(v); }, -10, 10, 1e-3, 1e5, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::cos(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.cos(); })),
          cand("metagrad", eigen_expr<T>(vm::cos_op<T>{})), cand("SLEEF u10", S_(cos)), cand("Highway", H_(Cos))});
  row<T>("tanh", +[](T v) { return std::tanh(v); }, -5, 5, 1e-6, 30, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::tanh(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.tanh(); })),
          cand("metagrad", eigen_expr<T>(vm::tanh_op<T>{})), cand("SLEEF u10", S_(tanh)), cand("Highway", H_(Tanh))});
  row<T>("expm1", +[](T v) { return std::expm1(v); }, -5, 5, 1e-6, exp_hi, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::expm1(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.expm1(); })),
          cand("metagrad", eigen_expr<T>(vm::expm1_op<T>{})), cand("SLEEF u10", S_(expm1)), cand("Highway", H_(Expm1))});
  row<T>("log1p", +[](T v) { return std::log1p(v); }, -0.5, 10, 1e-6, big, false,
         {cand("<cmath>", loop<T>(+[](T v) { return std::log1p(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.log1p(); })),
          cand("metagrad", eigen_expr<T>(vm::log1p_op<T>{})), cand("SLEEF u10", S_(log1p)), cand("Highway", H_(Log1p))});
  // (added with the second set of kernels: tan, atan, sinh, cosh, softplus)
  row<T>("tan", +[](T v) { return std::tan(v); }, -1.5, 1.5, 1e-3, 1e5, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::tan(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.tan(); })),
          cand("metagrad", eigen_expr<T>(vm::tan_op<T>{})), cand("SLEEF u10", S_(tan))});
  row<T>("atan", +[](T v) { return std::atan(v); }, -10, 10, 1e-6, big, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::atan(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.atan(); })),
          cand("metagrad", eigen_expr<T>(vm::atan_op<T>{})), cand("SLEEF u10", S_(atan)), cand("Highway", H_(Atan))});
  row<T>("sinh", +[](T v) { return std::sinh(v); }, -5, 5, 1e-6, exp_hi, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::sinh(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.sinh(); })),
          cand("metagrad", eigen_expr<T>(vm::sinh_op<T>{})), cand("SLEEF u10", S_(sinh)), cand("Highway", H_(Sinh))});
  row<T>("cosh", +[](T v) { return std::cosh(v); }, -5, 5, 1e-6, exp_hi, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::cosh(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.cosh(); })),
          cand("metagrad", eigen_expr<T>(vm::cosh_op<T>{})), cand("SLEEF u10", S_(cosh))});
  row<T>("softplus", +[](T v) { return v > T(20) ? v : static_cast<T>(std::log1p(std::exp(static_cast<long double>(v)))); },
         -10, 10, 1e-6, exp_lo, true,
         {cand("<cmath>", loop<T>(+[](T v) { return metagrad::math::softplus(v); })), cand("metagrad", eigen_expr<T>(vm::softplus_op<T>{}))});
  // (added later: log2, log10)
  row<T>("log2", +[](T v) { return std::log2(v); }, 1e-3, 10, tiny, big, false,
         {cand("<cmath>", loop<T>(+[](T v) { return std::log2(v); })),
          cand("Eigen 3.4 log / ln 2", eig([](const auto& a) { return a.log() * T(1.4426950408889634); })),
          cand("metagrad", eigen_expr<T>(vm::log2_op<T>{})), cand("SLEEF u10", S_(log2)), cand("Highway", H_(Log2))});
  row<T>("log10", +[](T v) { return std::log10(v); }, 1e-3, 10, tiny, big, false,
         {cand("<cmath>", loop<T>(+[](T v) { return std::log10(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.log10(); })),
          cand("metagrad", eigen_expr<T>(vm::log10_op<T>{})), cand("SLEEF u10", S_(log10)), cand("Highway", H_(Log10))});
  // (added later: erf)
  row<T>("erf", +[](T v) { return std::erf(v); }, -4, 4, 1e-6, 10, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::erf(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.erf(); })),
          cand("metagrad", eigen_expr<T>(vm::erf_op<T>{})), cand("SLEEF u10", S_(erf))});
  // (added later: asinh, acosh, atanh; the reference is the long double
  // function, glibc's being up to 2 ulp off)
  row<T>("asinh", +[](T v) { return static_cast<T>(std::asinh(static_cast<long double>(v))); }, -10, 10, 1e-6, big, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::asinh(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.asinh(); })),
          cand("metagrad", eigen_expr<T>(vm::asinh_op<T>{})), cand("SLEEF u10", S_(asinh))});
  row<T>("acosh", +[](T v) { return static_cast<T>(std::acosh(static_cast<long double>(v))); }, 1, 10, 1, big, false,
         {cand("<cmath>", loop<T>(+[](T v) { return std::acosh(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.acosh(); })),
          cand("metagrad", eigen_expr<T>(vm::acosh_op<T>{})), cand("SLEEF u10", S_(acosh))});
  row<T>("atanh", +[](T v) { return static_cast<T>(std::atanh(static_cast<long double>(v))); }, -0.99, 0.99, 1e-6, 1, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::atanh(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.atanh(); })),
          cand("metagrad", eigen_expr<T>(vm::atanh_op<T>{})), cand("SLEEF u10", S_(atanh))});
  row<T>("asin", +[](T v) { return std::asin(v); }, -1, 1, 1e-6, 1, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::asin(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.asin(); })),
          cand("metagrad", eigen_expr<T>(vm::asin_op<T>{})), cand("SLEEF u10", S_(asin)), cand("Highway", H_(Asin))});
  row<T>("acos", +[](T v) { return std::acos(v); }, -1, 1, 1e-6, 1, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::acos(v); })), cand("Eigen 3.4", eig([](const auto& a) { return a.acos(); })),
          cand("metagrad", eigen_expr<T>(vm::acos_op<T>{})), cand("SLEEF u10", S_(acos)), cand("Highway", H_(Acos))});
  // (added later: pow with an exponent that is not a small integer or a
  // half, the derivative table's array^number: x^1.7; atan2 and hypot with
  // the second operand 1.3)
#ifdef METAGRAD_EVAL_SLEEF
#define S2_(fn, u, c) (d ? Kernel<T>(reinterpret_cast<void (*)(const T*, T*, int)>(+SLEEF_D2(fn, u, c))) \
                         : Kernel<T>(reinterpret_cast<void (*)(const T*, T*, int)>(+SLEEF_F2(fn, u, static_cast<float>(c)))))
#else
#define S2_(fn, u, c) none
#endif
  const auto with = [](auto op, T c) -> Kernel<T> {
    return [op, c](const T* x, T* y, int n) { Eigen::Map<A>(y, n) = Eigen::Map<const A>(x, n).binaryExpr(A::Constant(n, c), op); };
  };
  row<T>("pow x^1.7", +[](T v) { return std::pow(v, T(1.7)); }, 1e-3, 10, tiny, big, false,
         {cand("<cmath>", loop<T>(+[](T v) { return std::pow(v, T(1.7)); })),
          cand("Eigen 3.4", eig([](const auto& a) { return a.pow(T(1.7)); })), cand("metagrad", with(vm::pow_op<T>{}, T(1.7))),
          cand("SLEEF u10", S2_(pow, u10, 1.7))});
  row<T>("atan2(x, 1.3)", +[](T v) { return std::atan2(v, T(1.3)); }, -10, 10, tiny, big, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::atan2(v, T(1.3)); })), cand("metagrad", with(vm::atan2_op<T>{}, T(1.3))),
          cand("SLEEF u10", S2_(atan2, u10, 1.3))});
  row<T>("hypot(x, 1.3)", +[](T v) { return std::hypot(v, T(1.3)); }, -10, 10, tiny, big, true,
         {cand("<cmath>", loop<T>(+[](T v) { return std::hypot(v, T(1.3)); })), cand("metagrad", with(vm::hypot_op<T>{}, T(1.3))),
          cand("SLEEF u05", S2_(hypot, u05, 1.3))});
#undef S2_
#undef S_
#undef H_
}

}  // namespace

int main() {
  std::printf("| function | type | implementation | ns/element | max ulp, typical range | max ulp, whole domain |\n");
  std::printf("|---|---|---|---:|---:|---:|\n");
  functions<double>();
  functions<float>();
}
