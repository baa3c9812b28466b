// metagrad/metagrad.hpp — everything: static mode, dynamic mode, the bridge.
#pragma once
#include "bridge.hpp"
#include "dynamic.hpp"
#include "static.hpp"
