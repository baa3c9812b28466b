// tests/support/check.hpp — helpers shared by the test suites: comparing
// tensors with expected values, finite-difference gradient checks for every
// op (through mg::autograd::gradcheck / gradgradcheck), and error checks.
#pragma once
#include <boost/test/unit_test.hpp>
#include <metagrad/metagrad.hpp>

#include <functional>
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

namespace mg = metagrad;

namespace check {

/// Every element of t equals `expected` (row-major) within tol (infinities exactly).
inline void close(const mg::Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  BOOST_REQUIRE(t.defined());
  BOOST_REQUIRE_EQUAL(t.numel(), static_cast<std::int64_t>(expected.size()));
  auto c = t.contiguous();
  for (std::size_t i = 0; i < expected.size(); ++i)
    BOOST_CHECK_MESSAGE(c.data_ptr()[i] == expected[i] ||  // (an infinity expected: inf - inf is NaN)
                            std::abs(c.data_ptr()[i] - expected[i]) <= tol * (1 + std::abs(expected[i])),
                        "element " << i << ": got " << c.data_ptr()[i] << ", expected " << expected[i]);
}
inline void close(const mg::Tensor& a, const mg::Tensor& b, double tol = 1e-12) {
  BOOST_REQUIRE(a.sizes() == b.sizes());
  auto c = b.contiguous();
  close(a, std::vector<double>(c.data_ptr(), c.data_ptr() + c.numel()), tol);
}

/// f's analytic first (and, when `second`, second) derivatives agree with
/// central finite differences for every input that requires grad.
/// (Type-erased: gradcheck and gradgradcheck are instantiated once per test
/// file, not once per call site — they dominate the suites' compile time.)
using TensorFunction = std::function<mg::Tensor(const std::vector<mg::Tensor>&)>;
inline void gradients(const TensorFunction& f, const std::vector<mg::Tensor>& inputs, bool second = true) {
  BOOST_CHECK_NO_THROW(mg::autograd::gradcheck(f, inputs));
  if (second) BOOST_CHECK_NO_THROW(mg::autograd::gradgradcheck(f, inputs, 1e-5, 1e-4, 1e-3));
}

/// `fn` throws a metagrad::Error whose message contains `phrase`.
template <class F>
void throws(F&& fn, const std::string& phrase) {
  try {
    fn();
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    BOOST_CHECK_MESSAGE(msg.find(phrase) != std::string::npos, "message \"" << msg << "\" lacks \"" << phrase << "\"");
    BOOST_CHECK(dynamic_cast<const mg::Error*>(&e) != nullptr);
    return;
  }
  BOOST_ERROR("expected an exception containing \"" << phrase << "\"");
}

template <class T>
inline std::string str(const mg::BasicTensor<T>& t) { return mg::repr(t); }
/// Replaces printed addresses (0x55d2...) by 0x?, as they differ per run.
inline std::string no_addresses(const std::string& s) {
  std::string r;
  for (std::size_t i = 0; i < s.size(); ++i) {
    r += s[i];
    if (s[i] == '0' && i + 1 < s.size() && s[i + 1] == 'x') {
      r += "x?";
      i += 2;
      while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) ++i;
      --i;
    }
  }
  return r;
}

/// A tensor of the given shape with distinct, well-scaled values in [lo, hi].
inline mg::Tensor values(const mg::Sizes& shape, double lo = -1.5, double hi = 1.5, bool grad = true) {
  auto t = mg::zeros(shape);
  for (std::int64_t i = 0; i < t.numel(); ++i)
    t.data_ptr()[i] = lo + (hi - lo) * (0.5 + 0.5 * std::sin(1.7 * static_cast<double>(i) + 0.3));
  if (grad) t.requires_grad_();
  return t;
}

}  // namespace check
