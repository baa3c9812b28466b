// expect: the first argument must be a metagrad static expression
#include <metagrad/static.hpp>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
int main() { return static_cast<int>(mg::d(3.0, x)); }
