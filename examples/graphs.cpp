// examples/graphs.cpp — writes the backward graphs of two seed computations as
// Graphviz DOT (render with `dot -Tsvg`); `./dev graphs` renders them to docs/.
#include <metagrad/metagrad.hpp>
#include <fstream>
#include <iostream>
namespace mg = metagrad;

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  // seed 000: out = mean((x + 2) * (x + 2) * 3), and the CopySlices example
  auto x = mg::ones({2, 2}, mg::requires_grad());
  auto y = x + 2;
  auto out = (y * y * 3).mean();
  std::ofstream(dir + "/seed000_mean.dot") << mg::to_dot(out);
  auto v = mg::tensor({2., 3.}, mg::requires_grad());
  auto k = mg::zeros({2});
  k[0] = v[0].pow(2) + v[1] * 3;
  k[1] = v[0] * 2 + v[1].pow(2);
  std::ofstream(dir + "/seed000_copyslices.dot") << mg::to_dot(k);
  // seed 004: binary cross-entropy of a linear layer
  auto w = mg::ones({5, 3}, mg::requires_grad()), b = mg::zeros({3}, mg::requires_grad());
  auto loss = mg::nn::functional::binary_cross_entropy_with_logits(mg::matmul(mg::ones({5}), w) + b, mg::zeros({3}));
  std::ofstream(dir + "/seed004_loss.dot") << mg::to_dot(loss);
  std::cout << "wrote " << dir << "/seed000_mean.dot, seed000_copyslices.dot, seed004_loss.dot\n";
}
