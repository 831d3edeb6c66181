// The recurrent kernels for any x86-64 processor (or the build's target architecture).
#define FINFUSE_KERNEL_NS generic
#include "recurrent_kernels.inl"
