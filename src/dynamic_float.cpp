// src/dynamic_float.cpp — part of the compiled library metagrad::dynamic: the
// dynamic engine and every op of mg::BasicTensor<float> instantiated once
// (the list is dynamic/instantiations.hpp). Consumers linking the library see
// the same list declared `extern template` and skip instantiating it. One
// file per element type, so that the two build in parallel.
#define METAGRAD_BUILDING_DYNAMIC_LIB
#include <metagrad/metagrad.hpp>

namespace metagrad {
METAGRAD_DYNAMIC_INSTANTIATIONS(, float)
}  // namespace metagrad
