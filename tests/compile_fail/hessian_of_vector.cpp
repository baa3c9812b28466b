// expect: mg::hessian: the expression must be scalar-valued
#include <metagrad/static.hpp>
#include <Eigen/Core>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
int main() {
  Eigen::VectorXd v = Eigen::VectorXd::Ones(3);
  auto H = mg::hessian(mg::sin(x), x = v);
  return static_cast<int>(H[x](0, 0));
}
