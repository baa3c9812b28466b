// metagrad/static/jacobian.hpp — `mg::jacobian(e, x = v, ...)` for a
// vector-valued expression: J[x] is the m x n matrix d e_i / d x_j (a column
// for a scalar binding), from ONE forward sweep of the compile-time tape and
// one reverse sweep per output seeded with e_i (row i of every block).
#pragma once
#include "grad.hpp"

namespace metagrad {

/// What mg::jacobian returns: `.value` (the expression's value as a column)
/// and `J[x]` (rows: outputs, columns: x's elements in storage order).
template <class S, class... Bs>
struct JacobianResult {
  Eigen::Matrix<S, Eigen::Dynamic, 1> value;
  std::tuple<std::conditional_t<detail::is_data_binding<Bs>, char, Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>...> blocks;
  template <detail::fixed_string N>
  const auto& operator[](const Var<N>&) const {
    static_assert(detail::is_bound<N, Bs...>, "mg::jacobian: no block for a variable that was not bound");
    static_assert(!(... || (Bs::name == N && detail::is_data_binding<Bs>)),
                  "mg::jacobian: no block for a variable bound with mg::data");
    return std::get<detail::binding_index<N, Bs...>()>(blocks);
  }
};

namespace detail {
template <class G>
Eigen::Index flat_size(const G& g) {
  if constexpr (requires { g.size(); }) return g.size(); else return 1;
}
/// Writes the gradient g (a number or an Eigen value, read in storage order) into row i.
template <class M, class G>
void put_row(M& block, Eigen::Index i, const G& g) {
  if constexpr (requires { g.data(); }) {
    for (Eigen::Index j = 0; j < g.size(); ++j) block(i, j) = g.data()[j];
  } else {
    block(i, 0) = g;
  }
}
}  // namespace detail

/// The Jacobian of a vector-valued expression with respect to every bound
/// variable (not those bound with mg::data).
template <class E, class... Bs>
auto jacobian(const E& e, const Bs&... bs) {
  static_assert(StaticExpr<E>, "mg::jacobian: the first argument must be a metagrad static expression");
  static_assert(detail::all_bindings<Bs...>, "mg::jacobian: arguments after the expression must be bindings `var = value`");
  using S = detail::common_scalar_t<Bs...>;
  using TapeT = detail::Tape<S, E, Bs...>;
  using Y = std::remove_cvref_t<decltype(detail::plain_value(*std::get<TapeT::K - 1>(std::declval<TapeT&>().vals)))>;
  static_assert(!detail::is_number_v<Y>,
                "mg::jacobian: the expression must be vector-valued (for a scalar expression use mg::grad)");
  auto grads = std::make_tuple(detail::grad_slot<S, false>(bs)...);
  TapeT tape(e);
  tape.forward(grads, bs...);
  const auto forward_grads = grads;  // what forward wrote (fused reductions' derivatives), for every sweep
  const Y& y = detail::plain_value(*std::get<TapeT::K - 1>(tape.vals));
  const Eigen::Index m = y.size();
  JacobianResult<S, Bs...> r;
  r.value = Eigen::Map<const Eigen::Matrix<S, Eigen::Dynamic, 1>>(y.data(), m);
  [&]<std::size_t... J>(std::index_sequence<J...>) {
    ((void)[&] {
       if constexpr (!detail::is_data_binding<Bs>)
         std::get<J>(r.blocks).resize(m, detail::flat_size(std::get<J>(grads)));
     }(), ...);
    Y seed = Y::Zero(y.rows(), y.cols());
    for (Eigen::Index i = 0; i < m; ++i) {
      seed.data()[i] = S(1);
      grads = forward_grads;
      tape.backward(seed, grads, bs...);
      ((void)[&] {
         if constexpr (!detail::is_data_binding<Bs>) detail::put_row(std::get<J>(r.blocks), i, std::get<J>(grads));
       }(), ...);
      seed.data()[i] = S(0);
    }
  }(std::index_sequence_for<Bs...>{});
  return r;
}

}  // namespace metagrad
