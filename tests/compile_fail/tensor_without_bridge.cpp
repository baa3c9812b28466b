// expect: mg::eval: a static expression on tensors needs the bridge
#include <metagrad/dynamic.hpp>
#include <metagrad/static.hpp>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
int main() {
  auto t = mg::ones({3}, mg::requires_grad());
  auto y = mg::exp(x)(x = t);
  return static_cast<int>(y.numel());
}
