// metagrad/static/hessian.hpp — second derivatives of a scalar expression by
// forward over reverse: the static gradient sweep (mg::grad) runs on dual
// numbers (detail/dual.hpp) whose tangents hold a direction u, so every
// gradient comes out with its directional derivative H u attached.
//   mg::hvp(f, u, x = v, ...):  hv[y] = (d/dy)(grad_x f . u), one sweep; u is
//                               a direction for the FIRST binding (x).
//   mg::hessian(f, x = v, ...): H(x, y), the block d^2 f / dx dy, from one
//                               such sweep per element of the bindings;
//                               symmetric by construction ((H + H^T) / 2).
// Each thread keeps the dual bindings and the last result per expression type
// (DualSweeps), so repeated sweeps allocate nothing.
#pragma once
#include <optional>
#include <tuple>

#include "../detail/dual.hpp"
#include "grad.hpp"

namespace metagrad {
namespace detail {
/// v as duals, written into d: value v, tangent u (a number or an array of
/// v's shape) or 0. An array d keeps its buffer when v's shape is unchanged.
template <class S, class V, class U, class D>
void to_dual(D& d, const V& v, const U* u) {
  if constexpr (is_number_v<V>) {
    S t = S(0);
    if constexpr (is_number_v<U>) {
      if (u) t = static_cast<S>(*u);
    }
    d = Dual<S>(static_cast<S>(v), t);
  } else {
    d.resize(v.rows(), v.cols());
    for (Eigen::Index j = 0; j < v.cols(); ++j)
      for (Eigen::Index i = 0; i < v.rows(); ++i) {
        S t = S(0);
        if constexpr (!is_number_v<U>) {
          if (u) t = static_cast<S>((*u)(i, j));
        }
        d(i, j) = Dual<S>(static_cast<S>(v(i, j)), t);
      }
  }
}
/// The dual form of a value of type V.
template <class S, class V> struct dual_value { using type = Dual<S>; };
template <class S, class V> requires(!is_number_v<V>)
struct dual_value<S, V> {
  using type = Eigen::Array<Dual<S>, V::PlainObject::RowsAtCompileTime, V::PlainObject::ColsAtCompileTime>;
};
template <class S, class V>
using dual_value_t = typename dual_value<S, V>::type;
/// The binding B again, over the dual value d (kept as data if it was).
template <class B, class D>
auto rebind(const D& d) {
  if constexpr (is_data_binding<B>) return Binding<B::name, Data<D>>{Data<D>{d}};
  else if constexpr (is_number_v<D>) return Binding<B::name, D>{d};
  else return Binding<B::name, const D&>{d};
}
/// The value parts (Tangent = false) or tangent parts of a dual gradient.
template <bool Tangent, class G>
auto part(const G& g) {
  if constexpr (is_dual<G>::value) return Tangent ? g.t : g.v;
  else if constexpr (is_number_v<G>) return g;  // (an mg::data slot)
  else return g.unaryExpr([](const auto& d) { return Tangent ? d.t : d.v; }).eval();
}
/// What one thread keeps between the dual sweeps of expression type E with
/// bindings Bs: the bindings as duals and the last result (gradient arrays
/// and tape, for mg::grad_into). A Hessian runs one sweep per element, and
/// an hvp loop one per call: none of them allocates after the first.
template <class E, class... Bs>
struct DualSweeps {
  using S = common_scalar_t<Bs...>;
  std::tuple<dual_value_t<S, std::remove_cvref_t<decltype(bval(std::declval<const Bs&>()))>>...> lifted;
  using Result = decltype(grad(std::declval<const E&>(), rebind<Bs>(std::declval<const dual_value_t<S, std::remove_cvref_t<decltype(bval(std::declval<const Bs&>()))>>&>())...));
  std::optional<Result> last;
  bool busy = false;
};
/// mg::grad over duals: binding J seeded with direction u (null: none). The
/// result lives in this thread's DualSweeps until the next sweep of the same
/// types (a nested sweep of the same types, from inside a custom op, gets a
/// result of its own: `own`).
template <std::size_t J, class E, class U, class... Bs>
const auto& dual_grad(const E& e, const U* u, auto& own, const Bs&... bs) {
  using State = DualSweeps<E, Bs...>;
  using S = typename State::S;
  thread_local State state;
  State* st = &state;
  if (st->busy) st = &own.emplace();
  struct Release {
    State* s;
    ~Release() { s->busy = false; }
  } release{st};
  st->busy = true;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (to_dual<S>(std::get<I>(st->lifted), bval(bs), I == J ? u : static_cast<const U*>(nullptr)), ...);
  }(std::index_sequence_for<Bs...>{});
  std::apply(
      [&](const auto&... d) {
        if (st->last) grad_into(*st->last, e, rebind<Bs>(d)...);
        else st->last.emplace(grad(e, rebind<Bs>(d)...));
      },
      st->lifted);
  return *st->last;
}
template <class B>
Eigen::Index binding_size(const B& b) {
  if constexpr (requires { bval(b).size(); }) return bval(b).size(); else return 1;
}
}  // namespace detail

