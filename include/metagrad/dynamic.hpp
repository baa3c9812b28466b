// metagrad/dynamic.hpp — the dynamic face: mg::Tensor and its runtime graph.
#pragma once
#include "dynamic/clamp.hpp"
#include "dynamic/compare.hpp"
#include "dynamic/core.hpp"
#include "dynamic/dot.hpp"
#include "dynamic/engine.hpp"
#include "dynamic/factories.hpp"
#include "dynamic/function.hpp"
#include "dynamic/functional.hpp"
#include "dynamic/indexing.hpp"
#include "dynamic/linalg.hpp"
#include "dynamic/nn.hpp"
#include "dynamic/ops.hpp"
#include "dynamic/print.hpp"
#include "dynamic/promotion.hpp"
#include "dynamic/reductions.hpp"
#include "dynamic/structure.hpp"
#include "dynamic/tensor.hpp"
#include "dynamic/tensor_members.hpp"
#include "dynamic/views.hpp"
#include "dynamic/instantiations.hpp"

// Compiled mode (linking metagrad::dynamic defines METAGRAD_DYNAMIC_LIB): the
// engine and the ops for double and float come from the library.
#if defined(METAGRAD_DYNAMIC_LIB) && !defined(METAGRAD_BUILDING_DYNAMIC_LIB)
namespace metagrad {
METAGRAD_DYNAMIC_INSTANTIATIONS(extern, double)
METAGRAD_DYNAMIC_INSTANTIATIONS(extern, float)
}  // namespace metagrad
#endif
