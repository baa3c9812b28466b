// expect: mg::d: prod has symbolic derivatives to the second order only
#include <metagrad/static.hpp>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
int main() {
  auto d3 = mg::d(mg::prod(x), x, x, x);
  return static_cast<int>(sizeof(d3));
}
