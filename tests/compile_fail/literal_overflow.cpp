// expect: a _c constant must fit in a 64-bit signed integer
#include <metagrad/static.hpp>
namespace mg = metagrad;
using namespace mg::literals;
constexpr auto x = mg::var<"x">;
int main() { return static_cast<int>(mg::eval(9223372036854775808_c * x, x = 2.0)); }
