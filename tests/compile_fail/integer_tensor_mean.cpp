// expect: mg: this op computes fractions and takes a floating-point tensor
#include <metagrad/dynamic.hpp>
namespace mg = metagrad;
int main() {
  auto idx = mg::tensor({1, 2});  // an int64 tensor: PyTorch refuses its mean
  return static_cast<int>(idx.mean().item());
}
