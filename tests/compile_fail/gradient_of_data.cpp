// expect: mg::grad: no gradient for a variable bound with mg::data
#include <metagrad/static.hpp>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;
int main() {
  auto g = mg::grad(x * y, x = 1.0, y = mg::data(2.0));
  return static_cast<int>(g[y]);
}
