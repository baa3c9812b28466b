// The test module of the dynamic face (mg::Tensor and its engine).
#define BOOST_TEST_MODULE metagrad_dynamic
#include <boost/test/unit_test.hpp>
