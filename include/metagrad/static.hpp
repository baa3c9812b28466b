// metagrad/static.hpp — the static face: compile-time expression types,
// constexpr evaluation, symbolic `d`, and the fused `grad` sweep.
#pragma once
#include "static/diff.hpp"
#include "static/eval.hpp"
#include "static/expr.hpp"
#include "static/grad.hpp"
#include "static/hessian.hpp"
#include "static/jacobian.hpp"
#include "static/ops.hpp"
#include "static/to_string.hpp"
