// Compiled only where NVIDIA's real cudnn.h and cublas_v2.h are present (CMake's hook): checks every
// value, struct layout and function signature that cuda/api.h declares by hand against them. A mismatch
// fails the build with the name of the declaration.
#include <cublas_v2.h>
#include <cudnn.h>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include "cuda/api.h"

namespace cu = vgg::cu;

// ---------- values ----------
#define VGG_SAME_VALUE(name) static_assert((long long)cu::name == (long long)::name, "api.h: wrong value of " #name);
VGG_SAME_VALUE(CUDNN_STATUS_SUCCESS)
VGG_SAME_VALUE(CUDNN_STATUS_BAD_PARAM)
VGG_SAME_VALUE(CUDNN_STATUS_NOT_SUPPORTED)
VGG_SAME_VALUE(CUDNN_DATA_FLOAT)
VGG_SAME_VALUE(CUDNN_DATA_HALF)
VGG_SAME_VALUE(CUDNN_DATA_BFLOAT16)
VGG_SAME_VALUE(CUDNN_TENSOR_NCHW)
VGG_SAME_VALUE(CUDNN_TENSOR_NHWC)
VGG_SAME_VALUE(CUDNN_DEFAULT_MATH)
VGG_SAME_VALUE(CUDNN_TENSOR_OP_MATH)
VGG_SAME_VALUE(CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
VGG_SAME_VALUE(CUDNN_FMA_MATH)
VGG_SAME_VALUE(CUDNN_NOT_PROPAGATE_NAN)
VGG_SAME_VALUE(CUDNN_PROPAGATE_NAN)
VGG_SAME_VALUE(CUDNN_CONVOLUTION)
VGG_SAME_VALUE(CUDNN_CROSS_CORRELATION)
VGG_SAME_VALUE(CUDNN_NON_DETERMINISTIC)
VGG_SAME_VALUE(CUDNN_DETERMINISTIC)
VGG_SAME_VALUE(CUDNN_POOLING_MAX)
VGG_SAME_VALUE(CUDNN_POOLING_MAX_DETERMINISTIC)
VGG_SAME_VALUE(CUDNN_BATCHNORM_PER_ACTIVATION)
VGG_SAME_VALUE(CUDNN_BATCHNORM_SPATIAL)
VGG_SAME_VALUE(CUDNN_BATCHNORM_SPATIAL_PERSISTENT)
VGG_SAME_VALUE(CUDNN_BATCHNORM_OPS_BN)
VGG_SAME_VALUE(CUDNN_BATCHNORM_OPS_BN_ACTIVATION)
VGG_SAME_VALUE(CUDNN_ACTIVATION_RELU)
VGG_SAME_VALUE(CUDNN_CONVOLUTION_FWD_ALGO_COUNT)
VGG_SAME_VALUE(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT)
VGG_SAME_VALUE(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT)
// The graph API (conv_fused.cc).
VGG_SAME_VALUE(CUDNN_BACKEND_POINTWISE_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_BACKEND_ENGINE_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_BACKEND_TENSOR_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_ATTR_POINTWISE_MODE)
VGG_SAME_VALUE(CUDNN_ATTR_POINTWISE_MATH_PREC)
VGG_SAME_VALUE(CUDNN_ATTR_CONVOLUTION_COMP_TYPE)
VGG_SAME_VALUE(CUDNN_ATTR_CONVOLUTION_CONV_MODE)
VGG_SAME_VALUE(CUDNN_ATTR_CONVOLUTION_DILATIONS)
VGG_SAME_VALUE(CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES)
VGG_SAME_VALUE(CUDNN_ATTR_CONVOLUTION_POST_PADDINGS)
VGG_SAME_VALUE(CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS)
VGG_SAME_VALUE(CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS)
VGG_SAME_VALUE(CUDNN_ATTR_ENGINEHEUR_MODE)
VGG_SAME_VALUE(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH)
VGG_SAME_VALUE(CUDNN_ATTR_ENGINEHEUR_RESULTS)
VGG_SAME_VALUE(CUDNN_ATTR_ENGINECFG_ENGINE)
VGG_SAME_VALUE(CUDNN_ATTR_EXECUTION_PLAN_HANDLE)
VGG_SAME_VALUE(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG)
VGG_SAME_VALUE(CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE)
VGG_SAME_VALUE(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA)
VGG_SAME_VALUE(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA)
VGG_SAME_VALUE(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC)
VGG_SAME_VALUE(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W)
VGG_SAME_VALUE(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X)
VGG_SAME_VALUE(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y)
VGG_SAME_VALUE(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_ATTR_OPERATION_POINTWISE_XDESC)
VGG_SAME_VALUE(CUDNN_ATTR_OPERATION_POINTWISE_BDESC)
VGG_SAME_VALUE(CUDNN_ATTR_OPERATION_POINTWISE_YDESC)
VGG_SAME_VALUE(CUDNN_ATTR_OPERATIONGRAPH_HANDLE)
VGG_SAME_VALUE(CUDNN_ATTR_OPERATIONGRAPH_OPS)
VGG_SAME_VALUE(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT)
VGG_SAME_VALUE(CUDNN_ATTR_TENSOR_DATA_TYPE)
VGG_SAME_VALUE(CUDNN_ATTR_TENSOR_DIMENSIONS)
VGG_SAME_VALUE(CUDNN_ATTR_TENSOR_STRIDES)
VGG_SAME_VALUE(CUDNN_ATTR_TENSOR_UNIQUE_ID)
VGG_SAME_VALUE(CUDNN_ATTR_TENSOR_IS_VIRTUAL)
VGG_SAME_VALUE(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS)
VGG_SAME_VALUE(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS)
VGG_SAME_VALUE(CUDNN_ATTR_VARIANT_PACK_WORKSPACE)
VGG_SAME_VALUE(CUDNN_ATTR_ENGINE_GLOBAL_INDEX)
VGG_SAME_VALUE(CUDNN_ATTR_ENGINE_NUMERICAL_NOTE)
VGG_SAME_VALUE(CUDNN_TYPE_HANDLE)
VGG_SAME_VALUE(CUDNN_TYPE_DATA_TYPE)
VGG_SAME_VALUE(CUDNN_TYPE_BOOLEAN)
VGG_SAME_VALUE(CUDNN_TYPE_INT64)
VGG_SAME_VALUE(CUDNN_TYPE_FLOAT)
VGG_SAME_VALUE(CUDNN_TYPE_DOUBLE)
VGG_SAME_VALUE(CUDNN_TYPE_VOID_PTR)
VGG_SAME_VALUE(CUDNN_TYPE_CONVOLUTION_MODE)
VGG_SAME_VALUE(CUDNN_TYPE_HEUR_MODE)
VGG_SAME_VALUE(CUDNN_TYPE_NUMERICAL_NOTE)
VGG_SAME_VALUE(CUDNN_TYPE_POINTWISE_MODE)
VGG_SAME_VALUE(CUDNN_TYPE_BACKEND_DESCRIPTOR)
VGG_SAME_VALUE(CUDNN_POINTWISE_ADD)
VGG_SAME_VALUE(CUDNN_POINTWISE_RELU_FWD)
VGG_SAME_VALUE(CUDNN_HEUR_MODE_FALLBACK)
VGG_SAME_VALUE(CUDNN_HEUR_MODE_A)
VGG_SAME_VALUE(CUDNN_NUMERICAL_NOTE_TENSOR_CORE)
VGG_SAME_VALUE(CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS)
VGG_SAME_VALUE(CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION)
VGG_SAME_VALUE(CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC)
VGG_SAME_VALUE(CUBLAS_STATUS_SUCCESS)
VGG_SAME_VALUE(CUBLAS_STATUS_NOT_INITIALIZED)
VGG_SAME_VALUE(CUBLAS_STATUS_ALLOC_FAILED)
VGG_SAME_VALUE(CUBLAS_STATUS_INVALID_VALUE)
VGG_SAME_VALUE(CUBLAS_STATUS_ARCH_MISMATCH)
VGG_SAME_VALUE(CUBLAS_STATUS_EXECUTION_FAILED)
VGG_SAME_VALUE(CUBLAS_STATUS_INTERNAL_ERROR)
VGG_SAME_VALUE(CUBLAS_STATUS_NOT_SUPPORTED)
VGG_SAME_VALUE(CUBLAS_OP_N)
VGG_SAME_VALUE(CUBLAS_OP_T)
VGG_SAME_VALUE(CUBLAS_DEFAULT_MATH)
VGG_SAME_VALUE(CUBLAS_PEDANTIC_MATH)
VGG_SAME_VALUE(CUBLAS_TF32_TENSOR_OP_MATH)
VGG_SAME_VALUE(CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION)
VGG_SAME_VALUE(CUBLAS_COMPUTE_32F)
VGG_SAME_VALUE(CUBLAS_GEMM_DEFAULT)
// cudaDataType values linear.cc passes to cublasGemmEx (library_types.h, not redeclared: checked for drift).
static_assert(CUDA_R_32F == 0 && CUDA_R_16BF == 14, "library_types.h: cudaDataType values changed");

// ---------- types: our declaration -> the real one ----------
template <class T> struct Real { using type = T; };
template <class T> struct Real<T*> { using type = typename Real<T>::type*; };
template <class T> struct Real<const T> { using type = const typename Real<T>::type; };
template <class R, class... A> struct Real<R (*)(A...)> { using type = typename Real<R>::type (*)(typename Real<A>::type...); };
#define VGG_MAP(ours, theirs) template <> struct Real<cu::ours> { using type = ::theirs; };
VGG_MAP(cudnnStatus_t, cudnnStatus_t)
VGG_MAP(cudnnDataType_t, cudnnDataType_t)
VGG_MAP(cudnnTensorFormat_t, cudnnTensorFormat_t)
VGG_MAP(cudnnMathType_t, cudnnMathType_t)
VGG_MAP(cudnnNanPropagation_t, cudnnNanPropagation_t)
VGG_MAP(cudnnConvolutionMode_t, cudnnConvolutionMode_t)
VGG_MAP(cudnnDeterminism_t, cudnnDeterminism_t)
VGG_MAP(cudnnPoolingMode_t, cudnnPoolingMode_t)
VGG_MAP(cudnnBatchNormMode_t, cudnnBatchNormMode_t)
VGG_MAP(cudnnBatchNormOps_t, cudnnBatchNormOps_t)
VGG_MAP(cudnnActivationMode_t, cudnnActivationMode_t)
VGG_MAP(cudnnConvolutionFwdAlgo_t, cudnnConvolutionFwdAlgo_t)
VGG_MAP(cudnnConvolutionBwdDataAlgo_t, cudnnConvolutionBwdDataAlgo_t)
VGG_MAP(cudnnConvolutionBwdFilterAlgo_t, cudnnConvolutionBwdFilterAlgo_t)
VGG_MAP(cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgoPerf_t)
VGG_MAP(cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgoPerf_t)
VGG_MAP(cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgoPerf_t)
VGG_MAP(cudnnBackendDescriptorType_t, cudnnBackendDescriptorType_t)
VGG_MAP(cudnnBackendAttributeName_t, cudnnBackendAttributeName_t)
VGG_MAP(cudnnBackendAttributeType_t, cudnnBackendAttributeType_t)
VGG_MAP(cudnnPointwiseMode_t, cudnnPointwiseMode_t)
VGG_MAP(cudnnBackendHeurMode_t, cudnnBackendHeurMode_t)
VGG_MAP(cudnnBackendNumericalNote_t, cudnnBackendNumericalNote_t)
VGG_MAP(cublasStatus_t, cublasStatus_t)
VGG_MAP(cublasOperation_t, cublasOperation_t)
VGG_MAP(cublasMath_t, cublasMath_t)
VGG_MAP(cublasComputeType_t, cublasComputeType_t)
VGG_MAP(cublasGemmAlgo_t, cublasGemmAlgo_t)

// Handles are the same types (same struct tags).
static_assert(std::is_same<cu::cudnnHandle_t, ::cudnnHandle_t>::value, "cudnnHandle_t");
static_assert(std::is_same<cu::cudnnTensorDescriptor_t, ::cudnnTensorDescriptor_t>::value, "cudnnTensorDescriptor_t");
static_assert(std::is_same<cu::cudnnFilterDescriptor_t, ::cudnnFilterDescriptor_t>::value, "cudnnFilterDescriptor_t");
static_assert(std::is_same<cu::cudnnConvolutionDescriptor_t, ::cudnnConvolutionDescriptor_t>::value, "cudnnConvolutionDescriptor_t");
static_assert(std::is_same<cu::cudnnPoolingDescriptor_t, ::cudnnPoolingDescriptor_t>::value, "cudnnPoolingDescriptor_t");
static_assert(std::is_same<cu::cudnnActivationDescriptor_t, ::cudnnActivationDescriptor_t>::value, "cudnnActivationDescriptor_t");
static_assert(std::is_same<cu::cublasHandle_t, ::cublasHandle_t>::value, "cublasHandle_t");
static_assert(std::is_same<cu::cudnnBackendDescriptor_t, ::cudnnBackendDescriptor_t>::value, "cudnnBackendDescriptor_t");

// Enums are passed by value: same size as the real ones.
#define VGG_SAME_SIZE(t) static_assert(sizeof(cu::t) == sizeof(::t) && alignof(cu::t) == alignof(::t), "api.h: size of " #t);
VGG_SAME_SIZE(cudnnStatus_t)
VGG_SAME_SIZE(cudnnDataType_t)
VGG_SAME_SIZE(cudnnMathType_t)
VGG_SAME_SIZE(cudnnConvolutionFwdAlgo_t)
VGG_SAME_SIZE(cudnnBatchNormMode_t)
VGG_SAME_SIZE(cudnnBatchNormOps_t)
VGG_SAME_SIZE(cudnnActivationMode_t)
VGG_SAME_SIZE(cudnnBackendDescriptorType_t)
VGG_SAME_SIZE(cudnnBackendAttributeName_t)
VGG_SAME_SIZE(cudnnBackendAttributeType_t)
VGG_SAME_SIZE(cudnnPointwiseMode_t)
VGG_SAME_SIZE(cudnnBackendHeurMode_t)
VGG_SAME_SIZE(cudnnBackendNumericalNote_t)
VGG_SAME_SIZE(cublasStatus_t)
VGG_SAME_SIZE(cublasOperation_t)
VGG_SAME_SIZE(cublasMath_t)
VGG_SAME_SIZE(cublasComputeType_t)
VGG_SAME_SIZE(cublasGemmAlgo_t)

// ---------- struct layouts ----------
#define VGG_SAME_FIELD(t, f) static_assert(offsetof(cu::t, f) == offsetof(::t, f), "api.h: offset of " #t "." #f);
#define VGG_PERF(t)                                                                                     \
  VGG_SAME_SIZE(t)                                                                                      \
  VGG_SAME_FIELD(t, algo) VGG_SAME_FIELD(t, status) VGG_SAME_FIELD(t, time) VGG_SAME_FIELD(t, memory) \
  VGG_SAME_FIELD(t, determinism) VGG_SAME_FIELD(t, mathType) VGG_SAME_FIELD(t, reserved)
VGG_PERF(cudnnConvolutionFwdAlgoPerf_t)
VGG_PERF(cudnnConvolutionBwdDataAlgoPerf_t)
VGG_PERF(cudnnConvolutionBwdFilterAlgoPerf_t)

// ---------- function signatures ----------
// Overload-proof: C++ sees some functions overloaded (cublas_api.h adds an inline cublasGemmEx taking the
// pre-11 cudaDataType compute type), so decltype(&::name) would be ambiguous. Passing &::name to `matches`
// picks the overload of exactly our type if there is one (true_type), else a lone function of another
// type falls to the ellipsis (false_type).
template <class P> std::true_type matches(P);
template <class P> std::false_type matches(...);
#define VGG_SAME_SIGNATURE(name, ret, params)                                                   \
  static_assert(decltype(matches<Real<cu::PFN_##name>::type>(&::name))::value, \
                "api.h: signature of " #name " differs from the real header");
VGG_CUDNN_FUNCTIONS(VGG_SAME_SIGNATURE)
VGG_CUBLAS_FUNCTIONS(VGG_SAME_SIGNATURE)

// `matches` would also accept api.h declaring cublasGemmEx with the inline wrapper's cudaDataType compute
// type, which is not the exported symbol we dlsym: pin the parameter.
template <int I, class F> struct Param;
template <int I, class R, class... A> struct Param<I, R (*)(A...)> { using type = typename std::tuple_element<I, std::tuple<A...>>::type; };
static_assert(std::is_same<Param<17, cu::PFN_cublasGemmEx>::type, cu::cublasComputeType_t>::value,
              "api.h: cublasGemmEx must take cublasComputeType_t (the exported symbol), not cudaDataType");
