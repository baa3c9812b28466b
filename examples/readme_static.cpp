#include <metagrad/static.hpp>
#include <iostream>
namespace mg = metagrad;
using namespace mg::literals;

constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;
constexpr auto f = mg::pow(x, 2_c) * y + mg::sin(x * y);

// the derivative is a type, simplified at compile time, checked at compile time
static_assert(mg::d(f, y)(x = 2.0, y = 0.0) == 4.0 + 2.0);

int main() {
  auto g = mg::grad(f, x = 1.5, y = -0.5);  // one fused forward + reverse sweep
  std::cout << "f = " << g.value << ", df/dx = " << g[x] << ", df/dy = " << g[y] << "\n";
  std::cout << "d2f/dxdy = " << mg::to_string(mg::d(f, x, y)) << "\n";
}
