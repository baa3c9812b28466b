// metagrad/detail/flat_tuple.hpp — a tuple for generated code: each element is
// a direct base (no recursion, no constrained constructor overloads), so a
// K-element tuple costs one class instantiation where std::tuple costs K levels
// of _Tuple_impl plus its constructor overload sets. The fused static passes
// keep a K-slot tuple per expression node list, several per gradient: this is
// a measurable share of what each distinct gradient costs to compile.
#pragma once
#include <cstddef>
#include <utility>

namespace metagrad::detail {

template <std::size_t I, class T>
struct flat_slot {
  T value{};
};

template <class Seq, class... Ts>
struct flat_tuple_base;
template <std::size_t... I, class... Ts>
struct flat_tuple_base<std::index_sequence<I...>, Ts...> : flat_slot<I, Ts>... {
  constexpr flat_tuple_base() = default;
  constexpr explicit flat_tuple_base(Ts... v) : flat_slot<I, Ts>{std::move(v)}... {}
};
template <>
struct flat_tuple_base<std::index_sequence<>> {};

/// Elements are value-initialised by default construction (as std::tuple's).
template <class... Ts>
struct flat_tuple : flat_tuple_base<std::index_sequence_for<Ts...>, Ts...> {
  using flat_tuple_base<std::index_sequence_for<Ts...>, Ts...>::flat_tuple_base;
};

/// Element I (found by deducing the base class: no recursion).
template <std::size_t I, class T>
constexpr T& fget(flat_slot<I, T>& s) noexcept { return s.value; }
template <std::size_t I, class T>
constexpr const T& fget(const flat_slot<I, T>& s) noexcept { return s.value; }

template <class... Ts>
constexpr flat_tuple<Ts...> make_flat_tuple(Ts... v) { return flat_tuple<Ts...>(std::move(v)...); }

}  // namespace metagrad::detail
