// metagrad/dynamic/dot.hpp — mg::to_dot(t): the backward graph of t as
// Graphviz DOT text (node names with the shapes of the tensors they saved,
// leaves with their shapes, the root tensor).
#pragma once
#include <sstream>
#include <unordered_map>

#include "factories.hpp"

namespace metagrad {

template <class T>
std::string to_dot(const BasicTensor<T>& t) {
  std::ostringstream os;
  os << "digraph backward {\n  node [shape=box, fontname=\"monospace\"];\n";
  std::unordered_map<const BasicNode<T>*, int> ids;
  std::vector<const BasicNode<T>*> stack;
  auto id_of = [&](const BasicNode<T>* n) {
    auto [it, fresh] = ids.emplace(n, static_cast<int>(ids.size()));
    if (fresh) stack.push_back(n);
    return it->second;
  };
  os << "  root [label=\"tensor " << t.sizes() << "\", style=filled, fillcolor=\"#c8e6c9\"];\n";
  if (auto fn = t.grad_fn()) os << "  n" << id_of(fn.get()) << " -> root;\n";
  else if (t.requires_grad()) os << "  root [label=\"leaf " << t.sizes() << " requires_grad\"];\n";
  while (!stack.empty()) {
    const auto* n = stack.back();
    stack.pop_back();
    const int me = ids[n];
    if (auto* acc = dynamic_cast<const AccumulateGrad<T>*>(n)) {
      auto v = acc->variable.lock();
      os << "  n" << me << " [label=\"AccumulateGrad\\nleaf " << (v ? v->sizes : Sizes{})
         << " requires_grad\", style=filled, fillcolor=\"#bbdefb\"];\n";
      continue;
    }
    os << "  n" << me << " [label=\"" << n->name();
    for (const auto& s : n->saved_sizes()) os << "\\nsaved " << s;
    os << "\"];\n";
    for (int i = 0; i < n->num_edges(); ++i)
      if (const auto* c = n->edge(i).fn.get()) os << "  n" << id_of(c) << " -> n" << me << ";\n";
  }
  os << "}\n";
  return os.str();
}

}  // namespace metagrad
