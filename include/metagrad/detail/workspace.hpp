// metagrad/detail/workspace.hpp — a cache of one object of any type, kept by
// a result of `mg::grad` so that `mg::grad_into` finds the tape (and every
// intermediate and adjoint buffer) of its previous sweep and allocates
// nothing when the expression and the shapes are the same. The cache is not
// part of the result's value: a copy starts empty.
#pragma once
#include <memory>
#include <utility>

namespace metagrad::detail {

class Workspace {
 public:
  Workspace() = default;
  Workspace(const Workspace&) noexcept {}
  Workspace& operator=(const Workspace&) noexcept { return *this; }
  Workspace(Workspace&&) noexcept = default;
  Workspace& operator=(Workspace&&) noexcept = default;
  ~Workspace() = default;

  /// The kept T, made from args if the cache holds nothing or another type.
  template <class T, class... Args>
  T& get(Args&&... args) {
    if (tag_ != &tag_of<T>) {
      held_.reset();
      tag_ = nullptr;
      held_ = std::make_unique<Holder<T>>(std::forward<Args>(args)...);
      tag_ = &tag_of<T>;
    }
    return static_cast<Holder<T>*>(held_.get())->value;
  }
  /// Does the cache hold a T (for tests)?
  template <class T>
  bool holds() const { return tag_ == &tag_of<T>; }

 private:
  struct Base {
    virtual ~Base() = default;
  };
  template <class T>
  struct Holder final : Base {
    template <class... Args>
    explicit Holder(Args&&... args) : value(std::forward<Args>(args)...) {}
    T value;
  };
  // One address per type identifies what is held (no RTTI needed).
  template <class T>
  static constexpr char tag_of = 0;

  std::unique_ptr<Base> held_;
  const void* tag_ = nullptr;
};

}  // namespace metagrad::detail
