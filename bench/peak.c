/* Measured fp32 FMA peak of this machine: each thread runs 12 independent vector FMA chains (more than
 * latency x ports, so the FMA units never wait), started from different values so that the compiler
 * cannot merge them. Usage: peak [threads] [seconds]. Prints GFLOP/s (best of 5 runs).
 * Build: cc -O2 -march=native -fopenmp bench/peak.c -o peak   (check: objdump -d peak | grep -c vfmadd) */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define WIDTH 16
#define SET1(x) _mm512_set1_ps(x)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define ADD(a, b) _mm512_add_ps(a, b)
#define SUM(v) _mm512_reduce_add_ps(v)
#define ISA "avx512"
#else
typedef __m256 vec;
#define WIDTH 8
#define SET1(x) _mm256_set1_ps(x)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define ADD(a, b) _mm256_add_ps(a, b)
static float SUM(__m256 v) { float t[8]; _mm256_storeu_ps(t, v); return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7]; }
#define ISA "avx2"
#endif
#define CHAINS 12

static double kernel(long iters) {
  vec a = SET1(0.999999f), b = SET1(1e-7f);
  vec c0 = SET1(0.1f), c1 = SET1(0.2f), c2 = SET1(0.3f), c3 = SET1(0.4f), c4 = SET1(0.5f), c5 = SET1(0.6f);
  vec c6 = SET1(0.7f), c7 = SET1(0.8f), c8 = SET1(0.9f), c9 = SET1(1.0f), c10 = SET1(1.1f), c11 = SET1(1.2f);
  for (long i = 0; i < iters; i++) {
    c0 = FMA(c0, a, b); c1 = FMA(c1, a, b); c2 = FMA(c2, a, b); c3 = FMA(c3, a, b);
    c4 = FMA(c4, a, b); c5 = FMA(c5, a, b); c6 = FMA(c6, a, b); c7 = FMA(c7, a, b);
    c8 = FMA(c8, a, b); c9 = FMA(c9, a, b); c10 = FMA(c10, a, b); c11 = FMA(c11, a, b);
  }
  vec s = ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(c4, c5), ADD(c6, c7)));
  s = ADD(s, ADD(ADD(c8, c9), ADD(c10, c11)));
  return SUM(s);
}

int main(int argc, char** argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  double seconds = argc > 2 ? atof(argv[2]) : 0.5;
  omp_set_num_threads(threads);
  long iters = 1000000;
  double sink = 0;
  for (;;) {  /* calibrate to about `seconds` per run */
    double t0 = omp_get_wtime();
    sink += kernel(iters);
    if (omp_get_wtime() - t0 > seconds / 4) break;
    iters *= 2;
  }
  iters *= 4;
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = omp_get_wtime();
#pragma omp parallel reduction(+ : sink)
    sink += kernel(iters);
    double dt = omp_get_wtime() - t0;
    double gflops = 2.0 * WIDTH * CHAINS * (double)iters * threads / dt / 1e9;
    if (gflops > best) best = gflops;
  }
  printf("{\"isa\":\"%s\",\"threads\":%d,\"gflops\":%.2f,\"sink\":%g}\n", ISA, threads, best, sink);
  return 0;
}
