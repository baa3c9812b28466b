// expect: mg: elementwise operands have different fixed sizes
#include <metagrad/static.hpp>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;
int main() {
  Eigen::Vector3d a(1, 2, 3);
  Eigen::Vector2d b(1, 2);
  return static_cast<int>(mg::grad(mg::sum(x * y), x = a, y = b).value);
}
