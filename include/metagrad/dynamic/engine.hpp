// metagrad/dynamic/engine.hpp — the backward engine, like PyTorch's: collect
// the graph reachable from the roots, count dependencies, then run nodes in
// topological order from a ready stack — iteratively, never recursively, so
// graphs of any depth are safe. Saved tensors are freed unless retain_graph.
// Gradients into leaves (and retained non-leaf grads) are committed only
// after every node ran, so an error mid-way leaves all `.grad`s unchanged.
#pragma once
#include <atomic>
#include <exception>
#include <span>
#include <thread>

#include "tensor_members.hpp"

namespace metagrad {
namespace detail {

inline std::uint64_t next_task_id() {
  static std::atomic<std::uint64_t> id{1};
  return id.fetch_add(1, std::memory_order_relaxed);
}

template <class T>
struct GraphTask {
  using NodeT = BasicNode<T>;
  std::uint64_t id = 0;
  std::vector<NodeT*> order;                  // post-order, children before parents (capture mode only)
  std::vector<BasicTensor<T>> buffers;        // one input buffer per node output
  std::vector<BasicTensor<T>> captured;       // autograd::grad results
  bool capture_mode = false;
  /// Re-entrant backward (a custom function's backward that runs backward):
  /// the nodes an inner task visits may belong to the outer one too, so the
  /// inner task keeps their state and puts it back when it ends.
  bool reentrant = false;
  std::vector<std::pair<NodeT*, typename NodeT::EngineState>> saved_states;
  // run_backward_here's working lists, kept with the task: a task is reused
  // (TaskLease), so a backward allocates none of them once warm
  std::vector<std::pair<NodeT*, int>> stack;
  std::vector<NodeT*> ready;
  std::vector<BasicTensor<T>> grads, out;
  std::vector<std::pair<std::weak_ptr<TensorImpl<T>>, BasicTensor<T>>> commits;  // (target impl, gradient)
  std::vector<Edge<T>> roots;
  std::vector<BasicTensor<T>> seeds;

  /// Puts back the states a re-entrant task saved and empties every list
  /// (keeping their capacity).
  void finish() noexcept {
    for (auto it = saved_states.rbegin(); it != saved_states.rend(); ++it) it->first->engine_state = it->second;
    saved_states.clear();
    order.clear();
    buffers.clear();
    captured.clear();
    stack.clear();
    ready.clear();
    grads.clear();
    out.clear();
    commits.clear();
    roots.clear();
    seeds.clear();
    capture_mode = reentrant = false;
  }
  ~GraphTask() { finish(); }

  /// Iterative post-order DFS from the roots: assigns buffers, counts
  /// dependencies, and marks which nodes lead to a capture target.
  void discover(const std::vector<Edge<T>>& roots) {
    auto visit = [&](NodeT* n) {
      auto& st = n->engine_state;
      if (st.task == id) return false;
      if (reentrant) saved_states.emplace_back(n, st);
      st.task = id;
      st.deps = 0;
      st.expanded = false;
      st.buffer = static_cast<std::int64_t>(buffers.size());  // one slot per output of n
      st.outputs = n->num_outputs();
      st.accumulator = n->is_accumulator();
      buffers.resize(buffers.size() + static_cast<std::size_t>(st.outputs));
      st.needed = !capture_mode;
      st.target = -1;
      return true;
    };
    for (const auto& r : roots) {
      if (!r.fn || !visit(r.fn.get())) continue;
      stack.emplace_back(r.fn.get(), 0);
      while (!stack.empty()) {
        auto& [n, i] = stack.back();
        if (i < n->num_edges()) {
          NodeT* c = n->edge(i++).fn.get();
          if (!c) continue;
          const bool fresh = visit(c);
          ++c->engine_state.deps;
          if (fresh) stack.emplace_back(c, 0);
        } else {
          if (capture_mode) order.push_back(n);  // (only mark_needed reads it)
          stack.pop_back();
        }
      }
    }
  }

  void mark_needed() {  // children precede parents in `order`
    for (NodeT* n : order) {
      auto& st = n->engine_state;
      if (st.target >= 0) st.needed = true;
      if (st.needed) continue;
      for (int i = 0; i < n->num_edges(); ++i)
        if (auto* c = n->edge(i).fn.get(); c && c->engine_state.task == id && c->engine_state.needed) {
          st.needed = !st.accumulator;
          break;
        }
    }
  }

