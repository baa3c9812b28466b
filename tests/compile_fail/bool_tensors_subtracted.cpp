// expect: Subtraction, the `-` operator, with two bool tensors is not supported
#include <metagrad/dynamic.hpp>
namespace mg = metagrad;
int main() {
  auto x = mg::tensor({-1., 2.});
  auto changed = (x > 0.) - (x > 1.);  // PyTorch refuses it too: `!=` is the exclusive or
  return static_cast<int>(changed.sum().item());
}