/// What mg::hvp returns: `.value`, `.grad[x]`-like gradients (`gradient`),
/// and `hv[x]` (H u restricted to x's elements, x's shape).
template <class S, class Grads, class Hv, class... Bs>
struct HvpResult {
  S value;
  Grads gradient;
  Hv hv;
  template <detail::fixed_string N>
  const auto& operator[](const Var<N>&) const {
    static_assert(detail::is_bound<N, Bs...>, "mg::hvp: no result for a variable that was not bound");
    static_assert(!(... || (Bs::name == N && detail::is_data_binding<Bs>)), "mg::hvp: no result for a variable bound with mg::data");
    return std::get<detail::binding_index<N, Bs...>()>(hv);
  }
};

/// The Hessian of scalar f times direction u (for the first binding), with
/// f's value and gradient, from one forward-over-reverse sweep.
template <class E, class U, class B0, class... Bs>
auto hvp(const E& e, const U& u, const B0& b0, const Bs&... bs) {
  static_assert(StaticExpr<E>, "mg::hvp: the first argument must be a metagrad static expression");
  static_assert(detail::all_bindings<B0, Bs...>, "mg::hvp: arguments after the direction must be bindings `var = value`");
  static_assert(!detail::is_data_binding<B0>, "mg::hvp: the direction is for the first binding, which must not be mg::data");
  using S = detail::common_scalar_t<B0, Bs...>;
  if constexpr (!detail::is_number_v<U>) {
    const auto& v = detail::bval(b0);
    if (u.rows() != v.rows() || u.cols() != v.cols())
      detail::fail("mg::hvp: the direction has shape ", u.rows(), "x", u.cols(), " but the first binding has shape ", v.rows(), "x",
                   v.cols());
  }
  std::optional<detail::DualSweeps<E, B0, Bs...>> own;
  const auto& r = detail::dual_grad<0>(e, &u, own, b0, bs...);
  auto values = std::apply([](const auto&... g) { return std::make_tuple(detail::part<false>(g)...); }, r.grads);
  auto tangents = std::apply([](const auto&... g) { return std::make_tuple(detail::part<true>(g)...); }, r.grads);
  return HvpResult<S, decltype(values), decltype(tangents), B0, Bs...>{r.value.v, std::move(values), std::move(tangents)};
}

/// What mg::hessian returns: `.value`, `H(x, y)` (rows: x's elements, columns:
/// y's, in storage order; a scalar is one row or column) and `H[x]` = H(x, x).
template <class S, class... Bs>
struct HessianResult {
  static constexpr std::size_t n = sizeof...(Bs);
  S value;
  std::array<std::array<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>, n>, n> blocks;
  template <detail::fixed_string A, detail::fixed_string B>
  const auto& operator()(const Var<A>&, const Var<B>&) const {
    static_assert(detail::is_bound<A, Bs...> && detail::is_bound<B, Bs...>, "mg::hessian: no block for a variable that was not bound");
    static_assert(!(... || ((Bs::name == A || Bs::name == B) && detail::is_data_binding<Bs>)),
                  "mg::hessian: no block for a variable bound with mg::data");
    return blocks[detail::binding_index<A, Bs...>()][detail::binding_index<B, Bs...>()];
  }
  template <detail::fixed_string A>
  const auto& operator[](const Var<A>& a) const { return (*this)(a, a); }
};

