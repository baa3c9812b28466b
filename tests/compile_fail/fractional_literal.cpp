// expect: _c makes an integral constant
#include <metagrad/static.hpp>
namespace mg = metagrad;
using namespace mg::literals;
constexpr auto x = mg::var<"x">;
int main() { return static_cast<int>(mg::eval(0.5_c * x, x = 2.0)); }
