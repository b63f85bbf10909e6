/* The lane-wise kernels of simd_body.h for the avx2 path (see build-native.mjs for its flags). */
#define SW_SIMD_NAME avx2
#include "simd_body.h"
/* The fused kernels share its lane-wise exp/log (see fused_body.h). */
#include "fused_body.h"
