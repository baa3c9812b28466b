// The test module of the derivative table (rules/): every row in every engine.
#define BOOST_TEST_MODULE metagrad_table
#include <boost/test/unit_test.hpp>
