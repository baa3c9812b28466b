// expect: arguments after the expression must be bindings
#include <metagrad/static.hpp>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
int main() { return static_cast<int>(mg::eval(x * 2.0, 1.0)); }
