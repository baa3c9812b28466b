// metagrad/detail/warnings_push.hpp — included (with warnings_pop.hpp after)
// around the static tape's generated code. g++ 12 reports packet slots (and the
// tape's std::optional<Eigen::Matrix> slots) as "maybe uninitialized" when it
// inlines the sweeps: every slot is written before it is read, in an order
// fixed at compile time, which its flow analysis through the unrolled lambdas
// does not follow. (No include guard: each push is matched by a pop.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
