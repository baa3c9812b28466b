// expect: can only differentiate with respect to a variable
#include <metagrad/static.hpp>
namespace mg = metagrad;
using namespace mg::literals;
constexpr auto x = mg::var<"x">;
int main() { return static_cast<int>(mg::d(mg::exp(x), 2_c)(x = 1.0)); }
