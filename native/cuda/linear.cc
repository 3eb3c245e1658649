// Linear layers through cuBLAS. cuBLAS is column-major: a row-major [R, C] matrix is its column-major
// transpose with leading dimension C, so y = x w^T becomes y^T = w^T' x^T in cuBLAS terms.
// float32: SGEMM (TF32 as the handle's math mode says). bfloat16: GemmEx with bf16 A and B, fp32
// accumulation (CUBLAS_COMPUTE_32F; split-K reductions in fp32 too, see blasMathMode in memory.cc), C in
// bf16, or fp32 for an fp32 weight gradient.
#include "cuda/cuda_backend.h"

namespace vgg {

namespace {

cudaDataType blasType(DType t) { return t == DType::bf16 ? CUDA_R_16BF : CUDA_R_32F; }

// C [m x n] = op(A) [m x k] * op(B) [k x n], column-major; A and B of dtype ab, C of dtype cType.
void gemm(const char* op, cu::cublasHandle_t h, cu::cublasOperation_t ta, cu::cublasOperation_t tb, int m, int n, int k, const void* A,
          int lda, const void* B, int ldb, DType ab, void* C, int ldc, DType cType) {
  const float one = 1.0f, zero = 0.0f;
  if (ab == DType::f32 && cType == DType::f32) {
    VGG_CUBLAS_CALL(op, cublasSgemm_v2, h, ta, tb, m, n, k, &one, (const float*)A, lda, (const float*)B, ldb, &zero, (float*)C, ldc);
    return;
  }
  if (!cuda().blas().cublasGemmEx)
    throw BackendErr(op, "cublasGemmEx", "the cuBLAS at " + cudaLibraries().cublasInfo.path + " lacks cublasGemmEx (bfloat16 needs it)");
  // Scale factors are float with CUBLAS_COMPUTE_32F.
  VGG_CUBLAS_CALL(op, cublasGemmEx, h, ta, tb, m, n, k, &one, A, blasType(ab), lda, B, blasType(ab), ldb, &zero, C, blasType(cType), ldc,
                  cu::CUBLAS_COMPUTE_32F, cu::CUBLAS_GEMM_DEFAULT);
}

}  // namespace

void CudaBackend::linearForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, bool fuseRelu) {
  const char* op = "linearForward";
  requireActivation(op, {&x, &w, &y});
  Context& c = ctx(op);
  int N = (int)x.shape[0], K = (int)(x.numel() / x.shape[0]), M = (int)w.shape[0];
  // y^T [M x N] = (w as K x M)^T * (x as K x N)
  gemm(op, c.blas, cu::CUBLAS_OP_T, cu::CUBLAS_OP_N, M, N, K, w.data(), K, x.data(), K, x.dtype, y.data(), M, y.dtype);
  if (b || fuseRelu) launchBiasAct(op, y.data(), y.dtype, b ? b->as<float>() : nullptr, channelView(y), fuseRelu, c.stream);
}

void CudaBackend::linearBackward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor* dx, const Tensor& dw, const Tensor* db) {
  const char* op = "linearBackward";
  requireActivation(op, {&x, &w, &dy, dx, &dw});
  Context& c = ctx(op);
  int N = (int)x.shape[0], K = (int)(x.numel() / x.shape[0]), M = (int)w.shape[0];
  if (dx)  // dx^T [K x N] = (w as K x M) * (dy as M x N)
    gemm(op, c.blas, cu::CUBLAS_OP_N, cu::CUBLAS_OP_N, K, N, M, w.data(), K, dy.data(), M, x.dtype, dx->data(), K, dx->dtype);
  // dw^T [K x M] = (x as K x N) * (dy as M x N)^T
  gemm(op, c.blas, cu::CUBLAS_OP_N, cu::CUBLAS_OP_T, K, M, N, x.data(), K, dy.data(), M, x.dtype, dw.data(), K, dw.dtype);
  if (db) launchBiasGrad(op, dy.data(), dy.dtype, db->as<float>(), channelView(dy), c.stream);
}

}  // namespace vgg
