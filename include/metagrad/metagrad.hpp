// metagrad/metagrad.hpp — everything: static mode, dynamic mode, the bridge.
#pragma once
#include "bridge.hpp"
#include "custom_op.hpp"
#include "dynamic.hpp"
#include "static.hpp"
