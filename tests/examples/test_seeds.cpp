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
/// Each tensor printed in `reference` (blocks starting with "tensor(") appears in `out`.
void expect_tensors(const std::string& out, const std::string& reference) {
  std::size_t pos = reference.find("tensor(");
  int blocks = 0;
  while (pos != std::string::npos) {
    const std::size_t next = reference.find("\ntensor(", pos);
    const std::string block = reference.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    BOOST_CHECK_MESSAGE(out.find(block) != std::string::npos, "missing from the output:\n" << block);
    ++blocks;
    pos = next == std::string::npos ? next : next + 1;
  }
  BOOST_CHECK_GE(blocks, 3);
}
}  // namespace

BOOST_AUTO_TEST_CASE(seed000_blitz) { BOOST_CHECK_EQUAL(run(seeds::seed000), file("examples/seed000.expected")); }
BOOST_AUTO_TEST_CASE(seed001_matrices) { BOOST_CHECK_EQUAL(run(seeds::seed001), file("examples/seed001.expected")); }
BOOST_AUTO_TEST_CASE(seed002_variable_era) {
  const auto out = run(seeds::seed002);
  BOOST_CHECK_EQUAL(out, file("examples/seed002.expected"));
  expect_tensors(out, file("reference/seed002_randn.txt"));  // PyTorch's own numbers
}
BOOST_AUTO_TEST_CASE(seed003_graph) { BOOST_CHECK_EQUAL(run(seeds::seed003), file("examples/seed003.expected")); }
BOOST_AUTO_TEST_CASE(seed004_basics) {
  const auto out = run(seeds::seed004);
  BOOST_CHECK_EQUAL(out, file("examples/seed004.expected"));
  expect_tensors(out, file("reference/seed004_randn.txt"));
}
