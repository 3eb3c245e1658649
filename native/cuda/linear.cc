// Linear layers through cuBLAS SGEMM. cuBLAS is column-major: a row-major [R, C] matrix is its
// column-major transpose with leading dimension C, so y = x w^T becomes y^T = w^T' x^T in cuBLAS terms.
#include "cuda/cuda_backend.h"

namespace vgg {

void CudaBackend::linearForward(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& y, bool fuseRelu) {
  const char* op = "linearForward";
  requirePlainF32(op, {&x, &w, b, &y});
  Context& c = ctx(op);
  int N = (int)x.shape[0], K = (int)(x.numel() / x.shape[0]), M = (int)w.shape[0];
  const float one = 1.0f, zero = 0.0f;
  // y^T [M x N] = (w as K x M)^T * (x as K x N)
  VGG_CUBLAS_CALL(op, cublasSgemm_v2, c.blas, cu::CUBLAS_OP_T, cu::CUBLAS_OP_N, M, N, K, &one, w.as<float>(), K, x.as<float>(), K, &zero,
                  y.as<float>(), M);
  if (b || fuseRelu) launchBiasAct(op, y.as<float>(), b ? b->as<float>() : nullptr, N, M, 1, fuseRelu, c.stream);
}

void CudaBackend::linearBackward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor* dx, const Tensor& dw, const Tensor* db) {
  const char* op = "linearBackward";
  requirePlainF32(op, {&x, &w, &dy, dx, &dw, db});
  Context& c = ctx(op);
  int N = (int)x.shape[0], K = (int)(x.numel() / x.shape[0]), M = (int)w.shape[0];
  const float one = 1.0f, zero = 0.0f;
  if (dx)  // dx^T [K x N] = (w as K x M) * (dy as M x N)
    VGG_CUBLAS_CALL(op, cublasSgemm_v2, c.blas, cu::CUBLAS_OP_N, cu::CUBLAS_OP_N, K, N, M, &one, w.as<float>(), K, dy.as<float>(), M, &zero,
                    dx->as<float>(), K);
  // dw^T [K x M] = (x as K x N) * (dy as M x N)^T
  VGG_CUBLAS_CALL(op, cublasSgemm_v2, c.blas, cu::CUBLAS_OP_N, cu::CUBLAS_OP_T, K, M, N, &one, x.as<float>(), K, dy.as<float>(), M, &zero,
                  dw.as<float>(), K);
  if (db) launchBiasGrad(op, dy.as<float>(), db->as<float>(), N, M, 1, c.stream);
}

}  // namespace vgg
