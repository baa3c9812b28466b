// tests/examples/test_seeds.cpp — the five seed notebooks: the demo's output
// must be the notebook's printed text (modern PyTorch where old and new
// differ). Where a notebook used randn, the text comes from PyTorch 1.13 run
// on the same fixed inputs (tests/reference/seeds.py writes those files).
#define BOOST_TEST_MODULE metagrad_seeds
#include <fstream>

#include "seeds.hpp"
#include "support/check.hpp"

namespace {
std::string run(void (*seed)(std::ostream&)) {
  std::ostringstream os;
  seed(os);
  return check::no_addresses(os.str());
}
std::string file(const std::string& name) {
  std::ifstream in(std::string(METAGRAD_TEST_DIR) + "/" + name);
  BOOST_REQUIRE_MESSAGE(in, "cannot open " << name);
  return {std::istreambuf_iterator<char>(in), {}};
}
void expect_text(const std::string& out, const std::string& expected) {
  BOOST_CHECK_MESSAGE(out.find(expected) != std::string::npos, "missing from the output:\n" << expected);
}
}  // namespace

BOOST_AUTO_TEST_CASE(seed000_blitz) { BOOST_CHECK_EQUAL(run(seeds::seed000), file("examples/seed000.expected")); }
BOOST_AUTO_TEST_CASE(seed001_matrices) { BOOST_CHECK_EQUAL(run(seeds::seed001), file("examples/seed001.expected")); }
BOOST_AUTO_TEST_CASE(seed002_variable_era) {
  const auto out = run(seeds::seed002);
  BOOST_CHECK_EQUAL(out, file("examples/seed002.expected"));
  expect_text(out, file("reference/seed002_randn.txt"));  // PyTorch's own numbers
}
BOOST_AUTO_TEST_CASE(seed003_graph) { BOOST_CHECK_EQUAL(run(seeds::seed003), file("examples/seed003.expected")); }
BOOST_AUTO_TEST_CASE(seed004_basics) {
  const auto out = run(seeds::seed004);
  BOOST_CHECK_EQUAL(out, file("examples/seed004.expected"));
  expect_text(out, file("reference/seed004_randn.txt"));
}
