// The subset of the cuDNN 9 and cuBLAS 12/13 C APIs this backend uses, declared by hand so that the
// addon builds without either library and loads them at run time (loader.cc). Values and layouts follow
// NVIDIA's headers (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h, cublas_api.h); check/api_check.cc
// static_asserts every value, struct size and signature below against the real headers wherever they
// are installed. Enumerators we do not use are left out.
#pragma once
#include <cuda_runtime_api.h>  // cudaStream_t
#include <library_types.h>     // libraryPropertyType
#include <cstddef>
#include <cstdint>

// Opaque handle types carry the same struct tags as the real headers, so the two agree.
struct cudnnContext;
struct cudnnTensorStruct;
struct cudnnFilterStruct;
struct cudnnConvolutionStruct;
struct cudnnPoolingStruct;
struct cudnnActivationStruct;
struct cublasContext;

namespace vgg {
namespace cu {

typedef cudnnContext* cudnnHandle_t;
typedef cudnnTensorStruct* cudnnTensorDescriptor_t;
typedef cudnnFilterStruct* cudnnFilterDescriptor_t;
typedef cudnnConvolutionStruct* cudnnConvolutionDescriptor_t;
typedef cudnnPoolingStruct* cudnnPoolingDescriptor_t;
typedef cudnnActivationStruct* cudnnActivationDescriptor_t;
typedef cublasContext* cublasHandle_t;

enum cudnnStatus_t : int { CUDNN_STATUS_SUCCESS = 0, CUDNN_STATUS_BAD_PARAM = 2000, CUDNN_STATUS_NOT_SUPPORTED = 3000 };
enum cudnnDataType_t : int { CUDNN_DATA_FLOAT = 0, CUDNN_DATA_HALF = 2, CUDNN_DATA_BFLOAT16 = 9 };
enum cudnnTensorFormat_t : int { CUDNN_TENSOR_NCHW = 0, CUDNN_TENSOR_NHWC = 1 };
enum cudnnMathType_t : int { CUDNN_DEFAULT_MATH = 0, CUDNN_TENSOR_OP_MATH = 1, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = 2, CUDNN_FMA_MATH = 3 };
enum cudnnNanPropagation_t : int { CUDNN_NOT_PROPAGATE_NAN = 0, CUDNN_PROPAGATE_NAN = 1 };
enum cudnnConvolutionMode_t : int { CUDNN_CONVOLUTION = 0, CUDNN_CROSS_CORRELATION = 1 };
enum cudnnDeterminism_t : int { CUDNN_NON_DETERMINISTIC = 0, CUDNN_DETERMINISTIC = 1 };
enum cudnnPoolingMode_t : int { CUDNN_POOLING_MAX = 0, CUDNN_POOLING_MAX_DETERMINISTIC = 3 };
enum cudnnBatchNormMode_t : int { CUDNN_BATCHNORM_PER_ACTIVATION = 0, CUDNN_BATCHNORM_SPATIAL = 1, CUDNN_BATCHNORM_SPATIAL_PERSISTENT = 2 };
// The *Ex BatchNorm calls (cudnn_ops.h) and their activation (cudnn_graph.h), deprecated in cuDNN 9 but exported.
enum cudnnBatchNormOps_t : int { CUDNN_BATCHNORM_OPS_BN = 0, CUDNN_BATCHNORM_OPS_BN_ACTIVATION = 1 };
enum cudnnActivationMode_t : int { CUDNN_ACTIVATION_RELU = 1 };
// Algorithms are only passed back from Find*Ex to the call; the counts size the result arrays.
enum cudnnConvolutionFwdAlgo_t : int { CUDNN_CONVOLUTION_FWD_ALGO_COUNT = 8 };
enum cudnnConvolutionBwdDataAlgo_t : int { CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT = 6 };
enum cudnnConvolutionBwdFilterAlgo_t : int { CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT = 7 };

// The graph (backend) API of cudnn_graph.h, for the fused convolution + bias + ReLU candidate (conv_fused.cc):
// descriptors are opaque pointers configured attribute by attribute.
typedef void* cudnnBackendDescriptor_t;
enum cudnnBackendDescriptorType_t : int {
  CUDNN_BACKEND_POINTWISE_DESCRIPTOR = 0, CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR = 1, CUDNN_BACKEND_ENGINE_DESCRIPTOR = 2,
  CUDNN_BACKEND_ENGINECFG_DESCRIPTOR = 3, CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR = 4, CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR = 5,
  CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR = 10, CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR = 13,
  CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR = 15, CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR = 16, CUDNN_BACKEND_TENSOR_DESCRIPTOR = 17 };
enum cudnnBackendAttributeName_t : int {
  CUDNN_ATTR_POINTWISE_MODE = 0, CUDNN_ATTR_POINTWISE_MATH_PREC = 1,
  CUDNN_ATTR_CONVOLUTION_COMP_TYPE = 100, CUDNN_ATTR_CONVOLUTION_CONV_MODE = 101, CUDNN_ATTR_CONVOLUTION_DILATIONS = 102,
  CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES = 103, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS = 104, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS = 105,
  CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS = 106,
  CUDNN_ATTR_ENGINEHEUR_MODE = 200, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH = 201, CUDNN_ATTR_ENGINEHEUR_RESULTS = 202,
  CUDNN_ATTR_ENGINECFG_ENGINE = 300,
  CUDNN_ATTR_EXECUTION_PLAN_HANDLE = 400, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG = 401, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE = 402,
  CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA = 700, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA = 701,
  CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC = 702, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W = 703,
  CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X = 704, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y = 705,
  CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR = 750, CUDNN_ATTR_OPERATION_POINTWISE_XDESC = 751,
  CUDNN_ATTR_OPERATION_POINTWISE_BDESC = 752, CUDNN_ATTR_OPERATION_POINTWISE_YDESC = 753,
  CUDNN_ATTR_OPERATIONGRAPH_HANDLE = 800, CUDNN_ATTR_OPERATIONGRAPH_OPS = 801,
  CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT = 900, CUDNN_ATTR_TENSOR_DATA_TYPE = 901, CUDNN_ATTR_TENSOR_DIMENSIONS = 902,
  CUDNN_ATTR_TENSOR_STRIDES = 903, CUDNN_ATTR_TENSOR_UNIQUE_ID = 906, CUDNN_ATTR_TENSOR_IS_VIRTUAL = 907,
  CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS = 1000, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS = 1001, CUDNN_ATTR_VARIANT_PACK_WORKSPACE = 1003,
  CUDNN_ATTR_ENGINE_GLOBAL_INDEX = 1301, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE = 1303 };
// The C type each attribute value is passed as: handle, cudnnDataType_t, bool, int64_t, float, double, void*,
// cudnnConvolutionMode_t, cudnnBackendHeurMode_t; then cudnnBackendNumericalNote_t, cudnnPointwiseMode_t and
// cudnnBackendDescriptor_t.
enum cudnnBackendAttributeType_t : int {
  CUDNN_TYPE_HANDLE = 0, CUDNN_TYPE_DATA_TYPE = 1, CUDNN_TYPE_BOOLEAN = 2, CUDNN_TYPE_INT64 = 3, CUDNN_TYPE_FLOAT = 4,
  CUDNN_TYPE_DOUBLE = 5, CUDNN_TYPE_VOID_PTR = 6, CUDNN_TYPE_CONVOLUTION_MODE = 7, CUDNN_TYPE_HEUR_MODE = 8,
  CUDNN_TYPE_NUMERICAL_NOTE = 11, CUDNN_TYPE_POINTWISE_MODE = 14, CUDNN_TYPE_BACKEND_DESCRIPTOR = 15 };
enum cudnnPointwiseMode_t : int { CUDNN_POINTWISE_ADD = 0, CUDNN_POINTWISE_RELU_FWD = 100 };
enum cudnnBackendHeurMode_t : int { CUDNN_HEUR_MODE_FALLBACK = 2, CUDNN_HEUR_MODE_A = 3 };
enum cudnnBackendNumericalNote_t : int {
  CUDNN_NUMERICAL_NOTE_TENSOR_CORE = 0, CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS = 1,
  CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION = 2, CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC = 4 };

struct cudnnConvolutionFwdAlgoPerf_t {
  cudnnConvolutionFwdAlgo_t algo;
  cudnnStatus_t status;
  float time;
  size_t memory;
  cudnnDeterminism_t determinism;
  cudnnMathType_t mathType;
  int reserved[3];
};
struct cudnnConvolutionBwdDataAlgoPerf_t {
  cudnnConvolutionBwdDataAlgo_t algo;
  cudnnStatus_t status;
  float time;
  size_t memory;
  cudnnDeterminism_t determinism;
  cudnnMathType_t mathType;
  int reserved[3];
};
struct cudnnConvolutionBwdFilterAlgoPerf_t {
  cudnnConvolutionBwdFilterAlgo_t algo;
  cudnnStatus_t status;
  float time;
  size_t memory;
  cudnnDeterminism_t determinism;
  cudnnMathType_t mathType;
  int reserved[3];
};

enum cublasStatus_t : int { CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_INITIALIZED = 1, CUBLAS_STATUS_ALLOC_FAILED = 3,
                      CUBLAS_STATUS_INVALID_VALUE = 7, CUBLAS_STATUS_ARCH_MISMATCH = 8, CUBLAS_STATUS_EXECUTION_FAILED = 13,
                      CUBLAS_STATUS_INTERNAL_ERROR = 14, CUBLAS_STATUS_NOT_SUPPORTED = 15 };
enum cublasOperation_t : int { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };
enum cublasMath_t : int { CUBLAS_DEFAULT_MATH = 0, CUBLAS_PEDANTIC_MATH = 2, CUBLAS_TF32_TENSOR_OP_MATH = 3,
                          CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION = 16 };
// cublas_api.h; the data types (CUDA_R_32F = 0, CUDA_R_16BF = 14) are cudaDataType from library_types.h.
enum cublasComputeType_t : int { CUBLAS_COMPUTE_32F = 68 };
enum cublasGemmAlgo_t : int { CUBLAS_GEMM_DEFAULT = -1 };

// X(name, return type, parameter list): one line per function, used for the pointer table (loader.cc)
// and the signature checks (check/api_check.cc).
#define VGG_CUDNN_FUNCTIONS(X)                                                                                          \
  X(cudnnGetVersion, size_t, (void))                                                                                    \
  X(cudnnGetCudartVersion, size_t, (void))                                                                              \
  X(cudnnGetErrorString, const char*, (cudnnStatus_t))                                                                  \
  X(cudnnGetLastErrorString, void, (char*, size_t))                                                                     \
  X(cudnnOpsVersionCheck, cudnnStatus_t, (void))                                                                        \
  X(cudnnCnnVersionCheck, cudnnStatus_t, (void))                                                                        \
  X(cudnnCreate, cudnnStatus_t, (cudnnHandle_t*))                                                                       \
  X(cudnnDestroy, cudnnStatus_t, (cudnnHandle_t))                                                                       \
  X(cudnnSetStream, cudnnStatus_t, (cudnnHandle_t, cudaStream_t))                                                       \
  X(cudnnCreateTensorDescriptor, cudnnStatus_t, (cudnnTensorDescriptor_t*))                                             \
  X(cudnnSetTensor4dDescriptor, cudnnStatus_t, (cudnnTensorDescriptor_t, cudnnTensorFormat_t, cudnnDataType_t, int, int, int, int)) \
  X(cudnnDestroyTensorDescriptor, cudnnStatus_t, (cudnnTensorDescriptor_t))                                             \
  X(cudnnCreateFilterDescriptor, cudnnStatus_t, (cudnnFilterDescriptor_t*))                                             \
  X(cudnnSetFilter4dDescriptor, cudnnStatus_t, (cudnnFilterDescriptor_t, cudnnDataType_t, cudnnTensorFormat_t, int, int, int, int)) \
  X(cudnnDestroyFilterDescriptor, cudnnStatus_t, (cudnnFilterDescriptor_t))                                             \
  X(cudnnCreateConvolutionDescriptor, cudnnStatus_t, (cudnnConvolutionDescriptor_t*))                                   \
  X(cudnnSetConvolution2dDescriptor, cudnnStatus_t,                                                                     \
    (cudnnConvolutionDescriptor_t, int, int, int, int, int, int, cudnnConvolutionMode_t, cudnnDataType_t))              \
  X(cudnnSetConvolutionMathType, cudnnStatus_t, (cudnnConvolutionDescriptor_t, cudnnMathType_t))                        \
  X(cudnnDestroyConvolutionDescriptor, cudnnStatus_t, (cudnnConvolutionDescriptor_t))                                   \
  X(cudnnFindConvolutionForwardAlgorithmEx, cudnnStatus_t,                                                              \
    (cudnnHandle_t, cudnnTensorDescriptor_t, const void*, cudnnFilterDescriptor_t, const void*, cudnnConvolutionDescriptor_t, \
     cudnnTensorDescriptor_t, void*, int, int*, cudnnConvolutionFwdAlgoPerf_t*, void*, size_t))                         \
  X(cudnnFindConvolutionBackwardDataAlgorithmEx, cudnnStatus_t,                                                         \
    (cudnnHandle_t, cudnnFilterDescriptor_t, const void*, cudnnTensorDescriptor_t, const void*, cudnnConvolutionDescriptor_t, \
     cudnnTensorDescriptor_t, void*, int, int*, cudnnConvolutionBwdDataAlgoPerf_t*, void*, size_t))                     \
  X(cudnnFindConvolutionBackwardFilterAlgorithmEx, cudnnStatus_t,                                                       \
    (cudnnHandle_t, cudnnTensorDescriptor_t, const void*, cudnnTensorDescriptor_t, const void*, cudnnConvolutionDescriptor_t, \
     cudnnFilterDescriptor_t, void*, int, int*, cudnnConvolutionBwdFilterAlgoPerf_t*, void*, size_t))                   \
  X(cudnnConvolutionForward, cudnnStatus_t,                                                                             \
    (cudnnHandle_t, const void*, cudnnTensorDescriptor_t, const void*, cudnnFilterDescriptor_t, const void*,            \
     cudnnConvolutionDescriptor_t, cudnnConvolutionFwdAlgo_t, void*, size_t, const void*, cudnnTensorDescriptor_t, void*)) \
  X(cudnnConvolutionBackwardData, cudnnStatus_t,                                                                        \
    (cudnnHandle_t, const void*, cudnnFilterDescriptor_t, const void*, cudnnTensorDescriptor_t, const void*,            \
     cudnnConvolutionDescriptor_t, cudnnConvolutionBwdDataAlgo_t, void*, size_t, const void*, cudnnTensorDescriptor_t, void*)) \
  X(cudnnConvolutionBackwardFilter, cudnnStatus_t,                                                                      \
    (cudnnHandle_t, const void*, cudnnTensorDescriptor_t, const void*, cudnnTensorDescriptor_t, const void*,            \
     cudnnConvolutionDescriptor_t, cudnnConvolutionBwdFilterAlgo_t, void*, size_t, const void*, cudnnFilterDescriptor_t, void*)) \
  X(cudnnCreatePoolingDescriptor, cudnnStatus_t, (cudnnPoolingDescriptor_t*))                                           \
  X(cudnnSetPooling2dDescriptor, cudnnStatus_t,                                                                         \
    (cudnnPoolingDescriptor_t, cudnnPoolingMode_t, cudnnNanPropagation_t, int, int, int, int, int, int))                \
  X(cudnnDestroyPoolingDescriptor, cudnnStatus_t, (cudnnPoolingDescriptor_t))                                           \
  X(cudnnPoolingForward, cudnnStatus_t,                                                                                 \
    (cudnnHandle_t, cudnnPoolingDescriptor_t, const void*, cudnnTensorDescriptor_t, const void*, const void*,           \
     cudnnTensorDescriptor_t, void*))                                                                                   \
  X(cudnnPoolingBackward, cudnnStatus_t,                                                                                \
    (cudnnHandle_t, cudnnPoolingDescriptor_t, const void*, cudnnTensorDescriptor_t, const void*, cudnnTensorDescriptor_t, \
     const void*, cudnnTensorDescriptor_t, const void*, const void*, cudnnTensorDescriptor_t, void*))                   \
  X(cudnnBatchNormalizationForwardTraining, cudnnStatus_t,                                                              \
    (cudnnHandle_t, cudnnBatchNormMode_t, const void*, const void*, cudnnTensorDescriptor_t, const void*,               \
     cudnnTensorDescriptor_t, void*, cudnnTensorDescriptor_t, const void*, const void*, double, void*, void*, double,    \
     void*, void*))                                                                                                     \
  X(cudnnBatchNormalizationForwardInference, cudnnStatus_t,                                                             \
    (cudnnHandle_t, cudnnBatchNormMode_t, const void*, const void*, cudnnTensorDescriptor_t, const void*,               \
     cudnnTensorDescriptor_t, void*, cudnnTensorDescriptor_t, const void*, const void*, const void*, const void*, double)) \
  X(cudnnBatchNormalizationBackward, cudnnStatus_t,                                                                     \
    (cudnnHandle_t, cudnnBatchNormMode_t, const void*, const void*, const void*, const void*, cudnnTensorDescriptor_t,  \
     const void*, cudnnTensorDescriptor_t, const void*, cudnnTensorDescriptor_t, void*, cudnnTensorDescriptor_t,        \
     const void*, void*, void*, double, const void*, const void*))                                                  \
  X(cudnnCreateActivationDescriptor, cudnnStatus_t, (cudnnActivationDescriptor_t*))                                     \
  X(cudnnSetActivationDescriptor, cudnnStatus_t, (cudnnActivationDescriptor_t, cudnnActivationMode_t, cudnnNanPropagation_t, double)) \
  X(cudnnDestroyActivationDescriptor, cudnnStatus_t, (cudnnActivationDescriptor_t))                                     \
  X(cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize, cudnnStatus_t,                                            \
    (cudnnHandle_t, cudnnBatchNormMode_t, cudnnBatchNormOps_t, cudnnTensorDescriptor_t, cudnnTensorDescriptor_t,        \
     cudnnTensorDescriptor_t, cudnnTensorDescriptor_t, cudnnActivationDescriptor_t, size_t*))                           \
  X(cudnnGetBatchNormalizationBackwardExWorkspaceSize, cudnnStatus_t,                                                   \
    (cudnnHandle_t, cudnnBatchNormMode_t, cudnnBatchNormOps_t, cudnnTensorDescriptor_t, cudnnTensorDescriptor_t,        \
     cudnnTensorDescriptor_t, cudnnTensorDescriptor_t, cudnnTensorDescriptor_t, cudnnTensorDescriptor_t,                \
     cudnnActivationDescriptor_t, size_t*))                                                                             \
  X(cudnnGetBatchNormalizationTrainingExReserveSpaceSize, cudnnStatus_t,                                                \
    (cudnnHandle_t, cudnnBatchNormMode_t, cudnnBatchNormOps_t, cudnnActivationDescriptor_t, cudnnTensorDescriptor_t, size_t*)) \
  X(cudnnBatchNormalizationForwardTrainingEx, cudnnStatus_t,                                                            \
    (cudnnHandle_t, cudnnBatchNormMode_t, cudnnBatchNormOps_t, const void*, const void*, cudnnTensorDescriptor_t,       \
     const void*, cudnnTensorDescriptor_t, const void*, cudnnTensorDescriptor_t, void*, cudnnTensorDescriptor_t,        \
     const void*, const void*, double, void*, void*, double, void*, void*, cudnnActivationDescriptor_t, void*, size_t,  \
     void*, size_t))                                                                                                    \
  X(cudnnBatchNormalizationBackwardEx, cudnnStatus_t,                                                                   \
    (cudnnHandle_t, cudnnBatchNormMode_t, cudnnBatchNormOps_t, const void*, const void*, const void*, const void*,      \
     cudnnTensorDescriptor_t, const void*, cudnnTensorDescriptor_t, const void*, cudnnTensorDescriptor_t, const void*,  \
     cudnnTensorDescriptor_t, void*, cudnnTensorDescriptor_t, void*, cudnnTensorDescriptor_t, const void*, const void*, \
     void*, void*, double, const void*, const void*, cudnnActivationDescriptor_t, void*, size_t, void*, size_t))        \
  X(cudnnBackendCreateDescriptor, cudnnStatus_t, (cudnnBackendDescriptorType_t, cudnnBackendDescriptor_t*))             \
  X(cudnnBackendDestroyDescriptor, cudnnStatus_t, (cudnnBackendDescriptor_t))                                           \
  X(cudnnBackendFinalize, cudnnStatus_t, (cudnnBackendDescriptor_t))                                                    \
  X(cudnnBackendSetAttribute, cudnnStatus_t,                                                                            \
    (cudnnBackendDescriptor_t, cudnnBackendAttributeName_t, cudnnBackendAttributeType_t, int64_t, const void*))         \
  X(cudnnBackendGetAttribute, cudnnStatus_t,                                                                            \
    (cudnnBackendDescriptor_t, cudnnBackendAttributeName_t, cudnnBackendAttributeType_t, int64_t, int64_t*, void*))     \
  X(cudnnBackendExecute, cudnnStatus_t, (cudnnHandle_t, cudnnBackendDescriptor_t, cudnnBackendDescriptor_t))

#define VGG_CUBLAS_FUNCTIONS(X)                                                                                         \
  X(cublasGetProperty, cublasStatus_t, (libraryPropertyType, int*))                                                     \
  X(cublasGetStatusString, const char*, (cublasStatus_t))                                                               \
  X(cublasCreate_v2, cublasStatus_t, (cublasHandle_t*))                                                                 \
  X(cublasDestroy_v2, cublasStatus_t, (cublasHandle_t))                                                                 \
  X(cublasSetStream_v2, cublasStatus_t, (cublasHandle_t, cudaStream_t))                                                 \
  X(cublasSetMathMode, cublasStatus_t, (cublasHandle_t, cublasMath_t))                                                  \
  X(cublasSgemm_v2, cublasStatus_t,                                                                                     \
    (cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const float*, const float*, int, const float*, \
     int, const float*, float*, int))                                                                                   \
  X(cublasGemmEx, cublasStatus_t,                                                                                       \
    (cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*, const void*, cudaDataType, int,  \
     const void*, cudaDataType, int, const void*, void*, cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t))

#define VGG_DECLARE_PFN(name, ret, params) typedef ret(*PFN_##name) params;
VGG_CUDNN_FUNCTIONS(VGG_DECLARE_PFN)
VGG_CUBLAS_FUNCTIONS(VGG_DECLARE_PFN)
#undef VGG_DECLARE_PFN

#define VGG_DECLARE_MEMBER(name, ret, params) PFN_##name name = nullptr;
struct Cudnn { VGG_CUDNN_FUNCTIONS(VGG_DECLARE_MEMBER) };
struct Cublas { VGG_CUBLAS_FUNCTIONS(VGG_DECLARE_MEMBER) };
#undef VGG_DECLARE_MEMBER

}  // namespace cu
}  // namespace vgg
