// metagrad/dynamic.hpp — the dynamic face: mg::Tensor and its runtime graph.
#pragma once
#include "dynamic/core.hpp"
#include "dynamic/dot.hpp"
#include "dynamic/engine.hpp"
#include "dynamic/factories.hpp"
#include "dynamic/functional.hpp"
#include "dynamic/nn.hpp"
#include "dynamic/ops.hpp"
#include "dynamic/print.hpp"
#include "dynamic/tensor.hpp"
#include "dynamic/views.hpp"
