// tests/dynamic/test_print.cpp — repr text, checked against what PyTorch 1.13
// prints for the same tensors (torch.set_default_dtype(torch.float64)).
#include "support/check.hpp"

BOOST_AUTO_TEST_SUITE(printing)

BOOST_AUTO_TEST_CASE(pytorch_repr) {
  BOOST_CHECK_EQUAL(check::str(mg::tensor({std::nan(""), INFINITY, -1.5})), "tensor([    nan,     inf, -1.5000])");
  // A NaN with its sign bit set (0 * log(-1), as a gradient can be) prints as nan, as in Python.
  BOOST_CHECK_EQUAL(check::str(mg::tensor({-std::nan(""), 1.5})), "tensor([   nan, 1.5000])");
  BOOST_CHECK_EQUAL(check::str(mg::tensor({-std::nan(""), 2.})), "tensor([nan, 2.])");
  BOOST_CHECK_EQUAL(check::str(mg::tensor({0.02, 1000.5})), "tensor([2.0000e-02, 1.0005e+03])");
  BOOST_CHECK_EQUAL(check::str(mg::tensor({1e-5, 1.})), "tensor([1.0000e-05, 1.0000e+00])");
  BOOST_CHECK_EQUAL(check::str(mg::tensor({1e9, 1.})), "tensor([1.0000e+09, 1.0000e+00])");
  BOOST_CHECK_EQUAL(check::str(mg::tensor({-0.0, 0.})), "tensor([-0., 0.])");
  BOOST_CHECK_EQUAL(check::str(mg::tensor(3.)), "tensor(3.)");
  BOOST_CHECK_EQUAL(check::str(mg::zeros({0})), "tensor([])");
  BOOST_CHECK_EQUAL(check::str(mg::zeros({2, 0})), "tensor([], size=(2, 0))");
  // (an empty tensor names its type unless it is the default one)
  BOOST_CHECK_EQUAL(check::str(mg::zeros<std::int64_t>({0})), "tensor([], dtype=torch.int64)");
  BOOST_CHECK_EQUAL(check::str(mg::zeros<std::int64_t>({2, 0})), "tensor([], size=(2, 0), dtype=torch.int64)");
  BOOST_CHECK_EQUAL(check::str(mg::zeros({0}) > 0.), "tensor([], dtype=torch.bool)");
  BOOST_CHECK_EQUAL(check::str(mg::tensor<float>({1.f, 2.f}, mg::requires_grad())),
                    "tensor([1., 2.], dtype=torch.float32, requires_grad=True)");
  BOOST_CHECK_EQUAL(check::str(mg::Tensor()), "None");
  BOOST_CHECK_EQUAL(check::str(mg::tensor({0.2658, 1.0191, 0.0557})), "tensor([0.2658, 1.0191, 0.0557])");
}

BOOST_AUTO_TEST_CASE(summarised_and_wrapped) {
  BOOST_CHECK_EQUAL(check::str(mg::arange(2000)),
                    "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
                    "        1.9990e+03])");
  BOOST_CHECK_EQUAL(check::str(mg::arange(30).reshape({3, 10}) * 1.5),
                    "tensor([[ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
                    "         12.0000, 13.5000],\n"
                    "        [15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000, 24.0000, 25.5000,\n"
                    "         27.0000, 28.5000],\n"
                    "        [30.0000, 31.5000, 33.0000, 34.5000, 36.0000, 37.5000, 39.0000, 40.5000,\n"
                    "         42.0000, 43.5000]])");
  // a one-line tensor whose suffix would end exactly at column 80 wraps, as
  // torch's _add_suffixes counts the line (it printed on one line here)
  auto six = mg::tensor({1.5, 2.5, 3.5, 4.5, 5.5, 6.5}, mg::requires_grad());
  BOOST_CHECK_EQUAL(check::str(six * 1.),
                    "tensor([1.5000, 2.5000, 3.5000, 4.5000, 5.5000, 6.5000],\n"
                    "       grad_fn=<MulBackward0>)");
  BOOST_CHECK_EQUAL(check::str(mg::tensor<float>({1.5f, -2.f, 0.25f}, mg::requires_grad()) * 2.f),
                    "tensor([ 3.0000, -4.0000,  0.5000], dtype=torch.float32,\n"
                    "       grad_fn=<MulBackward0>)");
  auto big = mg::arange(2 * 600).reshape({600, 2});
  const auto s = check::str(big);
  BOOST_CHECK(s.find("...") != std::string::npos);
  BOOST_CHECK(s.rfind("]])") == s.size() - 3);
}

BOOST_AUTO_TEST_CASE(strided_views_print_their_own_elements) {
  auto m = mg::tensor({{1., 2., 3.}, {4., 5., 6.}});
  BOOST_CHECK_EQUAL(check::str(m.t()), "tensor([[1., 4.],\n        [2., 5.],\n        [3., 6.]])");
  BOOST_CHECK_EQUAL(check::str(m.index({mg::Slice(), 1})), "tensor([2., 5.])");
}

BOOST_AUTO_TEST_CASE(grad_fn_prints_like_python) {
  auto x = mg::ones({2}, mg::requires_grad());
  std::ostringstream os;
  os << (x + 1).grad_fn() << " " << x.grad_fn();
  BOOST_CHECK_EQUAL(check::no_addresses(os.str()), "<AddBackward0 object at 0x?> None");
}

BOOST_AUTO_TEST_SUITE_END()