  /// buf += g. Without create_graph, into the elements of whichever of the
  /// two nothing else can see (its impl and storage held only here, no
  /// history), when both are contiguous and of one shape: a gradient summed
  /// from many uses then costs no allocation per use (as PyTorch's
  /// InputBuffer); otherwise out of place.
  static void add_into(BasicTensor<T>& buf, BasicTensor<T>&& g) {
    if (!g.defined()) return;
    if (!buf.defined()) {
      buf = std::move(g);
      return;
    }
    // (one element: contiguous whatever its strides)
    if (!is_grad_enabled() && buf.sizes() == g.sizes() &&
        (kernels::one_element(buf.impl()) || (buf.is_contiguous() && g.is_contiguous()))) {
      bool mine = exclusively_owned(buf);
      if (!mine && exclusively_owned(g)) {
        std::swap(buf, g);
        mine = true;
      }
      if (mine) {
        if (kernels::one_element(buf.impl())) *buf.impl().data() += *g.impl().data();
        else kernels::map(buf.impl()) += kernels::cmap(g.impl());
        return;
      }
    }
    buf = buf + g;
  }
};

/// A GraphTask for one backward, taken from this thread's free list and given
/// back emptied (a few kept): a small graph's backward then allocates none of
/// the engine's lists. A re-entrant backward takes a task of its own.
template <class T>
class TaskLease {
 public:
  TaskLease() {
    auto& f = free_list();
    if (!f.tasks.empty()) {
      task_ = std::move(f.tasks.back());
      f.tasks.pop_back();
    } else {
      task_ = std::make_unique<GraphTask<T>>();
    }
    task_->id = next_task_id();
  }
  ~TaskLease() {
    task_->finish();
    auto& f = free_list();
    // (a task that ran a graph of more than kKeepNodes nodes is freed, not
    // kept: its lists would hold tens of MB for the thread's lifetime)
    if (!f.dead && f.tasks.size() < 4 && task_->buffers.capacity() <= kKeepNodes) f.tasks.push_back(std::move(task_));
  }
  TaskLease(const TaskLease&) = delete;
  TaskLease& operator=(const TaskLease&) = delete;
  GraphTask<T>& operator*() const { return *task_; }

 private:
  static constexpr std::size_t kKeepNodes = std::size_t{1} << 16;
  struct FreeList {
    std::vector<std::unique_ptr<GraphTask<T>>> tasks;
    bool dead = false;
    ~FreeList() { dead = true; }
  };
  static FreeList& free_list() {
    thread_local FreeList f;
    return f;
  }
  std::unique_ptr<GraphTask<T>> task_;
};

/// Runs the hooks registered for output k on its gradient g, in order; a hook
/// returning a tensor replaces g, which must keep its shape.
template <class T>
void run_hooks(const std::vector<TensorHook<T>>& hooks, std::uint32_t k, BasicTensor<T>& g) {
  if (hooks.empty()) return;
  const auto copy = hooks;  // a hook may register or remove hooks
  for (const auto& h : copy) {
    if (h.output_nr != k || !h.fn) continue;
    BasicTensor<T> r = h.fn(g);
    if (!r.defined()) continue;
    if (!(r.sizes() == g.sizes()))
      fail("hook 'hook' has changed the size of value: the gradient has shape ", g.sizes(), ", the hook returned ",
           r.sizes());
    g = std::move(r);
  }
}

/// Runs backward from `roots` seeded with `seeds`. In capture mode the
/// gradients reaching `inputs` are returned instead of accumulated.
template <class T>
std::vector<BasicTensor<T>> run_backward_here(std::span<const BasicTensor<T>> outputs,
                                              std::span<const BasicTensor<T>> grad_outputs, bool keep_graph,
                                              bool create_graph, const std::vector<BasicTensor<T>>* inputs,
                                              bool allow_unused, bool reentrant) {
  using TensorT = BasicTensor<T>;
  check(grad_outputs.empty() || grad_outputs.size() == outputs.size(), "got ", grad_outputs.size(),
        " gradients for ", outputs.size(), " outputs");
  TaskLease<T> lease;
  GraphTask<T>& task = *lease;
  auto& roots = task.roots;
  auto& seeds = task.seeds;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& out = outputs[i];
    if (!out.requires_grad())
      fail("element ", i, " of tensors does not require grad and does not have a grad_fn");
    TensorT g = i < grad_outputs.size() ? grad_outputs[i] : TensorT{};
    if (!g.defined()) {
      if (out.numel() != 1) fail("grad can be implicitly created only for scalar outputs");
      auto impl = new_impl<T>(out.sizes());
      *impl->data() = T(1);
      g = TensorT(std::move(impl));
    } else if (!(g.sizes() == out.sizes())) {
      auto torch_size = [](const Sizes& s) {
        std::ostringstream os;
        os << "torch.Size(" << s << ")";
        return os.str();
      };
      fail("Mismatch in shape: grad_output[", i, "] has a shape of ", torch_size(g.sizes()),
           " and output[", i, "] has a shape of ", torch_size(out.sizes()), ".");
    }
    roots.push_back(gradient_edge(out));
    seeds.push_back(std::move(g));
  }

