// tests/bridge/test_random_exprs.cpp — differential testing of the three
// engines on random expressions: expression TYPES are drawn at compile time
// from a seeded generator (every elementwise op, unary and binary rows of the
// derivative table, conditions, constants, repeated subexpressions), and each is evaluated by static mg::grad (scalar sweep, and
// the fused packet pass over Eigen vectors), by the bridge (one fused node),
// and op by op in dynamic mode; values and gradients must agree.
#define BOOST_TEST_MODULE metagrad_random_expressions
#include <boost/test/unit_test.hpp>
#include <metagrad/metagrad.hpp>

#include <cmath>
#include <cstdint>

namespace mg = metagrad;
using namespace mg::literals;

namespace {
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;
constexpr auto z = mg::var<"z">;

constexpr std::uint64_t mix(std::uint64_t v) {
  v += 0x9e3779b97f4a7c15ull;
  v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ull;
  v = (v ^ (v >> 27)) * 0x94d049bb133111ebull;
  return v ^ (v >> 31);
}

/// The unary rows of the derivative table, as a type list generated from the
/// table's own row list, and any expression mapped into a row's domain.
template <class... R> struct Rows {};
#define METAGRAD_ROW_TYPE(Rule, fn) , mg::rules::Rule
template <class First, class... R> Rows<R...> drop_first(Rows<First, R...>);
using TableRows = decltype(drop_first(Rows<void METAGRAD_FOR_EACH_UNARY(METAGRAD_ROW_TYPE)>{}));
using BinaryTableRows = decltype(drop_first(Rows<void METAGRAD_FOR_EACH_BINARY(METAGRAD_ROW_TYPE)>{}));
#undef METAGRAD_ROW_TYPE
template <std::size_t K, class... R> auto row_at(Rows<R...>) -> std::tuple_element_t<K, std::tuple<R...>>;
template <class... R> constexpr std::size_t row_count(Rows<R...>) { return sizeof...(R); }
template <mg::rules::Domain D, class A>
constexpr auto into_domain(const A& a) {
  using Dm = mg::rules::Domain;
  if constexpr (D == Dm::real) return mg::tanh(a * 0.5) * 2.0;
  else if constexpr (D == Dm::positive) return mg::sqrt(a * a + 0.5);
  else if constexpr (D == Dm::unit) return mg::tanh(a) * 0.9;
  else if constexpr (D == Dm::above_one) return mg::sqrt(a * a + 0.5) + 0.8;
  else return mg::sigmoid(a) * 0.3 + 0.1;
}

/// A random expression type of depth <= D from seed S (domain-safe: logs,
/// roots, divisions and powers see positive arguments; a row of the table
/// sees its own domain).
template <std::uint64_t S, int D>
constexpr auto rexpr() {
  constexpr std::uint64_t r = mix(S);
  if constexpr (D == 0 || r % 6 == 0) {
    constexpr int k = static_cast<int>((r >> 8) % 4);
    if constexpr (k == 0) return x;
    else if constexpr (k == 1) return y;
    else if constexpr (k == 2) return z;
    else return x * 0.75 + 2_c;
  } else {
    constexpr auto a = rexpr<mix(S + 1), D - 1>();
    constexpr auto b = rexpr<mix(S + 2), D - 1>();
    constexpr int op = static_cast<int>((r >> 16) % 17);
    if constexpr (op == 0) return a + b;
    else if constexpr (op == 1) return a - b * 0.5;
    else if constexpr (op == 2) return a * b;
    else if constexpr (op == 3) return a / (b * b + 1.0);
    else if constexpr (op == 4) return mg::exp(a * 0.3);
    else if constexpr (op == 5) return mg::log(a * a + 0.5);
    else if constexpr (op == 6) return mg::sin(a) * mg::cos(b);
    else if constexpr (op == 7) return mg::tanh(a) + mg::sigmoid(b);
    else if constexpr (op == 8) return mg::sqrt(a * a + 1.0);
    else if constexpr (op == 9) return mg::pow(a, 2_c) - b;
    else if constexpr (op == 10) return mg::pow(b * b + 0.5, a * 0.3);
    else if constexpr (op == 11) return mg::abs(a) * b;
    else if constexpr (op == 12) return -a + mg::reciprocal(b * b + 1.0);
    else if constexpr (op == 13) return a * a + a;  // a repeated subexpression
    else if constexpr (op == 14) {  // conditions: comparisons, where, clamp
      constexpr int k = static_cast<int>((r >> 24) % 5);
      if constexpr (k == 0) return mg::where(a > b, a * b, b * 0.5);
      else if constexpr (k == 1) {  // Huber: |a| read by the condition and by a branch
        const auto m = mg::abs(a);
        return mg::where(m <= 0.7, a * a * 0.5, m - 0.245) + b;
      } else if constexpr (k == 2) return mg::clamp(a, -0.5, 0.8) * b;
      else if constexpr (k == 3) return mg::where(a < 0.2, b, b * b);  // a read only by the condition
      else return mg::masked_fill(a * b, b >= 0.1, 0.25) + mg::maximum(a, b);
    }
    else if constexpr (op == 15) {  // any unary row of the derivative table
      using R = decltype(row_at<(r >> 24) % row_count(TableRows{})>(TableRows{}));
      const auto arg = into_domain<R::domain>(a);
      return mg::Unary<R, std::remove_cvref_t<decltype(arg)>>(arg) + b;
    } else if constexpr (op == 16) {  // any binary row, each operand on its domain
      using R = decltype(row_at<(r >> 24) % row_count(BinaryTableRows{})>(BinaryTableRows{}));
      const auto l = into_domain<R::domain_a>(a);
      const auto rr = into_domain<R::domain_b>(b);
      return mg::Binary<R, std::remove_cvref_t<decltype(l)>, std::remove_cvref_t<decltype(rr)>>(l, rr);
    }
    else return mg::pow(a, 3_c) * 0.1 + b;
  }
}

bool agree(double a, double b, double tol) {
  if (!std::isfinite(a) || !std::isfinite(b)) return std::isnan(a) == std::isnan(b) && (std::isnan(a) || a == b);
  return std::abs(a - b) <= tol * (1 + std::abs(b));
}
double grad_or_zero(const mg::Tensor& t) { return t.grad().defined() ? t.grad().item() : 0.0; }

template <std::size_t I>
void check_one() {
  constexpr auto e = rexpr<1000 + I, 3>();
  BOOST_TEST_CONTEXT("expression " << I << ": " << mg::to_string(e)) {
    for (int p = 0; p < 3; ++p) {
      const double xv = -0.9 + 0.7 * p + 0.01 * I, yv = 0.4 - 0.5 * p, zv = 1.1 - 0.3 * p;
      // static: one compiled sweep
      auto gs = mg::grad(e, x = xv, y = yv, z = zv);
      // dynamic: the same expression built op by op on 0-d tensors
      auto tx = mg::tensor(xv, mg::requires_grad()), ty = mg::tensor(yv, mg::requires_grad()),
           tz = mg::tensor(zv, mg::requires_grad());
      mg::Tensor dyn = mg::detail::Evaluator<double>::run(e, x = tx, y = ty, z = tz);
      dyn.backward();
      BOOST_CHECK(agree(gs.value, dyn.item(), 1e-12));
      BOOST_CHECK(agree(gs[x], grad_or_zero(tx), 1e-10));
      BOOST_CHECK(agree(gs[y], grad_or_zero(ty), 1e-10));
      BOOST_CHECK(agree(gs[z], grad_or_zero(tz), 1e-10));
      // bridge: one fused node
      auto bx = mg::tensor(xv, mg::requires_grad()), by = mg::tensor(yv, mg::requires_grad()),
           bz = mg::tensor(zv, mg::requires_grad());
      mg::Tensor br = e(x = bx, y = by, z = bz);
      br.backward();
      BOOST_CHECK(agree(br.item(), dyn.item(), 1e-12));
      BOOST_CHECK(agree(grad_or_zero(bx), grad_or_zero(tx), 1e-10));
      BOOST_CHECK(agree(grad_or_zero(by), grad_or_zero(ty), 1e-10));
      BOOST_CHECK(agree(grad_or_zero(bz), grad_or_zero(tz), 1e-10));
    }
    // The fused packet pass over Eigen vectors (x, z arrays; y a broadcast
    // scalar), against the dynamic graph of sum(e) on 1-d tensors.
    for (int n : {3, 13}) {
      Eigen::VectorXd xa(n), za(n);
      for (int i = 0; i < n; ++i) xa[i] = std::sin(0.9 * i + 0.1 * I), za[i] = 0.5 + std::cos(0.4 * i);
      const double yv = 0.3;
      auto gv = mg::grad(mg::sum(e), x = xa, y = yv, z = za);
      auto tx = mg::from_eigen(xa, mg::requires_grad()), tz = mg::from_eigen(za, mg::requires_grad());
      auto ty = mg::tensor(yv, mg::requires_grad());
      mg::Tensor dyn = mg::detail::Evaluator<double>::run(e, x = tx, y = ty, z = tz);
      dyn = dyn.sum();  // a 0-d result (e reads no vector) is its own sum
      dyn.backward();
      BOOST_CHECK(agree(gv.value, dyn.item(), 1e-11));
      BOOST_CHECK(agree(gv[y], grad_or_zero(ty), 1e-10));
      for (int i = 0; i < n; ++i) {
        BOOST_CHECK(agree(gv[x][i], tx.grad().defined() ? tx.grad().data_ptr()[i] : 0.0, 1e-10));
        BOOST_CHECK(agree(gv[z][i], tz.grad().defined() ? tz.grad().data_ptr()[i] : 0.0, 1e-10));
      }
    }
  }
}

template <std::size_t... I>
void check_all(std::index_sequence<I...>) { (check_one<I>(), ...); }
}  // namespace

BOOST_AUTO_TEST_SUITE(random_expressions)

BOOST_AUTO_TEST_CASE(static_bridge_and_dynamic_agree) { check_all(std::make_index_sequence<16>{}); }

BOOST_AUTO_TEST_SUITE_END()
