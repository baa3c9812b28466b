// metagrad/detail/pool.hpp — the small-object pool behind graph nodes, tensor
// handles and small buffers: thread-local free lists by size class, so a
// graph op costs no trip to malloc once the pool is warm.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <memory>
#include <new>
#include <unordered_map>
#include <vector>

#include "config.hpp"

namespace metagrad::detail {

/// Bytes held by tensor storage (buffers of more than a few elements), counted
/// by each thread for itself: one process-wide atomic took a locked add per
/// buffer, which waits for every store before it to reach the cache (after a
/// 64 x 64 outer product, its 512 vector stores: 5% of a small MLP step). A
/// counter has one writer, its thread, so plain loads and stores suffice; a
/// buffer freed on another thread than the one that made it is subtracted
/// there, and the sum over threads stays right.
class StorageBytes {
 public:
  /// (out of line: the thread-local's guard stays out of the callers, which
  /// are a storage's constructor and destructor)
  METAGRAD_NOINLINE static void add(std::int64_t b) noexcept {
    auto& c = local();
    if (c.dead) {
      registry().retired.fetch_add(b, std::memory_order_relaxed);
      return;
    }
    c.bytes.store(c.bytes.load(std::memory_order_relaxed) + b, std::memory_order_relaxed);
  }
  /// The sum over every thread, live or ended.
  static std::int64_t total() {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.m);
    std::int64_t n = r.retired.load(std::memory_order_relaxed);
    for (const Counter* c : r.live) n += c->bytes.load(std::memory_order_relaxed);
    return n;
  }

 private:
  struct Counter;
  struct Registry {
    std::mutex m;
    std::vector<Counter*> live;
    std::atomic<std::int64_t> retired{0};
  };
  static Registry& registry() {
    static Registry r;
    return r;
  }
  struct Counter {
    std::atomic<std::int64_t> bytes{0};
    bool dead = false;
    Counter() {
      auto& r = registry();
      std::lock_guard<std::mutex> lock(r.m);
      r.live.push_back(this);
    }
    ~Counter() {
      auto& r = registry();
      std::lock_guard<std::mutex> lock(r.m);
      for (auto& c : r.live)
        if (c == this) {
          c = r.live.back();
          r.live.pop_back();
          break;
        }
      r.retired.fetch_add(bytes.load(std::memory_order_relaxed), std::memory_order_relaxed);
      dead = true;
    }
  };
  static Counter& local() {
    thread_local Counter c;
    return c;
  }
};

/// Bytes currently held by tensor storage, over all threads; tests use it to
/// check that memory returns to baseline.
inline std::int64_t live_storage_bytes() { return StorageBytes::total(); }

/// `c` bytes aligned to `align`, or std::bad_alloc.
inline void* aligned_or_throw(std::size_t align, std::size_t c) {
  void* p = std::aligned_alloc(align, c);
  if (!p) throw std::bad_alloc();
  return p;
}

