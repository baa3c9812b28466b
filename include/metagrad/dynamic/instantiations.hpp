// metagrad/dynamic/instantiations.hpp — the compiled mode's list: every
// dynamic-mode template that src/dynamic.cpp instantiates once for double and
// float in the library metagrad::dynamic. A consumer linking that library
// gets METAGRAD_DYNAMIC_LIB defined, and dynamic.hpp then declares the same
// list `extern template`, so the consumer's translation units compile only
// their own code (fmt's two modes, header-only being the default).
//
// Free functions whose whole body is a call of a listed member (e.g.
// `tanh(x)` is `x.tanh()`) are not listed: the member is. Templates that
// take a user's type (autograd::Function<F>, a static expression on tensors,
// a hook's callable) are always instantiated where they are used.
#pragma once

// X is `extern` (declarations) or empty (definitions); T is double or float.
#define METAGRAD_DYNAMIC_INSTANTIATIONS(X, T)                                                              \
  X template class BasicTensor<T>;                                                                         \
  X template class BasicNode<T>;                                                                           \
  X template class AccumulateGrad<T>;                                                                      \
  /* arithmetic (the Tensor-Tensor and Tensor-scalar forms) */                                             \
  X template BasicTensor<T> operator- <T>(const BasicTensor<T>&);                                          \
  X template BasicTensor<T> operator+ <T>(const BasicTensor<T>&, const BasicTensor<T>&);                   \
  X template BasicTensor<T> operator- <T>(const BasicTensor<T>&, const BasicTensor<T>&);                   \
  X template BasicTensor<T> operator* <T>(const BasicTensor<T>&, const BasicTensor<T>&);                   \
  X template BasicTensor<T> operator/ <T>(const BasicTensor<T>&, const BasicTensor<T>&);                   \
  X template BasicTensor<T> operator+ <T>(const BasicTensor<T>&, std::type_identity_t<T>);                 \
  X template BasicTensor<T> operator- <T>(const BasicTensor<T>&, std::type_identity_t<T>);                 \
  X template BasicTensor<T> operator* <T>(const BasicTensor<T>&, std::type_identity_t<T>);                 \
  X template BasicTensor<T> operator/ <T>(const BasicTensor<T>&, std::type_identity_t<T>);                 \
  X template BasicTensor<T> operator+ <T>(std::type_identity_t<T>, const BasicTensor<T>&);                 \
  X template BasicTensor<T> operator- <T>(std::type_identity_t<T>, const BasicTensor<T>&);                 \
  X template BasicTensor<T> operator* <T>(std::type_identity_t<T>, const BasicTensor<T>&);                 \
  X template BasicTensor<T> operator/ <T>(std::type_identity_t<T>, const BasicTensor<T>&);                 \
  X template BasicTensor<T> pow<T>(const BasicTensor<T>&, std::type_identity_t<T>);                        \
  X template BasicTensor<T> pow<T>(const BasicTensor<T>&, const BasicTensor<T>&);                          \
  X template BasicTensor<T> pow<T>(std::type_identity_t<T>, const BasicTensor<T>&);                        \
  X template BasicTensor<T> atan2<T>(const BasicTensor<T>&, const BasicTensor<T>&);                        \
  X template BasicTensor<T> polygamma<T>(int, const BasicTensor<T>&);                                      \
  X template BasicTensor<T> hypot<T>(const BasicTensor<T>&, const BasicTensor<T>&);                        \
  X template BasicTensor<T> minimum<T>(const BasicTensor<T>&, const BasicTensor<T>&);                      \
  X template BasicTensor<T> maximum<T>(const BasicTensor<T>&, const BasicTensor<T>&);                      \
  /* comparisons, where, masked_fill */                                                                    \
  X template BasicTensor<bool> operator< <T>(const BasicTensor<T>&, const BasicTensor<T>&);                \
  X template BasicTensor<bool> operator<= <T>(const BasicTensor<T>&, const BasicTensor<T>&);               \
  X template BasicTensor<bool> operator> <T>(const BasicTensor<T>&, const BasicTensor<T>&);                \
  X template BasicTensor<bool> operator>= <T>(const BasicTensor<T>&, const BasicTensor<T>&);               \
  X template BasicTensor<bool> operator== <T>(const BasicTensor<T>&, const BasicTensor<T>&);               \
  X template BasicTensor<bool> operator!= <T>(const BasicTensor<T>&, const BasicTensor<T>&);               \
  X template BasicTensor<bool> operator< <T>(const BasicTensor<T>&, std::type_identity_t<T>);              \
  X template BasicTensor<bool> operator<= <T>(const BasicTensor<T>&, std::type_identity_t<T>);             \
  X template BasicTensor<bool> operator> <T>(const BasicTensor<T>&, std::type_identity_t<T>);              \
  X template BasicTensor<bool> operator>= <T>(const BasicTensor<T>&, std::type_identity_t<T>);             \
  X template BasicTensor<bool> operator== <T>(const BasicTensor<T>&, std::type_identity_t<T>);             \
  X template BasicTensor<bool> operator!= <T>(const BasicTensor<T>&, std::type_identity_t<T>);             \
  X template BasicTensor<T> where<T>(const BasicTensor<bool>&, const BasicTensor<T>&, const BasicTensor<T>&); \
  X template BasicTensor<T> where<T>(const BasicTensor<bool>&, const BasicTensor<T>&, std::type_identity_t<T>); \
  X template BasicTensor<T> where<T>(const BasicTensor<bool>&, std::type_identity_t<T>, const BasicTensor<T>&); \
  X template BasicTensor<T> masked_fill<T>(const BasicTensor<T>&, const BasicTensor<bool>&, std::type_identity_t<T>); \
  /* reductions, products, structure */                                                                    \
  X template BasicTensor<T> prod<T>(const BasicTensor<T>&);                                                \
  X template BasicTensor<T> logsumexp<T>(const BasicTensor<T>&, int, bool);                                \
  X template BasicTensor<T> softmax<T>(const BasicTensor<T>&, int);                                        \
  X template BasicTensor<T> log_softmax<T>(const BasicTensor<T>&, int);                                    \
  X template BasicTensor<T> amax<T>(const BasicTensor<T>&, int, bool);                                     \
  X template BasicTensor<T> max<T>(const BasicTensor<T>&);                                                 \
  X template BasicTensor<T> mm<T>(const BasicTensor<T>&, const BasicTensor<T>&);                           \
  X template BasicTensor<T> mv<T>(const BasicTensor<T>&, const BasicTensor<T>&);                           \
  X template BasicTensor<T> dot<T>(const BasicTensor<T>&, const BasicTensor<T>&);                          \
  X template BasicTensor<T> matmul<T>(const BasicTensor<T>&, const BasicTensor<T>&);                       \
  X template BasicTensor<T> cat<T>(const std::vector<BasicTensor<T>>&, int);                               \
  X template BasicTensor<T> cumsum<T>(const BasicTensor<T>&, int);                                         \
  X template BasicTensor<T> prod<T>(const BasicTensor<T>&, int, bool);                                     \
  X template BasicTensor<T> detail::moment2<T, false>(const BasicTensor<T>&, int, bool, bool);             \
  X template BasicTensor<T> detail::moment2<T, true>(const BasicTensor<T>&, int, bool, bool);              \
  X template BasicTensor<T> detail::norm2<T>(const BasicTensor<T>&, int, bool);                            \
  X template BasicTensor<T> detail::clamp_op<T>(const BasicTensor<T>&, std::optional<T>, std::optional<T>, \
                                                const char*);                                              \
  X template BasicTensor<T> index_select<T>(const BasicTensor<T>&, int, const BasicTensor<std::int64_t>&); \
  X template BasicTensor<T> gather<T>(const BasicTensor<T>&, int, const BasicTensor<std::int64_t>&);       \
  X template BasicTensor<T> bmm<T>(const BasicTensor<T>&, const BasicTensor<T>&);                          \
  X template BasicTensor<T> stack<T>(const std::vector<BasicTensor<T>>&, int);                             \
  /* linear algebra and losses */                                                                          \
  X template BasicTensor<T> linalg_inv<T>(const BasicTensor<T>&);                                          \
  X template BasicTensor<T> linalg_solve<T>(const BasicTensor<T>&, const BasicTensor<T>&);                 \
  X template BasicTensor<T> linalg_det<T>(const BasicTensor<T>&);                                          \
  X template BasicTensor<T> linalg_logdet<T>(const BasicTensor<T>&);                                       \
  X template BasicTensor<T> outer<T>(const BasicTensor<T>&, const BasicTensor<T>&);                        \
  X template BasicTensor<T> tril<T>(const BasicTensor<T>&, std::int64_t);                                   \
  X template BasicTensor<T> linalg_cholesky<T>(const BasicTensor<T>&);                                     \
  X template std::tuple<BasicTensor<T>, BasicTensor<T>> linalg_slogdet<T>(const BasicTensor<T>&);          \
  X template BasicTensor<T> nn::functional::binary_cross_entropy_with_logits<T>(const BasicTensor<T>&,     \
                                                                               const BasicTensor<T>&);     \
  X template BasicTensor<T> nn::functional::mse_loss<T>(const BasicTensor<T>&, const BasicTensor<T>&);     \
  X template BasicTensor<T> nn::functional::nll_loss<T>(const BasicTensor<T>&, const BasicTensor<std::int64_t>&, \
                                                        std::int64_t);                                     \
  /* factories */                                                                                          \
  X template BasicTensor<T> full<T>(const Sizes&, std::type_identity_t<T>, TensorOptions);                 \
  X template BasicTensor<T> zeros<T>(const Sizes&, TensorOptions);                                         \
  X template BasicTensor<T> ones<T>(const Sizes&, TensorOptions);                                          \
  X template BasicTensor<T> randn<T>(const Sizes&, TensorOptions);                                         \
  X template BasicTensor<T> rand<T>(const Sizes&, TensorOptions);                                          \
  X template BasicTensor<T> eye<T>(std::int64_t, TensorOptions);                                           \
  X template BasicTensor<T> arange<T>(std::int64_t, TensorOptions);                                        \
  X template BasicTensor<T> arange<T>(double, double, double, TensorOptions);                              \
  X template bool allclose<T>(const BasicTensor<T>&, const BasicTensor<T>&, double, double);               \
  X template bool equal<T>(const BasicTensor<T>&, const BasicTensor<T>&);                                  \
  /* the engine and printing */                                                                            \
  X template std::vector<BasicTensor<T>> detail::run_backward<T>(                                          \
      std::span<const BasicTensor<T>>, std::span<const BasicTensor<T>>, bool, bool,                        \
      const std::vector<BasicTensor<T>>*, bool);                                                           \
  X template std::string repr<T>(const BasicTensor<T>&);                                                   \
  X template std::string to_dot<T>(const BasicTensor<T>&);                                                 \
  X template std::ostream& operator<< <T>(std::ostream&, const std::shared_ptr<BasicNode<T>>&);
