// metagrad/static/scan_loops.hpp — mg::scan's forward and reverse loops: the
// forward evaluates the body once per element, the reverse re-runs each step's
// one-element fused pass backwards (O(n) memory: the carries; no recursion).
#pragma once
#include <array>
#include <cstdint>

#include "packet_pass.hpp"

#include "../detail/warnings_push.hpp"

namespace metagrad {
namespace detail {

// ------------------------------------------------------- 4b. scan's loops
/// The value of a numbered scalar expression T (a scan's body): constants
/// from c, variables from bs.
template <class S, class T, std::size_t NC, class... Bs>
S eval_numbered(const std::array<double, NC>& c, const Bs&... bs) {
  if constexpr (is_var<T>::value) {
    using V = std::remove_cvref_t<decltype(as_value(lookup<T::name>(bs...)))>;
    static_assert(is_number_v<V>, "mg::scan: the body's outer variables must be bound to numbers");
    return static_cast<S>(as_value(lookup<T::name>(bs...)));
  } else if constexpr (is_intc<T>::value) {
    return static_cast<S>(T::value);
  } else if constexpr (is_const_at<T>::value) {
    return static_cast<S>(c[T::index]);
  } else if constexpr (small_int_pow<T>::value) {
    return math::ipow(eval_numbered<S, std::remove_cvref_t<decltype(std::declval<T>().a)>>(c, bs...), small_int_pow<T>::n);
  } else if constexpr (requires { std::declval<T>().b; }) {
    using R = decltype(rule_of(std::declval<T>()));
    return static_cast<S>(R::f(eval_numbered<S, std::remove_cvref_t<decltype(std::declval<T>().a)>>(c, bs...),
                               eval_numbered<S, std::remove_cvref_t<decltype(std::declval<T>().b)>>(c, bs...)));
  } else {
    static_assert(!is_scan<T>::value, "mg::scan: a scan's body cannot hold another scan");
    using R = decltype(rule_of(std::declval<T>()));
    return static_cast<S>(R::f(eval_numbered<S, std::remove_cvref_t<decltype(std::declval<T>().a)>>(c, bs...)));
  }
}

/// Forward loop of scan node T: c_t = body(c_(t-1), xs[t-1]) into slot s.
template <class S, class T, class Slot, class X, std::size_t NC, class... Bs>
void scan_forward(Slot& s, S init, const X& xs, const std::array<double, NC>& consts, const Bs&... bs) {
  using Body = std::remove_cvref_t<decltype(std::declval<T>().body)>;
  static_assert(!is_number_v<X>, "mg::scan: xs must be a vector (an Eigen vector binding)");
  const Eigen::Index n = xs.size();
  if (!s) s.emplace(n);
  else if (s->size() != n) s->resize(n);
  auto& y = *s;
  S c = init;
  for (Eigen::Index t = 0; t < n; ++t)
    c = y(t) = eval_numbered<S, Body>(consts, Binding<T::carry_name, S>{c}, Binding<T::elem_name, S>{static_cast<S>(xs(t))}, bs...);
}

/// Reverse loop of scan node T with adjoint g (one entry per step): the
/// adjoint of c_t is a_t = g_t + J_(t+1) a_(t+1), J_t = d c_t / d c_(t-1).
/// Each step's body runs one forward and reverse sweep (packet_pass on
/// scalars) seeded with 1, giving J_t and the partials for xs[t] and the
/// outer variables, which a_t then scales. (Seeding the body with a_t itself
/// put the sweep's multiply after the add of g_t on the loop-carried chain:
/// two latencies per step where a_t = a_(t+1) J_(t+1) + g_t is one fused
/// multiply-add; the body's sweep, no longer waiting for a_t, overlaps the
/// steps around it.) Sends the gradients of init (a_0 J_0), xs (computed in
/// gx, a buffer the caller keeps) and the body's outer variables.
template <class S, class T, class... Bs, class Get, class G, class Send, std::size_t NC>
void scan_backward(const Get& get, const G& g, Send&& send, Eigen::Array<S, Eigen::Dynamic, 1>& gx,
                   const std::array<double, NC>& consts, const Bs&... bs) {
  using Body = std::remove_cvref_t<decltype(std::declval<T>().body)>;
  using In = std::remove_cvref_t<decltype(std::declval<T>().init)>;
  using X = std::remove_cvref_t<decltype(std::declval<T>().xs)>;
  using Outer = typename body_vars<Body, T::carry_name, T::elem_name, TypeList<>>::type;
  const auto& y = plain_value(get(std::type_identity<T>{}));
  const auto& xs = plain_value(get(std::type_identity<X>{}));
  const S init = static_cast<S>(plain_value(get(std::type_identity<In>{})));
  const Eigen::Index n = y.size();
  if constexpr (needs_grad<X, Bs...>::value) {
    if (gx.size() != n) gx.resize(n);
  }
  std::array<S, sizeof...(Bs) + 1> outer{};
  S a = 0, J = 0;  // (J = 0 after the last step: a_(n-1) = g_(n-1))
  for (Eigen::Index t = n - 1; t >= 0; --t) {
    a = a * J + static_cast<S>(g(t));
    std::array<S, sizeof...(Bs) + 2> d{};
    packet_pass<S, Body, 1>(consts, d, FrontierIO<S, 0>{}, S(1), PlainPass{}, 1,
                            Binding<T::carry_name, S>{t ? static_cast<S>(y(t - 1)) : init},
                            Binding<T::elem_name, S>{static_cast<S>(xs(t))}, bs...);
    J = d[0];
    if constexpr (needs_grad<X, Bs...>::value) gx(t) = a * d[1];
    [&]<class... Vs>(std::type_identity<TypeList<Vs...>>) METAGRAD_INLINE {
      ((void)[&] {
         if constexpr (needs_grad<Vs, Bs...>::value) {
           constexpr std::size_t j = binding_index<Vs::name, Bs...>();
           outer[j] += a * d[j + 2];
         }
       }(), ...);
    }(std::type_identity<Outer>{});
  }
  if constexpr (needs_grad<In, Bs...>::value) send(std::type_identity<In>{}, side_a, a * J);
  if constexpr (needs_grad<X, Bs...>::value) send(std::type_identity<X>{}, side_b, gx);
  [&]<class... Vs>(std::type_identity<TypeList<Vs...>>) {
    ((void)[&] {
       if constexpr (needs_grad<Vs, Bs...>::value) send(std::type_identity<Vs>{}, side_a, outer[binding_index<Vs::name, Bs...>()]);
     }(), ...);
  }(std::type_identity<Outer>{});
}

/// A zero of the binding's shape, to accumulate its gradient into (left
/// uninitialised when Fresh: a fused pass will write every element).
template <class S, class V, bool Fresh = false>
auto zero_like(const V& v) {
  if constexpr (requires { typename V::PlainObject; }) {
    typename V::PlainObject z(v.rows(), v.cols());
    if constexpr (!Fresh || int(V::SizeAtCompileTime) != Eigen::Dynamic) z.setZero();  // fixed size: free
    return z;
  } else {
    return static_cast<S>(0);
  }
}

template <class... Vs> struct first_tensor { using type = void; };
template <class V, class... Vs> struct first_tensor<V, Vs...> {
  using type = typename std::conditional_t<is_tensor_like<V>, std::type_identity<V>, first_tensor<Vs...>>::type;
};

/// Fixed (compile-time) rows and columns of the Eigen bindings A reads agree.
template <class A, class... Bs>
constexpr bool fixed_shapes_agree() {
  int rows = Eigen::Dynamic, cols = Eigen::Dynamic;
  bool ok = true;
  auto one = [&]<class V>(std::type_identity<V>, bool read) {
    if constexpr (is_eigen_value<V>::value) {
      if (!read) return;
      auto agree = [&](int& have, int now) {
        if (now == Eigen::Dynamic) return;
        if (have != Eigen::Dynamic && have != now) ok = false;
        have = now;
      };
      agree(rows, int(V::RowsAtCompileTime));
      agree(cols, int(V::ColsAtCompileTime));
    }
  };
  (one(std::type_identity<binding_value_t<Bs>>{}, reads_direct<A, Bs::name>::value), ...);
  return ok;
}

/// Where binding b's gradient accumulates (nothing for mg::data).
template <class S, bool Fresh, class B>
auto grad_slot(const B& b) {
  if constexpr (is_data_binding<B>) return '\0';
  else return zero_like<S, binding_value_t<B>, Fresh>(bval(b));
}


}  // namespace detail
}  // namespace metagrad

#include "../detail/warnings_pop.hpp"
