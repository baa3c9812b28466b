// expect: mg::data: evaluate an Eigen expression before binding it as data
#include <metagrad/static.hpp>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;
int main() {
  const Eigen::VectorXd v = Eigen::VectorXd::Ones(3);
  return static_cast<int>(mg::grad(mg::sum(x * y), x = v, y = mg::data(2.0 * v)).value);
}
