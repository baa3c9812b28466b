// examples/seeds.cpp — the main demo: the five seed tutorials, cell by cell.
#include <iostream>

#include "seeds.hpp"

int main() {
  std::cout << "===== seed 000: autograd blitz =====\n";
  seeds::seed000(std::cout);
  std::cout << "\n===== seed 001: scalar and matrix derivatives =====\n";
  seeds::seed001(std::cout);
  std::cout << "\n===== seed 002: Variable-era tutorial, modern API =====\n";
  seeds::seed002(std::cout);
  std::cout << "\n===== seed 003: leaves and the graph =====\n";
  seeds::seed003(std::cout);
  std::cout << "\n===== seed 004: BCE loss, no_grad, detach, Jacobian products =====\n";
  seeds::seed004(std::cout);
}