  task.capture_mode = inputs != nullptr;
  task.reentrant = reentrant;
  std::vector<Edge<T>> targets;
  if (inputs) {
    for (const auto& x : *inputs) {
      check(x.defined() && x.requires_grad(), "One of the differentiated Tensors does not require grad");
      targets.push_back(gradient_edge(x));
    }
    task.captured.resize(inputs->size());
  }
  task.discover(roots);
  // multiple targets may share a node; remember them all (autograd::grad only)
  std::vector<std::vector<int>> target_of(inputs ? task.buffers.size() : 0);
  for (std::size_t k = 0; k < targets.size(); ++k) {
    auto* n = targets[k].fn.get();
    if (n->engine_state.task != task.id) continue;  // unreachable: stays undefined
    n->engine_state.target = static_cast<int>(k);
    target_of[static_cast<std::size_t>(n->engine_state.buffer + targets[k].input_nr)].push_back(static_cast<int>(k));
  }
  if (task.capture_mode) task.mark_needed();

  AutoGradMode mode(create_graph);
  for (std::size_t i = 0; i < roots.size(); ++i) {
    auto* n = roots[i].fn.get();
    GraphTask<T>::add_into(task.buffers[static_cast<std::size_t>(n->engine_state.buffer + roots[i].input_nr)],
                           std::move(seeds[i]));
  }
  auto& ready = task.ready;
  for (auto& r : roots)
    if (r.fn->engine_state.deps == 0 && !r.fn->engine_state.expanded) {
      r.fn->engine_state.expanded = true;
      ready.push_back(r.fn.get());
    }