class SmallPool {
 public:
  static constexpr std::size_t kGranule = 16;
  static constexpr std::size_t kClasses = 32;  // up to 512 bytes
  /// Bytes each size class keeps for reuse. A graph of n ops frees about n
  /// nodes, tensor handles and small buffers of each class at once when its
  /// backward ends; a cap of 4,096 blocks sent a 10,000-op chain's objects back
  /// to malloc on every iteration (466 against 246 ns per op).
  static constexpr std::size_t kMaxCachedBytes = std::size_t{16} << 20;

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
    if (lists.dead || l.count * c >= kMaxCachedBytes / kGranule) {
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

/// Tensor buffers under 16 KB (64-byte classes), reused per thread: a 64-wide
/// layer's vectors and small matrices were an aligned malloc and free each,
/// about an eighth of a small MLP step. At most kMaxCachedBytes per thread
/// are kept; a buffer freed on another thread joins that thread's lists.
class MediumPool {
 public:
  static constexpr std::size_t kAlign = 64;
  static constexpr std::size_t kLimit = std::size_t{1} << 14;  // classes below this
  static constexpr std::size_t kMaxCachedBytes = std::size_t{8} << 20;

  /// `c`: a multiple of kAlign below kLimit.
  static void* allocate(std::size_t c) {
    auto& l = local();
    Block*& head = l.heads[c / kAlign];
    if (head) {
      Block* b = head;
      head = b->next;
      l.bytes -= c;
      return b;
    }
    return aligned_or_throw(kAlign, c);
  }
  static void deallocate(void* p, std::size_t c) noexcept {
    auto& l = local();
    if (l.dead || l.bytes + c > kMaxCachedBytes) {
      std::free(p);
      return;
    }
    auto* b = static_cast<Block*>(p);
    Block*& head = l.heads[c / kAlign];
    b->next = head;
    head = b;
    l.bytes += c;
  }
  /// Frees this thread's cached buffers.
  static void release() noexcept { local().free_all(); }

 private:
  struct Block { Block* next; };
  struct Lists {
    Block* heads[kLimit / kAlign] = {};
    std::size_t bytes = 0;
    bool dead = false;
    void free_all() noexcept {
      for (auto& h : heads)
        while (h) {
          Block* n = h->next;
          std::free(h);
          h = n;
        }
      bytes = 0;
    }
    ~Lists() {
      dead = true;
      free_all();
    }
  };
  static Lists& local() {
    thread_local Lists lists;
    return lists;
  }
};

/// A cache of large tensor buffers by size class. Freshly mapped memory costs
/// a page fault per page on first touch (glibc maps and unmaps big blocks on
/// every malloc/free), which dominated elementwise ops on 1M elements; reuse
/// keeps steady-state loops fault-free. At most kMaxCached bytes are kept;
/// `release_cached_buffers()` returns them to the system.
class BufferCache {
 public:
  static constexpr std::size_t kMinBytes = std::size_t{1} << 14;
  static constexpr std::size_t kMaxCached = std::size_t{1} << 30;
  static constexpr std::size_t kAlign = 64;
  static_assert(kMinBytes == MediumPool::kLimit && kAlign == MediumPool::kAlign, "the two caches must meet");

  /// Bytes actually reserved for a request (quarter-power-of-two classes).
  static std::size_t size_class(std::size_t bytes) {
    if (bytes < kMinBytes) return (bytes + kAlign - 1) / kAlign * kAlign;
    std::size_t p = kMinBytes;
    while (p < bytes) p <<= 1;
    const std::size_t q = p / 4;
    return (bytes + q - 1) / q * q;
  }
  static void* allocate(std::size_t bytes) {
    const std::size_t c = size_class(bytes);
    if (c < kMinBytes && c > 0) return MediumPool::allocate(c);
    if (c >= kMinBytes) {
      auto& self = instance();
      std::lock_guard<std::mutex> lock(self.m_);
      auto it = self.free_.find(c);
      if (it != self.free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        self.cached_ -= c;
        return p;
      }
    }
    return aligned_or_throw(kAlign, c);
  }
  static void deallocate(void* p, std::size_t bytes) noexcept {
    const std::size_t c = size_class(bytes);
    if (c < kMinBytes && c > 0) return MediumPool::deallocate(p, c);
    if (c >= kMinBytes) {
      auto& self = instance();
      std::lock_guard<std::mutex> lock(self.m_);
      if (self.cached_ + c <= kMaxCached) {
        try {
          self.free_[c].push_back(p);
          self.cached_ += c;
          return;
        } catch (...) {
        }
      }
    }
    std::free(p);
  }
  static void release_all() {
    MediumPool::release();
    auto& self = instance();
    std::lock_guard<std::mutex> lock(self.m_);
    for (auto& [c, v] : self.free_)
      for (void* p : v) std::free(p);
    self.free_.clear();
    self.cached_ = 0;
  }
  static std::size_t cached_bytes() {
    auto& self = instance();
    std::lock_guard<std::mutex> lock(self.m_);
    return self.cached_;
  }

 private:
  static BufferCache& instance() {
    static BufferCache* c = new BufferCache;  // never destroyed: tensors may outlive static destructors
    return *c;
  }
  std::mutex m_;
  std::unordered_map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_ = 0;
};

/// Returns cached tensor buffers to the system (like torch.cuda.empty_cache()).
inline void release_cached_buffers() { BufferCache::release_all(); }

/// A standard allocator over SmallPool, for std::allocate_shared.
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= SmallPool::kGranule, "metagrad: SmallPool aligns to 16 bytes only");
    return static_cast<T*>(SmallPool::allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { SmallPool::deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept { return true; }
};

/// Deletes what make_pooled made: destroys it, returns its block to SmallPool.
template <class T>
struct PoolDelete {
  void operator()(T* p) const noexcept {
    p->~T();
    SmallPool::deallocate(p, sizeof(T));
  }
};
/// A unique_ptr whose object lives in SmallPool.
template <class T>
using PoolPtr = std::unique_ptr<T, PoolDelete<T>>;
template <class T, class... A>
PoolPtr<T> make_pooled(A&&... a) {
  static_assert(alignof(T) <= SmallPool::kGranule, "metagrad: SmallPool aligns to 16 bytes only");
  void* p = SmallPool::allocate(sizeof(T));
  try {
    return PoolPtr<T>(::new (p) T(std::forward<A>(a)...));
  } catch (...) {
    SmallPool::deallocate(p, sizeof(T));
    throw;
  }
}

}  // namespace metagrad::detail
