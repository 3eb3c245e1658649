// The CUDA emulator's stand-in for cuBLAS (native/emu/README.md): the GEMMs the CUDA backend calls,
// column-major as NVIDIA documents them, computed on the CPU in float64 and rounded once to C's type.
// Arguments are checked at once; the product runs on the handle's stream with every value captured
// (alpha and beta are the caller's host locals, gone by the time a captured graph replays).
#include <algorithm>
#include <vector>
#include "core/elementwise.h"
#include "cuda/api.h"
#include "emu/stream.h"

// The opaque handle api.h declares.
struct cublasContext {
  cudaStream_t stream = nullptr;
  vgg::cu::cublasMath_t math = vgg::cu::CUBLAS_DEFAULT_MATH;
};

namespace emu {
namespace {

using namespace vgg::cu;

cublasStatus_t cublasGetProperty(libraryPropertyType type, int* value) {
  if (!value) return CUBLAS_STATUS_INVALID_VALUE;
  switch (type) {
    case MAJOR_VERSION: *value = 13; return CUBLAS_STATUS_SUCCESS;
    case MINOR_VERSION: *value = 1; return CUBLAS_STATUS_SUCCESS;
    case PATCH_LEVEL: *value = 0; return CUBLAS_STATUS_SUCCESS;
  }
  return CUBLAS_STATUS_INVALID_VALUE;
}

const char* cublasGetStatusString(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

cublasStatus_t cublasCreate_v2(cublasHandle_t* h) {
  if (!h) return CUBLAS_STATUS_INVALID_VALUE;
  *h = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy_v2(cublasHandle_t h) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete h;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream_v2(cublasHandle_t h, cudaStream_t s) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  h->stream = s;
  return CUBLAS_STATUS_SUCCESS;
}
// Kept, not acted on: every product here is exact-input float64 math, so no mode changes a result.
cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t mode) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  int base = (int)mode & ~(int)CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
  if (base < 0 || base > CUBLAS_TF32_TENSOR_OP_MATH) return CUBLAS_STATUS_INVALID_VALUE;  // 1 is the deprecated TENSOR_OP_MATH
  h->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}

// ---------- GEMM ----------

struct Gemm {
  bool transA, transB;
  int m, n, k;
  const void* A;
  cudaDataType ta;
  int lda;
  const void* B;
  cudaDataType tb;
  int ldb;
  void* C;
  cudaDataType tc;
  int ldc;
  double alpha, beta;
};

inline float loadAt(cudaDataType t, const void* p, size_t i) {
  return t == CUDA_R_16BF ? vgg::bf16ToFloat(static_cast<const uint16_t*>(p)[i]) : static_cast<const float*>(p)[i];
}

// C = alpha * op(A) * op(B) + beta * C. op(A) is first copied column by column (as float, exact for both
// types) so that the innermost loop runs down a column of C over contiguous data. C is read only when
// beta != 0, and A and B only when alpha != 0 and k > 0, as BLAS does.
void runGemm(const Gemm& g) {
  const int m = g.m, n = g.n, k = g.k;
  const bool products = g.alpha != 0 && k > 0;
  std::vector<float> a, b;
  if (products) {
    a.resize((size_t)k * m);  // a[p*m + i] = op(A)(i, p)
    b.resize((size_t)n * k);  // b[j*k + p] = op(B)(p, j)
    for (int p = 0; p < k; p++)
      for (int i = 0; i < m; i++)
        a[(size_t)p * m + i] = loadAt(g.ta, g.A, g.transA ? (size_t)i * g.lda + p : (size_t)p * g.lda + i);
    for (int j = 0; j < n; j++)
      for (int p = 0; p < k; p++)
        b[(size_t)j * k + p] = loadAt(g.tb, g.B, g.transB ? (size_t)p * g.ldb + j : (size_t)j * g.ldb + p);
  }
  std::vector<double> acc(m);
  for (int j = 0; j < n; j++) {
    std::fill(acc.begin(), acc.end(), 0.0);
    if (products)
      for (int p = 0; p < k; p++) {
        const double bv = b[(size_t)j * k + p];
        const float* col = &a[(size_t)p * m];
        for (int i = 0; i < m; i++) acc[i] += (double)col[i] * bv;
      }
    for (int i = 0; i < m; i++) {
      const size_t o = (size_t)j * g.ldc + i;
      double r = products ? g.alpha * acc[i] : 0.0;
      if (g.beta != 0) r += g.beta * (double)loadAt(g.tc, g.C, o);
      if (g.tc == CUDA_R_16BF) static_cast<uint16_t*>(g.C)[o] = vgg::floatToBf16((float)r);
      else static_cast<float*>(g.C)[o] = (float)r;
    }
  }
}

bool knownType(cudaDataType t) { return t == CUDA_R_32F || t == CUDA_R_16BF; }

// The checks NVIDIA documents for gemm (CUBLAS_STATUS_INVALID_VALUE), then the product on h's stream.
// opA/opB: CUBLAS_OP_N, CUBLAS_OP_T, or 2 (CUBLAS_OP_C, the same as T for real data).
cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t opA, cublasOperation_t opB, int m, int n, int k, const float* alpha, const void* A,
                    cudaDataType ta, int lda, const void* B, cudaDataType tb, int ldb, const float* beta, void* C, cudaDataType tc, int ldc) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if ((int)opA < 0 || (int)opA > 2 || (int)opB < 0 || (int)opB > 2) return CUBLAS_STATUS_INVALID_VALUE;
  const bool transA = opA != CUBLAS_OP_N, transB = opB != CUBLAS_OP_N;
  if (m < 0 || n < 0 || k < 0) return CUBLAS_STATUS_INVALID_VALUE;
  if (lda < std::max(1, transA ? k : m) || ldb < std::max(1, transB ? n : k) || ldc < std::max(1, m)) return CUBLAS_STATUS_INVALID_VALUE;
  if (!alpha || !beta) return CUBLAS_STATUS_INVALID_VALUE;
  Gemm g{transA, transB, m, n, k, A, ta, lda, B, tb, ldb, C, tc, ldc, *alpha, *beta};
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  if (!C) return CUBLAS_STATUS_INVALID_VALUE;
  if (g.alpha != 0 && k > 0 && (!A || !B)) return CUBLAS_STATUS_INVALID_VALUE;
  enqueue(h->stream, [g] { runGemm(g); });
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm_v2(cublasHandle_t h, cublasOperation_t opA, cublasOperation_t opB, int m, int n, int k, const float* alpha,
                              const float* A, int lda, const float* B, int ldb, const float* beta, float* C, int ldc) {
  return gemm(h, opA, opB, m, n, k, alpha, A, CUDA_R_32F, lda, B, CUDA_R_32F, ldb, beta, C, CUDA_R_32F, ldc);
}

// Any mix of fp32 and bf16 operands with fp32 compute; alpha and beta are then host floats. algo is a hint only.
cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t opA, cublasOperation_t opB, int m, int n, int k, const void* alpha,
                            const void* A, cudaDataType ta, int lda, const void* B, cudaDataType tb, int ldb, const void* beta, void* C,
                            cudaDataType tc, int ldc, cublasComputeType_t compute, cublasGemmAlgo_t) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (compute != CUBLAS_COMPUTE_32F || !knownType(ta) || !knownType(tb) || !knownType(tc)) return CUBLAS_STATUS_NOT_SUPPORTED;
  return gemm(h, opA, opB, m, n, k, (const float*)alpha, A, ta, lda, B, tb, ldb, (const float*)beta, C, tc, ldc);
}

}  // namespace

// Every function of api.h's list, each of which must be defined above with its exact signature.
void fillCublas(vgg::cu::Cublas& t) {
#define VGG_EMU_FILL(name, ret, params) t.name = name;
  VGG_CUBLAS_FUNCTIONS(VGG_EMU_FILL)
#undef VGG_EMU_FILL
}

}  // namespace emu
