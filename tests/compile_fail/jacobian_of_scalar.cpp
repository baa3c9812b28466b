// expect: mg::jacobian: the expression must be vector-valued
#include <metagrad/static.hpp>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
int main() {
  auto J = mg::jacobian(x * x, x = 2.0);
  return static_cast<int>(J[x](0, 0));
}
