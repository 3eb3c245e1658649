// Hot elementwise loops are compiled three times (AVX-512, AVX2+FMA, the x86-64-v2 baseline) and the
// best clone for the running CPU is picked when the addon loads (GCC target_clones, an ifunc), so the
// addon stays portable while, e.g., the Adam update runs at memory bandwidth instead of being bound by
// scalar sqrt/div (measured here: 14.8M parameters, 1 thread, 69 ms -> 23 ms).
// Builds with -fno-math-errno (sqrtf may vectorize) and -ffp-contract=off (no FMA contraction): every
// clone rounds exactly like the baseline and like the CUDA kernels built with --fmad=false.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(VGG_NO_CLONES)
#define VGG_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VGG_SIMD_CLONES
#endif
