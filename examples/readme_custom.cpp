// README "Custom functions and hooks": a libtorch-style custom function, a
// tensor hook, and a static op of one's own (the exponential integral, which
// metagrad cannot differentiate by itself: its derivative e^x / x is given).
#include <metagrad/metagrad.hpp>
#include <cmath>
#include <iostream>
namespace mg = metagrad;

// Dynamic: y = x * k with k a plain number; backward returns one gradient
// per forward argument (an undefined Tensor for k).
struct MulConst : mg::autograd::Function<MulConst> {
  static mg::Tensor forward(mg::autograd::AutogradContext* ctx, mg::Tensor x, double k) {
    ctx->saved_data["k"] = k;
    return x * k;
  }
  static mg::autograd::variable_list backward(mg::autograd::AutogradContext* ctx, mg::autograd::variable_list g) {
    return {g[0] * ctx->saved_data["k"].toDouble(), mg::Tensor()};
  }
};

// Static (and dynamic, and the bridge): one rule, declared outside the library.
struct ExpIntegral {
  static constexpr const char* node_name = "EiBackward0";
  static constexpr const char* symbol = "ei";
  template <class X>
  static auto f(const X& x) { return mg::elementwise<ExpIntegral>(x, [](auto v) { return std::expint(v); }); }
  template <class X, class Y, class G>
  static auto vjp(const X& x, const Y&, const G& g) { return g * exp(x) / x; }  // d Ei/dx = e^x / x
};
METAGRAD_DEFINE_UNARY_OP(ei, ExpIntegral)

int main() {
  auto x = mg::tensor({1., 2.}, mg::requires_grad());
  auto y = MulConst::apply(x, 3.0);
  auto h = y.register_hook([](const mg::Tensor& g) { return g * 2; });  // replaces y's gradient
  y.sum().backward();
  std::cout << x.grad() << "\n";  // tensor([6., 6.])
  y.remove_hook(h);

  constexpr auto u = mg::var<"u">;
  std::cout << mg::to_string(mg::d(mg::ei(u), u)) << "\n";        // exp(u) / u
  std::cout << mg::grad(mg::ei(u) * u, u = 1.5)[u] << "\n";        // Ei(1.5) + e^1.5
  auto t = mg::ei(x);                                              // dynamic: EiBackward0
  auto fused = (mg::ei(u) * u)(u = x);                             // the bridge: one node
  std::cout << t.grad_fn()->name() << " " << fused.grad_fn()->name() << "\n";
}
