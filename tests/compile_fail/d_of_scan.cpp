// expect: mg::d: a scan has no symbolic derivative
#include <metagrad/static.hpp>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
constexpr auto h = mg::var<"h">;
constexpr auto e = mg::var<"e">;
constexpr auto p = mg::var<"p">;
int main() {
  auto d = mg::d(mg::sum(mg::scan(p * h + e, h, 0.0, e, x)), p);
  return static_cast<int>(sizeof(d));
}
