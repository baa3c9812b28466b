#include <metagrad/metagrad.hpp>
#include <iostream>
namespace mg = metagrad;

int main() {
  auto x = mg::tensor({2., 3.}, mg::requires_grad());
  auto y = mg::zeros({2});
  y[0] = x[0].pow(2) + x[1] * 3;  // in-place slice assignment: CopySlices
  y[1] = x[0] * 2 + x[1].pow(2);
  y.backward(mg::tensor({1., 1.}));  // vector-Jacobian product
  std::cout << y << "\n" << x.grad() << "\n";

  // a static expression on tensors: one fused graph node
  constexpr auto u = mg::var<"u">;
  constexpr auto v = mg::var<"v">;
  mg::Tensor z = (mg::exp(u) * v + mg::sin(u * v))(u = x, v = 0.5);
  std::cout << z << "\n";
}
