// expect: mg: the Eigen bindings mix scalar types (float and double)
#include <metagrad/static.hpp>
#include <Eigen/Core>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;
int main() {
  Eigen::VectorXf a = Eigen::VectorXf::Ones(3);
  Eigen::VectorXd b = Eigen::VectorXd::Ones(3);
  auto g = mg::grad(mg::sum(x * y), x = a, y = b);
  return static_cast<int>(g.value);
}