  // commits are applied at the end: (target impl, gradient)
  auto& commits = task.commits;
  auto& out = task.out;
  auto& grads = task.grads;
  // `out` holds undefined tensors between nodes (each slot is emptied after
  // its gradient is handed on), so a node's slots need no refill
  while (!ready.empty()) {
    BasicNode<T>* n = ready.back();
    ready.pop_back();
    auto& st = n->engine_state;
    const int ne = n->num_edges();
    if (out.size() < static_cast<std::size_t>(ne)) out.resize(static_cast<std::size_t>(ne));
    if (st.outputs == 1 && !st.accumulator && !task.capture_mode && !n->hooks_if_any()) {
      // the common node: one output, no hooks, nothing captured
      TensorT g = std::move(task.buffers[static_cast<std::size_t>(st.buffer)]);
      if (st.needed && g.defined()) {
        n->apply(std::move(g), out.data());
        if (!keep_graph) n->release_variables();
      }
    } else {
      const int no = st.outputs;
      grads.resize(static_cast<std::size_t>(no));
      bool any = false;
      for (int k = 0; k < no; ++k) {
        const auto slot = static_cast<std::size_t>(st.buffer + k);
        TensorT& g = grads[static_cast<std::size_t>(k)];
        g = std::move(task.buffers[slot]);
        if (g.defined()) {  // tensor hooks first (a leaf's live on the leaf), then retain_grad and capture
          if (st.accumulator) {
            if (auto leaf = static_cast<AccumulateGrad<T>*>(n)->variable.lock())
              if (auto* x = leaf->extras_if_any()) run_hooks(x->hooks, 0, g);
          } else {
            if (auto* h = n->hooks_if_any()) run_hooks(h->tensor_hooks, static_cast<std::uint32_t>(k), g);
          }
        }
        if (task.capture_mode)
          for (int t : target_of[slot]) task.captured[static_cast<std::size_t>(t)] = g;
        any = any || g.defined();
      }
      if (auto* hooks = n->hooks_if_any())
        for (auto& h : hooks->retain_grad)
          if (auto impl = h.lock())
            commits.emplace_back(h, grads[static_cast<std::size_t>(impl->output_nr) % grads.size()]);
      if (st.accumulator) {
        if (!task.capture_mode && grads[0].defined())
          commits.emplace_back(static_cast<AccumulateGrad<T>*>(n)->variable, std::move(grads[0]));
      } else if (st.needed && any) {
        if (no == 1) n->apply(std::move(grads[0]), out.data());
        else n->apply_multi(grads.data(), out.data());
        if (!keep_graph) n->release_variables();
      }
    }
    for (int i = 0; i < ne; ++i) {
      TensorT& o = out[static_cast<std::size_t>(i)];
      if (auto* c = n->edge(i).fn.get()) {
        GraphTask<T>::add_into(task.buffers[static_cast<std::size_t>(c->engine_state.buffer + n->edge(i).input_nr)],
                               std::move(o));
        if (--c->engine_state.deps == 0) ready.push_back(c);
      }
      if (o.defined()) o = TensorT{};
    }
  }
  for (auto& [target, grad] : commits) AccumulateGrad<T>::accumulate(target, std::move(grad));
  commits.clear();
  if (inputs && !allow_unused)
    for (std::size_t k = 0; k < task.captured.size(); ++k)
      if (!task.captured[k].defined())
        fail("One of the differentiated Tensors appears to not have been used in the graph (inputs[", k,
             "], of shape ", (*inputs)[k].sizes(), "). Set allow_unused=True if this is the desired behavior.");
  return std::move(task.captured);
}

/// Runs backward (run_backward_here). A backward inside a node's backward (a
/// custom function's) is re-entrant: it runs at once on this thread, and past
/// kMaxReentrantDepth nested levels on a fresh thread with its own stack (as
/// PyTorch's engine does), so thousands of nested levels never overflow one.
inline constexpr int kMaxReentrantDepth = 32;
template <class T>
std::vector<BasicTensor<T>> run_backward(std::span<const BasicTensor<T>> outputs,
                                         std::span<const BasicTensor<T>> grad_outputs, bool keep_graph,
                                         bool create_graph, const std::vector<BasicTensor<T>>* inputs,
                                         bool allow_unused) {
  thread_local int depth = 0;
  if (depth >= kMaxReentrantDepth) {
    std::vector<BasicTensor<T>> result;
    std::exception_ptr error;
    const bool grad_mode = is_grad_enabled();
    std::thread worker([&] {
      AutoGradMode mode(grad_mode);
      depth = 1;  // (this thread's counter: what runs here is still nested)
      try {
        result = run_backward<T>(outputs, grad_outputs, keep_graph, create_graph, inputs, allow_unused);
      } catch (...) {
        error = std::current_exception();
      }
    });
    worker.join();
    if (error) std::rethrow_exception(error);
    return result;
  }
  struct Depth {
    int& d;
    explicit Depth(int& x) : d(x) { ++d; }
    ~Depth() { --d; }
  } depth_guard(depth);
  return run_backward_here<T>(outputs, grad_outputs, keep_graph, create_graph, inputs, allow_unused, depth > 1);
}

}  // namespace detail

template <class T>
void BasicTensor<T>::backward(const BasicTensor& gradient, std::optional<bool> retain_graph,
                              bool create_graph) const {
  // (one output and its gradient as spans: a backward builds no vectors for them)
  detail::run_backward<T>(std::span<const BasicTensor>(this, 1), std::span<const BasicTensor>(&gradient, 1),
                          retain_graph.value_or(create_graph), create_graph, nullptr, false);
}

namespace autograd {
/// Gradients of `outputs` with respect to `inputs`, without touching `.grad`.
/// With create_graph the returned gradients are themselves differentiable.
/// (T is double for braced lists, `grad({y}, {x})`, from which it cannot be
/// deduced: one template rather than a Tensor overload beside it, so that a
/// translation unit that never runs backward instantiates no engine.)
template <class T = double>
std::vector<BasicTensor<T>> grad(const std::vector<BasicTensor<T>>& outputs,
                                 const std::vector<BasicTensor<T>>& inputs,
                                 const std::vector<BasicTensor<T>>& grad_outputs = {},
                                 std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                                 bool allow_unused = false) {
  return detail::run_backward<T>(outputs, grad_outputs, retain_graph.value_or(create_graph), create_graph, &inputs,
                                 allow_unused);
}
/// torch.autograd.backward: accumulates into the leaves' `.grad`.
template <class T = double>
void backward(const std::vector<BasicTensor<T>>& outputs, const std::vector<BasicTensor<T>>& grad_outputs = {},
              std::optional<bool> retain_graph = std::nullopt, bool create_graph = false) {
  detail::run_backward<T>(outputs, grad_outputs, retain_graph.value_or(create_graph), create_graph, nullptr, false);
}
}  // namespace autograd

}  // namespace metagrad
