// expect: only elementwise expressions can be fused
#include <metagrad/metagrad.hpp>
namespace mg = metagrad;
constexpr auto x = mg::var<"x">;
int main() { auto t = mg::ones({2}); return static_cast<int>(mg::sum(x)(x = t).numel()); }
