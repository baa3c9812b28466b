// metagrad/static/grad.hpp — `mg::grad(e, bindings...)`: the value and the
// gradient with respect to every bound variable from ONE forward and ONE
// reverse sweep, both generated at compile time from the expression type by
// tape.hpp (common subexpressions once; no runtime tape, no virtual calls,
// no allocation for scalar and fixed-size Eigen bindings). Each reverse step
// is the rule table's vector-Jacobian product.
#pragma once
#include "../detail/config.hpp"
#include "tape.hpp"

namespace metagrad {

/// What mg::grad returns: `.value`, and `g[x]` for each bound variable x.
template <class V, class Grads, class... Bs>
struct GradResult {
  V value;
  Grads grads;
  template <detail::fixed_string N>
  const auto& operator[](const Var<N>&) const {
    static_assert(detail::is_bound<N, Bs...>, "mg::grad: no gradient for a variable that was not bound");
    static_assert(!(... || (Bs::name == N && detail::is_data_binding<Bs>)),
                  "mg::grad: no gradient for a variable bound with mg::data");
    return std::get<detail::binding_index<N, Bs...>()>(grads);
  }
};

template <class E, class... Bs>
auto grad(const E& e, const Bs&... bs) {
  static_assert(StaticExpr<E>, "mg::grad: the first argument must be a metagrad static expression");
  static_assert(detail::all_bindings<Bs...>, "mg::grad: arguments after the expression must be bindings `var = value`");
  using S = detail::common_scalar_t<Bs...>;
  using Tape = detail::Tape<S, E, Bs...>;
  using Root = typename detail::numbered<E>::type;
  Tape tape(e);
  if constexpr (detail::is_fused_reduction<Root, Bs...>::value && detail::frontier_free<Root>) {
    // The whole function is one fused reduction: its pass writes the
    // gradients directly.
    using A = std::remove_cvref_t<decltype(std::declval<Root>().a)>;
    auto grads = std::make_tuple(
        detail::grad_slot<S, detail::reads_direct<A, Bs::name>::value>(bs)...);
    constexpr bool mean = std::is_same_v<decltype(rule_of(std::declval<Root>())), rules::Mean>;
    const std::int64_t n = detail::common_size<A>(bs...);
    S value = detail::packet_sweep<S, A>(tape.consts, grads, detail::FrontierIO<S, 0>{}, mean ? S(1) / static_cast<S>(n) : S(1), n, bs...);
    if constexpr (mean) value /= static_cast<S>(n);
    return GradResult<S, decltype(grads), Bs...>{value, std::move(grads)};
  } else {
    auto grads = std::make_tuple(detail::grad_slot<S, Tape::template fresh<Bs::name>>(bs)...);
    tape.forward(grads, bs...);
    static_assert(std::is_arithmetic_v<std::remove_cvref_t<decltype(detail::plain_value(*std::get<Tape::K - 1>(tape.vals)))>>,
                  "mg::grad: the expression must have a scalar value (reduce Eigen values with sum, mean or dot)");
    tape.backward(S(1), grads, bs...);
    return GradResult<S, decltype(grads), Bs...>{tape.value(), std::move(grads)};
  }
}

}  // namespace metagrad
