// The recurrent kernels for processors with AVX2 and FMA (compiled with -mavx2 -mfma where the compiler takes them;
// elsewhere the same code as the generic build).
#define FINFUSE_KERNEL_NS avx2
#include "recurrent_kernels.inl"
