// examples/seeds.hpp — the five PyTorch autograd tutorials of shared/seeds/,
// cell by cell, in C++. Each function prints what the notebook prints (modern
// PyTorch semantics; fixed inputs where a notebook used randn). The cells are
// in seed_cells.cpp, compiled once: the demo (examples/seeds.cpp) prints them,
// tests/examples/test_seeds.cpp asserts the exact text.
#pragma once
#include <ostream>

namespace seeds {
/// 000: the blitz autograd tutorial (requires_grad, grad_fn, backward, no_grad,
/// vector-Jacobian products with slice assignment, the Jacobian loop).
void seed000(std::ostream& out);
/// 001: scalar and matrix derivatives, gradients with weights, zeroing grads.
void seed001(std::ostream& out);
/// 002: the Variable-era tutorial in modern form (matmul gradients with fixed
/// inputs instead of randn, n[0][1] slice assignment, retain_graph, the exercise).
void seed002(std::ostream& out);
/// 003: leaves and non-leaves, the graph (grad_fn, next_functions).
void seed003(std::ostream& out);
/// 004: the PyTorch basics tutorial (BCE-with-logits loss, no_grad, detach,
/// vector-Jacobian products on a 5x5 input) with fixed w, b instead of randn.
void seed004(std::ostream& out);
}  // namespace seeds
