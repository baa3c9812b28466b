// A downstream program: everything from one include.
#include <metagrad/metagrad.hpp>
#include <iostream>
namespace mg = metagrad;
using namespace mg::literals;

int main() {
  constexpr auto x = mg::var<"x">;
  static_assert(mg::d(mg::pow(x, 3_c), x)(x = 2.0) == 12.0);
  auto t = mg::tensor({1., 2.}, mg::requires_grad());
  (t * t).sum().backward();
  std::cout << t.grad() << "\n";
  return t.grad().at({1}) == 4.0 ? 0 : 1;
}
