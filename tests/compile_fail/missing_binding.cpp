// expect: a variable of the expression has no binding
#include <metagrad/static.hpp>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
constexpr auto y = mg::var<"y">;
int main() { return static_cast<int>(mg::eval(x * y, x = 1.0)); }
