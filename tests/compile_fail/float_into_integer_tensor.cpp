// expect: mg: an in-place op cannot store a floating-point result in an integer or bool tensor
#include <metagrad/dynamic.hpp>
namespace mg = metagrad;
int main() {
  auto idx = mg::tensor({1, 2});
  idx.mul_(2.5);  // would truncate 2.5 to 2; PyTorch: "result type Double can't be cast to ... Long"
  return 0;
}
