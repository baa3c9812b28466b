// metagrad/detail/pool.hpp — the small-object pool behind graph nodes, tensor
// handles and small buffers: thread-local free lists by size class, so a
// graph op costs no trip to malloc once the pool is warm.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

namespace metagrad::detail {

/// Bytes currently held by tensor storage (large buffers and pooled small
/// ones); tests use it to check that memory returns to baseline.
inline std::atomic<std::int64_t>& live_storage_bytes() {
  static std::atomic<std::int64_t> n{0};
  return n;
}

class SmallPool {
 public:
  static constexpr std::size_t kGranule = 16;
  static constexpr std::size_t kClasses = 32;  // up to 512 bytes
  static constexpr std::size_t kMaxCached = 4096;

  static void* allocate(std::size_t bytes) {
    std::size_t c = (bytes + kGranule - 1) / kGranule;
    if (c == 0 || c > kClasses) return ::operator new(bytes, std::align_val_t{kGranule});
    auto& l = local().lists[c - 1];
    if (l.head) {
      Block* b = l.head;
      l.head = b->next;
      --l.count;
      return b;
    }
    return ::operator new(c * kGranule, std::align_val_t{kGranule});
  }
  static void deallocate(void* p, std::size_t bytes) noexcept {
    std::size_t c = (bytes + kGranule - 1) / kGranule;
    if (c == 0 || c > kClasses) {
      ::operator delete(p, std::align_val_t{kGranule});
      return;
    }
    auto& lists = local();
    auto& l = lists.lists[c - 1];
    if (lists.dead || l.count >= kMaxCached) {
      ::operator delete(p, std::align_val_t{kGranule});
      return;
    }
    auto* b = static_cast<Block*>(p);
    b->next = l.head;
    l.head = b;
    ++l.count;
  }

 private:
  struct Block { Block* next; };
  struct List { Block* head = nullptr; std::size_t count = 0; };
  struct Lists {
    List lists[kClasses];
    bool dead = false;
    ~Lists() {
      dead = true;
      for (auto& l : lists)
        while (l.head) {
          Block* n = l.head->next;
          ::operator delete(l.head, std::align_val_t{kGranule});
          l.head = n;
        }
    }
  };
  static Lists& local() {
    thread_local Lists lists;
    return lists;
  }
};

/// A standard allocator over SmallPool, for std::allocate_shared.
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(SmallPool::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { SmallPool::deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept { return true; }
};

}  // namespace metagrad::detail
