// metagrad/detail/warnings_pop.hpp — ends what warnings_push.hpp began.
// (No include guard: each pop matches a push.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
