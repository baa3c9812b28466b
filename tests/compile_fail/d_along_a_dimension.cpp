// expect: mg::d: a reduction along a dimension (sum(x, d), softmax(x, d), ...) has no symbolic derivative here
#include <metagrad/static.hpp>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
int main() {
  auto d = mg::d(mg::sum(mg::softmax(x, 1)), x);
  return static_cast<int>(sizeof(d));
}
