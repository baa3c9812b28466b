// expect: mg::grad_into: the result must come from mg::grad with the same binding types
#include <metagrad/static.hpp>

#include <Eigen/Core>

namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;

int main() {
  Eigen::VectorXd v = Eigen::VectorXd::Ones(3);
  auto r = mg::grad(mg::sum(x), x = v);
  mg::grad_into(r, mg::sum(x * y), x = v, y = 2.0);
}
