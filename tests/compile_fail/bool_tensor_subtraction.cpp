// expect: Subtraction, the `-` operator, with a bool tensor is not supported
#include <metagrad/dynamic.hpp>
namespace mg = metagrad;
int main() {
  auto x = mg::tensor({-1., 2.});
  auto keep = 1 - (x > 0.);  // PyTorch refuses it too: a mask is inverted with !mask
  return static_cast<int>(keep.sum().item());
}
