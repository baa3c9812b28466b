// metagrad/detail/warnings_push.hpp — included (with warnings_pop.hpp after)
// around the static tape's generated code. g++ 12 reports packet slots (and the
// tape's std::optional<Eigen::Matrix> slots) as "maybe uninitialized" when it
// inlines the sweeps: every slot is written before it is read, in an order
// fixed at compile time, which its flow analysis through the unrolled lambdas
// does not follow. And "used uninitialized" (-Wuninitialized, with
// -march=native): a chunk of the fused pass starts from a copy of the
// pass's slots, in which only the slots uniform across elements are written
// yet; the copied varying slots are written before they are read. Value-
// initialising the slots instead would put a zeroing store per slot into
// every call. (Users' -Wall -Werror builds must not see either.) (No include
// guard: each push is matched by a pop.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