namespace detail {
/// Column k of every block H(., J), from the tangents of dual gradients r.
template <std::size_t J, class H, class R, std::size_t... I>
void put_columns(H& h, Eigen::Index k, const R& r, std::index_sequence<I...>) {
  auto one = [&]<std::size_t Ii>(std::integral_constant<std::size_t, Ii>) {
    const auto t = part<true>(std::get<Ii>(r.grads));
    if constexpr (is_number_v<std::remove_cvref_t<decltype(t)>>) h.blocks[Ii][J](0, k) = t;
    else for (Eigen::Index q = 0; q < t.size(); ++q) h.blocks[Ii][J](q, k) = t.data()[q];
  };
  (one(std::integral_constant<std::size_t, I>{}), ...);
}
/// The blocks H(., J): one sweep per element of binding J.
template <std::size_t J, class H, class E, class... Bs>
void hessian_columns(H& h, const E& e, const Bs&... bs) {
  using B = std::tuple_element_t<J, std::tuple<Bs...>>;
  using S = common_scalar_t<Bs...>;
  if constexpr (!is_data_binding<B>) {
    std::optional<DualSweeps<E, Bs...>> own;
    const auto& v = bval(std::get<J>(std::forward_as_tuple(bs...)));
    using V = std::remove_cvref_t<decltype(v)>;
    if constexpr (is_number_v<V>) {
      const S one = S(1);
      const auto& r = dual_grad<J>(e, &one, own, bs...);
      h.value = r.value.v;
      put_columns<J>(h, 0, r, std::index_sequence_for<Bs...>{});
    } else {
      typename V::PlainObject u = V::PlainObject::Zero(v.rows(), v.cols());
      for (Eigen::Index k = 0; k < v.size(); ++k) {
        u.data()[k] = S(1);
        const auto& r = dual_grad<J>(e, &u, own, bs...);
        u.data()[k] = S(0);
        h.value = r.value.v;
        put_columns<J>(h, k, r, std::index_sequence_for<Bs...>{});
      }
    }
  }
}
template <class H, class E, class... Bs, std::size_t... J>
void hessian_all(H& h, const E& e, std::index_sequence<J...>, const Bs&... bs) {
  (hessian_columns<J>(h, e, bs...), ...);
}
}  // namespace detail

/// The Hessian of scalar f with respect to every bound variable (not those
/// bound with mg::data): one forward-over-reverse sweep per element.
template <class E, class... Bs>
auto hessian(const E& e, const Bs&... bs) {
  static_assert(StaticExpr<E>, "mg::hessian: the first argument must be a metagrad static expression");
  static_assert(detail::all_bindings<Bs...>, "mg::hessian: arguments after the expression must be bindings `var = value`");
  using S = detail::common_scalar_t<Bs...>;
  static_assert(detail::is_number_v<std::remove_cvref_t<decltype(eval(e, bs...))>>,
                "mg::hessian: the expression must be scalar-valued (for a vector use mg::jacobian)");
  HessianResult<S, Bs...> h{};
  const std::array<Eigen::Index, sizeof...(Bs)> size{detail::binding_size(bs)...};
  for (std::size_t i = 0; i < sizeof...(Bs); ++i)
    for (std::size_t j = 0; j < sizeof...(Bs); ++j) h.blocks[i][j].setZero(size[i], size[j]);
  detail::hessian_all(h, e, std::index_sequence_for<Bs...>{}, bs...);
  for (std::size_t i = 0; i < sizeof...(Bs); ++i)
    for (std::size_t j = i; j < sizeof...(Bs); ++j) {
      const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> sym = (h.blocks[i][j] + h.blocks[j][i].transpose()) / S(2);
      h.blocks[i][j] = sym;
      h.blocks[j][i] = sym.transpose();
    }
  return h;
}

}  // namespace metagrad
